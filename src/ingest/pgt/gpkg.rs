//! PGT layers in a GeoPackage, read with SQLite: the feature tables listed in `gpkg_contents`,
//! their geometry column from `gpkg_geometry_columns`, the CRS from `gpkg_spatial_ref_sys`,
//! and geometry blobs as a GeoPackage header followed by WKB.

use geo::Coord;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::geometry::{project_polygons, RawPolygon, Ring};
use super::mapping::Mappatura;
use super::{
    empty_layer, number_text, unknown_layer, Attributes, LayerSink, PgtError, PgtRead, Schema,
    Source,
};
use crate::crs::{self, ToLonLat};

pub(super) fn read(
    source: &Source,
    mappatura: &Mappatura,
    out: &mut PgtRead,
) -> Result<(), PgtError> {
    let path = &source.path;
    let invalid = |message: String| PgtError::Invalid {
        path: path.clone(),
        message,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| invalid(format!("GeoPackage illeggibile: {e}")))?;
    let tables: Vec<String> = conn
        .prepare(
            "SELECT table_name FROM gpkg_contents WHERE lower(data_type) = 'features' \
             ORDER BY table_name",
        )
        .and_then(|mut st| {
            st.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| {
            invalid(format!(
                "non è un GeoPackage valido (tabella gpkg_contents illeggibile: {e})"
            ))
        })?;
    if tables.is_empty() {
        out.avvisi.push(format!(
            "PGT {}: il GeoPackage non contiene layer vettoriali",
            source.label
        ));
    }
    for table in &tables {
        read_table(&conn, source, table, mappatura, out)?;
    }
    Ok(())
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn read_table(
    conn: &Connection,
    source: &Source,
    table: &str,
    mappatura: &Mappatura,
    out: &mut PgtRead,
) -> Result<(), PgtError> {
    let label = format!("{} (layer {table})", source.label);
    let err = |message: String| PgtError::Gpkg {
        path: source.path.clone(),
        layer: table.to_string(),
        message,
    };
    let Some((rule, name)) = mappatura.rule_for(&[table, source.stem.as_str()]) else {
        out.avvisi.push(unknown_layer(&label, table, mappatura));
        return Ok(());
    };
    let (geom_col, srs_id): (String, i64) = conn
        .query_row(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?1",
            [table],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|e| {
            err(format!(
                "colonna geometrica non indicata in gpkg_geometry_columns: {e}"
            ))
        })?;
    let (org, org_id, definition): (Option<String>, Option<i64>, Option<String>) = conn
        .query_row(
            "SELECT organization, organization_coordsys_id, definition \
             FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [srs_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| {
            err(format!(
                "sistema di riferimento {srs_id} non trovato in gpkg_spatial_ref_sys: {e}"
            ))
        })?;
    // An EPSG organisation code is trusted as such; a definition without one is read like a
    // `.prj`, its parameters checked against the code its name gives.
    let prj_crs = match (org.as_deref(), org_id) {
        (Some(o), Some(id)) if o.eq_ignore_ascii_case("EPSG") => {
            crs::parse_declared(&id.to_string()).map(crs::PrjCrs::from_epsg)
        }
        _ => crs::crs_from_prj(definition.as_deref().unwrap_or("")),
    }
    .map_err(|e| {
        err(format!(
            "sistema di riferimento non riconosciuto (srs_id {srs_id} di gpkg_spatial_ref_sys): {e}"
        ))
    })?;
    let to_lonlat = ToLonLat::from_prj(&prj_crs)
        .map_err(|e| err(format!("sistema di riferimento non riconosciuto: {e}")))?;
    if !prj_crs.differences.is_empty() {
        let list = prj_crs.differences_text();
        out.avvisi.push(format!(
            "PGT {label}: la definizione srs_id {srs_id} di gpkg_spatial_ref_sys dichiara EPSG:{} \
             ma non ne ha i parametri ({list}): le coordinate sono trasformate con i parametri \
             scritti nel file",
            prj_crs.epsg
        ));
    }

    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {}", quote(table)))
        .map_err(|e| err(format!("tabella illeggibile: {e}")))?;
    let columns: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let geom_index = columns
        .iter()
        .position(|c| c.eq_ignore_ascii_case(&geom_col))
        .ok_or_else(|| err(format!("la colonna geometrica {geom_col} non esiste")))?;
    let schema = Schema::new(
        columns
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != geom_index)
            .map(|(_, c)| c.as_str()),
    );
    let mut rows = stmt
        .query([])
        .map_err(|e| err(format!("tabella illeggibile: {e}")))?;
    let mut sink = LayerSink::new(
        rule,
        mappatura,
        label.clone(),
        name.to_string(),
        source.comune_istat.clone(),
    );
    let mut checked = false;
    let mut n = 0;
    while let Some(row) = rows
        .next()
        .map_err(|e| err(format!("elemento n. {}: {e}", n + 1)))?
    {
        n += 1;
        if !checked {
            checked = true;
            if !sink.check_fields(&schema, out) {
                return Ok(());
            }
        }
        let mut attrs = Attributes::default();
        let mut blob: Option<Vec<u8>> = None;
        for (i, column) in columns.iter().enumerate() {
            let value = row
                .get_ref(i)
                .map_err(|e| err(format!("elemento n. {n}, campo {column}: {e}")))?;
            if i == geom_index {
                if let ValueRef::Blob(b) = value {
                    blob = Some(b.to_vec());
                }
                continue;
            }
            let text = match value {
                ValueRef::Null | ValueRef::Blob(_) => None,
                ValueRef::Integer(v) => Some(v.to_string()),
                ValueRef::Real(v) => Some(number_text(v)),
                ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
            };
            attrs.insert(column, text);
        }
        let Some(blob) = blob else {
            sink.null(n);
            continue;
        };
        let geom_err =
            |message: String| err(format!("elemento n. {n}, campo {geom_col}: {message}"));
        let polygons = match gpkg_polygons(&blob) {
            Ok(Some(p)) => p,
            Ok(None) => {
                sink.null(n);
                continue;
            }
            Err(WkbError::NotPolygon(kind)) => {
                out.avvisi.push(format!(
                    "PGT {label}: il layer {table} contiene geometrie di tipo {kind}, non poligoni: ignorato"
                ));
                return Ok(());
            }
            Err(WkbError::Invalid(m)) => return Err(geom_err(m)),
        };
        let geometry = project_polygons(polygons, &to_lonlat).map_err(geom_err)?;
        if geometry.0.is_empty() {
            sink.null(n);
            continue;
        }
        sink.add(n, &attrs, geometry, out);
    }
    if n == 0 {
        out.avvisi.push(empty_layer(&label, table));
        return Ok(());
    }
    sink.finish(out);
    Ok(())
}

#[derive(Debug, PartialEq)]
enum WkbError {
    NotPolygon(String),
    Invalid(String),
}

/// The polygons of a GeoPackage geometry blob; `None` for an empty geometry.
fn gpkg_polygons(blob: &[u8]) -> Result<Option<Vec<RawPolygon>>, WkbError> {
    let bad = |m: &str| WkbError::Invalid(m.to_string());
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err(bad(
            "blob geometrico non valido (manca l'intestazione GeoPackage «GP»)",
        ));
    }
    let flags = blob[3];
    if flags & 0b0010_0000 != 0 {
        return Err(bad("geometria GeoPackage di tipo esteso non supportata"));
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        _ => return Err(bad("indicatore di envelope GeoPackage non valido")),
    };
    let start = 8 + envelope;
    if flags & 0b0001_0000 != 0 {
        return Ok(None);
    }
    let wkb = blob
        .get(start..)
        .ok_or_else(|| bad("blob geometrico troncato"))?;
    let mut r = Wkb { bytes: wkb, pos: 0 };
    let polygons = r.geometry()?;
    Ok((!polygons.is_empty()).then_some(polygons))
}

struct Wkb<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Wkb<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], WkbError> {
        let slice = self
            .bytes
            .get(self.pos..self.pos + N)
            .ok_or_else(|| WkbError::Invalid("WKB troncato".to_string()))?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        self.pos += N;
        Ok(out)
    }

    fn u32(&mut self, le: bool) -> Result<u32, WkbError> {
        let b = self.take::<4>()?;
        Ok(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn f64(&mut self, le: bool) -> Result<f64, WkbError> {
        let b = self.take::<8>()?;
        Ok(if le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }

    /// Byte order and (base type, coordinate dimension) of the next geometry.
    fn header(&mut self) -> Result<(bool, u32, usize), WkbError> {
        let le = match self.take::<1>()?[0] {
            0 => false,
            1 => true,
            b => {
                return Err(WkbError::Invalid(format!(
                    "ordine dei byte WKB {b} non valido"
                )))
            }
        };
        let raw = self.u32(le)?;
        // EWKB flags (PostGIS) or ISO thousands (1000 Z, 2000 M, 3000 ZM).
        let (mut z, mut m) = (raw & 0x8000_0000 != 0, raw & 0x4000_0000 != 0);
        if raw & 0x2000_0000 != 0 {
            // EWKB SRID: skip it.
            self.u32(le)?;
        }
        let iso = raw & 0x0FFF_FFFF;
        let base = iso % 1000;
        match iso / 1000 {
            0 => {}
            1 => z = true,
            2 => m = true,
            3 => {
                z = true;
                m = true;
            }
            _ => return Err(WkbError::Invalid(format!("tipo WKB {raw} non valido"))),
        }
        Ok((le, base, 2 + usize::from(z) + usize::from(m)))
    }

    fn ring(&mut self, le: bool, dims: usize) -> Result<Ring, WkbError> {
        let count = self.u32(le)? as usize;
        if count > self.bytes.len() {
            return Err(WkbError::Invalid("WKB troncato".to_string()));
        }
        let mut ring = Vec::with_capacity(count);
        for _ in 0..count {
            let x = self.f64(le)?;
            let y = self.f64(le)?;
            for _ in 2..dims {
                self.f64(le)?;
            }
            ring.push(Coord { x, y });
        }
        Ok(ring)
    }

    fn polygon(&mut self, le: bool, dims: usize) -> Result<Option<RawPolygon>, WkbError> {
        let count = self.u32(le)? as usize;
        let mut rings = Vec::new();
        for _ in 0..count {
            rings.push(self.ring(le, dims)?);
        }
        let mut rings = rings.into_iter();
        Ok(rings.next().map(|outer| (outer, rings.collect())))
    }

    fn geometry(&mut self) -> Result<Vec<RawPolygon>, WkbError> {
        let (le, base, dims) = self.header()?;
        match base {
            3 => Ok(self.polygon(le, dims)?.into_iter().collect()),
            6 => {
                let count = self.u32(le)? as usize;
                let mut out = Vec::new();
                for _ in 0..count {
                    let (le, base, dims) = self.header()?;
                    if base != 3 {
                        return Err(WkbError::Invalid(format!(
                            "MultiPolygon con un elemento di tipo WKB {base}"
                        )));
                    }
                    out.extend(self.polygon(le, dims)?);
                }
                Ok(out)
            }
            1 => Err(WkbError::NotPolygon("punto".into())),
            2 => Err(WkbError::NotPolygon("linea".into())),
            4 => Err(WkbError::NotPolygon("multipunto".into())),
            5 => Err(WkbError::NotPolygon("multilinea".into())),
            7 => Err(WkbError::NotPolygon("collezione di geometrie".into())),
            other => Err(WkbError::NotPolygon(format!("WKB {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(flags: u8, envelope: usize, wkb: &[u8]) -> Vec<u8> {
        let mut b = vec![b'G', b'P', 0, flags, 0, 0, 0, 0];
        b.extend(std::iter::repeat_n(0u8, envelope));
        b.extend_from_slice(wkb);
        b
    }

    fn polygon_z_be() -> Vec<u8> {
        // Big-endian ISO PolygonZ (1003), one ring of 4 points.
        let mut w = vec![0u8];
        w.extend(1003u32.to_be_bytes());
        w.extend(1u32.to_be_bytes());
        w.extend(4u32.to_be_bytes());
        for (x, y) in [(0.0f64, 0.0f64), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)] {
            w.extend(x.to_be_bytes());
            w.extend(y.to_be_bytes());
            w.extend(5.0f64.to_be_bytes());
        }
        w
    }

    #[test]
    fn z_polygons_with_an_envelope() {
        // Envelope xyz (indicator 2, 48 bytes), little-endian header.
        let polys = gpkg_polygons(&blob(0b0000_0101, 48, &polygon_z_be()))
            .expect("valid")
            .expect("not empty");
        assert_eq!(polys.len(), 1);
        assert_eq!(polys[0].0.len(), 4);
        assert_eq!(polys[0].0[2], Coord { x: 1.0, y: 1.0 });
    }

    #[test]
    fn empty_and_non_polygon_geometries() {
        assert_eq!(gpkg_polygons(&blob(0b0001_0001, 0, &[])), Ok(None));
        let mut point = vec![1u8];
        point.extend(1u32.to_le_bytes());
        point.extend(1.0f64.to_le_bytes());
        point.extend(2.0f64.to_le_bytes());
        assert_eq!(
            gpkg_polygons(&blob(1, 0, &point)),
            Err(WkbError::NotPolygon("punto".into()))
        );
        assert!(matches!(
            gpkg_polygons(b"XX\0\0\0\0\0\0"),
            Err(WkbError::Invalid(_))
        ));
    }
}
