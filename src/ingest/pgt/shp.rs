//! PGT layers as ESRI Shapefiles.
//!
//! The DBF is read with its bytes kept as they are, then every text value is decoded with the
//! layer's code page (the mapping's `codifica` for the layer, else the `.cpg`, else the
//! mapping's default): a value that is not valid in that code page is reported with its record
//! and field, and read as Windows-1252 rather than turned silently into mojibake.

use geo::Coord;
use shapefile::dbase::{self, FieldValue};
use shapefile::{Shape, ShapeReader};

use super::geometry::esri_to_multipolygon;
use super::mapping::Mappatura;
use super::{
    empty_layer, number_text, open, read_text, unknown_layer, Attributes, LayerSink, PgtError,
    PgtRead, Schema, Source,
};
use crate::crs::{self, ToLonLat};

/// The DBF is read as `x-user-defined`, which maps every byte to a char (ASCII as itself, the
/// others to U+F780–U+F7FF) and back without loss, so that the bytes of text fields can be
/// recovered and decoded afterwards, field by field.
fn raw_encoding() -> dbase::encoding::EncodingRs {
    dbase::encoding::EncodingRs::from(encoding_rs::X_USER_DEFINED)
}

fn raw_bytes(s: &str) -> Vec<u8> {
    let byte = |c: char| match u32::from(c) {
        c @ 0..=0x7F => u8::try_from(c).ok(),
        c @ 0xF780..=0xF7FF => u8::try_from(c - 0xF700).ok(),
        _ => None,
    };
    match s.chars().map(byte).collect::<Option<Vec<u8>>>() {
        Some(bytes) => bytes,
        // A value starting with a UTF-8 byte order mark was decoded as UTF-8.
        None => s.as_bytes().to_vec(),
    }
}

/// Decodes text fields with the layer's code page and remembers the values that were not
/// valid in it.
struct Decoder {
    encoding: &'static encoding_rs::Encoding,
    /// Where the encoding was declared, for the message.
    declared_by: String,
    /// First bad value: record, field, the value read as Windows-1252.
    first_bad: Option<(usize, String, String)>,
    bad_count: usize,
}

impl Decoder {
    fn text(&mut self, n: usize, field: &str, raw: &str) -> String {
        let bytes = raw_bytes(raw);
        if let Some(s) = self
            .encoding
            .decode_without_bom_handling_and_without_replacement(&bytes)
        {
            return s.into_owned();
        }
        let (fallback, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&bytes);
        let fallback = fallback.into_owned();
        self.bad_count += 1;
        if self.first_bad.is_none() {
            self.first_bad = Some((n, field.to_string(), fallback.clone()));
        }
        fallback
    }

    fn value(&mut self, n: usize, field: &str, value: FieldValue) -> Option<String> {
        match value {
            FieldValue::Character(s) => s.map(|s| self.text(n, field, &s)),
            FieldValue::Memo(s) => Some(self.text(n, field, &s)),
            FieldValue::Numeric(v) => v.map(number_text),
            FieldValue::Float(v) => v.map(|v| number_text(f64::from(v))),
            FieldValue::Double(v) | FieldValue::Currency(v) => Some(number_text(v)),
            FieldValue::Integer(v) => Some(v.to_string()),
            FieldValue::Logical(v) => v.map(|b| if b { "T" } else { "F" }.to_string()),
            FieldValue::Date(d) => {
                d.map(|d| format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
            }
            FieldValue::DateTime(dt) => {
                let d = dt.date();
                Some(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
            }
        }
    }
}

pub(super) fn read(
    source: &Source,
    mappatura: &Mappatura,
    out: &mut PgtRead,
) -> Result<(), PgtError> {
    let label = &source.label;
    let Some((rule, _)) = mappatura.rule_for(&[source.stem.as_str()]) else {
        out.avvisi
            .push(unknown_layer(label, &source.stem, mappatura));
        return Ok(());
    };
    let shx = source.required("shx")?;
    let dbf = source.required("dbf")?;
    let prj = source
        .companion("prj")
        .ok_or_else(|| PgtError::MissingPrj {
            path: source.path.with_extension("prj"),
            layer: source.stem.clone(),
        })?;
    let wkt = read_text(&prj)?;
    let prj_crs = crs::crs_from_prj(&wkt).map_err(|source| PgtError::Crs {
        path: prj.clone(),
        source,
    })?;
    let to_lonlat = ToLonLat::from_prj(&prj_crs).map_err(|source| PgtError::Crs {
        path: prj.clone(),
        source,
    })?;
    if !prj_crs.differences.is_empty() {
        let prj_name = prj
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let list = prj_crs.differences_text();
        out.avvisi.push(format!(
            "PGT {label}: il file {prj_name} dichiara EPSG:{} ma non ne ha i parametri ({list}): \
             le coordinate sono trasformate con i parametri scritti nel file",
            prj_crs.epsg
        ));
    }

    let dbf_name = dbf
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (encoding, declared_by) = match (rule.codifica, source.companion("cpg")) {
        (Some(e), _) => (e, format!("dichiarata dalla mappatura ({})", rule.origine)),
        (None, Some(cpg)) => {
            let label_text = read_text(&cpg)?;
            let cpg_name = cpg
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match super::encoding_from_cpg(&label_text) {
                Some(e) => (e, format!("dichiarata dal file {cpg_name}")),
                None => {
                    out.avvisi.push(format!(
                        "PGT {label}: codifica {:?} del file {cpg_name} non riconosciuta: il DBF è \
                         letto come {}",
                        label_text.trim(),
                        mappatura.codifica.name()
                    ));
                    (
                        mappatura.codifica,
                        "predefinita della mappatura".to_string(),
                    )
                }
            }
        }
        (None, None) => (
            mappatura.codifica,
            "predefinita della mappatura".to_string(),
        ),
    };

    let mut shapes =
        ShapeReader::with_shx(open(&source.path)?, open(&shx)?).map_err(|e| PgtError::Invalid {
            path: source.path.clone(),
            message: format!("shapefile illeggibile: {e}"),
        })?;
    let mut records = dbase::ReaderBuilder::new()
        .with_encoding(raw_encoding())
        .build(open(&dbf)?)
        .map_err(|e| PgtError::Dbf {
            path: dbf.clone(),
            record: None,
            message: e.to_string(),
        })?;

    let shape_count = shapes.shape_count().map_err(|e| PgtError::Invalid {
        path: shx.clone(),
        message: format!("indice .shx illeggibile: {e}"),
    })?;
    let record_count = records.header().num_records as usize;
    if shape_count != record_count {
        return Err(PgtError::Invalid {
            path: dbf.clone(),
            message: format!(
                "il DBF ha {record_count} record ma il layer {} ha {shape_count} geometrie",
                source.stem
            ),
        });
    }
    if shape_count == 0 {
        out.avvisi.push(empty_layer(label, &source.stem));
        return Ok(());
    }

    let schema = Schema::new(records.fields().iter().map(|f| f.name()));
    let mut sink = LayerSink::new(
        rule,
        mappatura,
        label.clone(),
        source.stem.clone(),
        source.comune_istat.clone(),
    );
    if !sink.check_fields(&schema, out) {
        return Ok(());
    }
    let mut decoder = Decoder {
        encoding,
        declared_by,
        first_bad: None,
        bad_count: 0,
    };
    let mut shape_iter = shapes.iter_shapes();
    let mut record_iter = records.iter_records();
    for index in 0..shape_count {
        let n = index + 1;
        let shape = match shape_iter.next() {
            Some(Ok(shape)) => shape,
            Some(Err(e)) => {
                return Err(PgtError::Geometry {
                    path: source.path.clone(),
                    record: n,
                    message: format!("geometria illeggibile: {e}"),
                })
            }
            None => {
                return Err(PgtError::Geometry {
                    path: source.path.clone(),
                    record: n,
                    message: "geometria mancante (file .shp troncato?)".to_string(),
                })
            }
        };
        let record = match record_iter.next() {
            Some(Ok(record)) => record,
            Some(Err(e)) => {
                return Err(PgtError::Dbf {
                    path: dbf.clone(),
                    record: Some(n),
                    message: e.to_string(),
                })
            }
            None => {
                return Err(PgtError::Dbf {
                    path: dbf.clone(),
                    record: Some(n),
                    message: "record mancante (file .dbf troncato?)".to_string(),
                })
            }
        };
        let rings = match polygon_rings(&shape) {
            RingsOf::Polygon(rings) => rings,
            RingsOf::Null => {
                sink.null(n);
                continue;
            }
            RingsOf::Other(kind) => {
                out.avvisi.push(format!(
                    "PGT {label}: il layer {} contiene geometrie di tipo {kind}, non poligoni: ignorato",
                    source.stem
                ));
                return Ok(());
            }
        };
        let mut attrs = Attributes::default();
        let map: std::collections::HashMap<String, FieldValue> = record.into();
        let mut fields: Vec<(String, FieldValue)> = map.into_iter().collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        for (field, value) in fields {
            let text = decoder.value(n, field.trim(), value);
            attrs.insert(&field, text);
        }
        let geometry =
            esri_to_multipolygon(rings, &to_lonlat).map_err(|message| PgtError::Geometry {
                path: source.path.clone(),
                record: n,
                message,
            })?;
        if geometry.0.is_empty() {
            sink.null(n);
            continue;
        }
        sink.add(n, &attrs, geometry, out);
    }
    // Text that is not valid in the declared code page stops the build: guessing would put
    // mojibake (or silently different class names) into the zones.
    if let Some((n, field, value)) = &decoder.first_bad {
        let others = match decoder.bad_count {
            1 => String::new(),
            2 => " (e un altro valore)".to_string(),
            k => format!(" (e altri {} valori)", k - 1),
        };
        return Err(PgtError::Invalid {
            path: dbf.clone(),
            message: format!(
                "PGT {label}: {dbf_name}, record n. {n}, campo {field}: testo non valido nella \
                 codifica {} {}{others} (letto come Windows-1252 sarebbe «{value}»). Correggere \
                 il .cpg o indicare la codifica del layer nella mappatura (chiave codifica)",
                decoder.encoding.name(),
                decoder.declared_by,
            ),
        });
    }
    sink.finish(out);
    Ok(())
}

enum RingsOf {
    Polygon(Vec<Vec<Coord<f64>>>),
    Null,
    Other(&'static str),
}

fn polygon_rings(shape: &Shape) -> RingsOf {
    fn rings<P: shapefile::record::traits::HasXY>(
        rings: &[shapefile::PolygonRing<P>],
    ) -> Vec<Vec<Coord<f64>>> {
        rings
            .iter()
            .map(|r| {
                r.points()
                    .iter()
                    .map(|p| Coord { x: p.x(), y: p.y() })
                    .collect()
            })
            .collect()
    }
    match shape {
        Shape::Polygon(p) => RingsOf::Polygon(rings(p.rings())),
        Shape::PolygonM(p) => RingsOf::Polygon(rings(p.rings())),
        Shape::PolygonZ(p) => RingsOf::Polygon(rings(p.rings())),
        Shape::NullShape => RingsOf::Null,
        Shape::Point(_) | Shape::PointM(_) | Shape::PointZ(_) => RingsOf::Other("punto"),
        Shape::Polyline(_) | Shape::PolylineM(_) | Shape::PolylineZ(_) => RingsOf::Other("linea"),
        Shape::Multipoint(_) | Shape::MultipointM(_) | Shape::MultipointZ(_) => {
            RingsOf::Other("multipunto")
        }
        Shape::Multipatch(_) => RingsOf::Other("multipatch"),
    }
}
