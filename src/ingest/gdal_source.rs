//! Reader of any GDAL/OGR vector source (GeoPackage, MapInfo TAB, KML, DXF, FileGDB, PostGIS
//! `PG:` connection strings…) holding PGT layers; compiled with the `gdal` feature.
//!
//! Each layer (or the one named in the project) goes through the same PGT mapping as
//! shapefiles (`ingest::pgt::mapping`: the regional schema built in, or the project's
//! `pgt_mappatura`): its name picks the rule, the rule's fields give the class, legend,
//! comune and constraint kind, and unmapped values are listed with their record numbers. DXF
//! files have a single OGR layer (`entities`): there the CAD layer of each entity (field
//! `Layer`) is the name mapped. Closed lines (CAD polylines) are read as polygons.
//!
//! The CRS is the layer's (its EPSG authority code, or the name of its WKT as in a `.prj`),
//! else the `crs` declared in the project. Coordinates are taken easting/longitude first, as
//! OGR returns them.

use std::collections::HashMap;

use gdal::vector::{FieldValue, LayerAccess};
use gdal::Dataset;
use geo::orient::{Direction, Orient};
use geo::{Coord, Geometry, LineString, MultiPolygon, Polygon};
use thiserror::Error;

use crate::crs::{self, ToLonLat};
use crate::ingest::pgt::mapping::Mappatura;
use crate::ingest::pgt::{unknown_layer, Attributes, LayerSink, PgtRead, Schema};

/// What went wrong, without the source (see [`GdalSourceError`]).
#[derive(Debug, Error)]
pub enum GdalErrorKind {
    #[error("impossibile aprire la sorgente GDAL: {0}")]
    Open(String),
    #[error("layer {layer} non trovato (layer presenti: {presenti})")]
    LayerNotFound { layer: String, presenti: String },
    #[error("layer {layer}: {message}")]
    Crs { layer: String, message: String },
    #[error("layer {layer}, elemento {fid}, campo {field}: {message}")]
    Feature {
        layer: String,
        fid: String,
        field: String,
        message: String,
    },
}

/// An error reading a GDAL source; names the source (passwords of `PG:` strings removed).
#[derive(Debug, Error)]
#[error("{sorgente}: {kind}")]
pub struct GdalSourceError {
    pub sorgente: String,
    pub kind: GdalErrorKind,
}

/// The source as it may be shown: `password=…` of a connection string is hidden.
pub fn redact(sorgente: &str) -> String {
    sorgente
        .split(' ')
        .map(|part| {
            if part.to_ascii_lowercase().starts_with("password=") {
                "password=***"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn value_text(v: FieldValue) -> Option<String> {
    Some(match v {
        FieldValue::StringValue(s) => s,
        FieldValue::IntegerValue(n) => n.to_string(),
        FieldValue::Integer64Value(n) => n.to_string(),
        FieldValue::RealValue(r) if r.fract() == 0.0 && r.abs() < 1e15 => {
            format!("{}", r as i64)
        }
        FieldValue::RealValue(r) => r.to_string(),
        FieldValue::DateValue(d) => d.to_string(),
        FieldValue::DateTimeValue(d) => d.to_rfc3339(),
        _ => return None,
    })
}

/// The CRS of a layer: its authority code, else its WKT name (with the WKT's parameters
/// checked against that code's, as for a `.prj`), else the declared CRS.
fn layer_crs(
    srs: Option<gdal::spatial_ref::SpatialRef>,
    declared: Option<&str>,
    layer: &str,
) -> Result<crs::PrjCrs, GdalErrorKind> {
    let crs_err = |message: String| GdalErrorKind::Crs {
        layer: layer.to_string(),
        message,
    };
    let mut description = None;
    if let Some(mut srs) = srs {
        let by_authority = |s: &gdal::spatial_ref::SpatialRef| {
            (s.auth_name().as_deref() == Some("EPSG"))
                .then(|| s.auth_code().ok())
                .flatten()
                .and_then(|c| u16::try_from(c).ok())
                .filter(|c| crs::SUPPORTED.iter().any(|(s, _)| s == c))
        };
        if let Some(code) = by_authority(&srs) {
            return Ok(crs::PrjCrs::from_epsg(code));
        }
        // GDAL identifies a CRS by its parameters, not by its name.
        if srs.auto_identify_epsg().is_ok() {
            if let Some(code) = by_authority(&srs) {
                return Ok(crs::PrjCrs::from_epsg(code));
            }
        }
        if let Ok(wkt) = srs.to_wkt() {
            if crs::epsg_from_prj(&wkt).is_ok() {
                return crs::crs_from_prj(&wkt).map_err(|e| crs_err(e.to_string()));
            }
        }
        description = srs.name();
    }
    match declared {
        Some(d) => crs::parse_declared(d)
            .map(crs::PrjCrs::from_epsg)
            .map_err(|e| crs_err(format!("sistema di riferimento dichiarato (crs): {e}"))),
        None => Err(crs_err(match description {
            Some(name) => format!(
                "sistema di riferimento {name:?} non riconosciuto: indicare crs = \"EPSG:…\" nel progetto"
            ),
            None => "sistema di riferimento non dichiarato: indicare crs = \"EPSG:…\" nel progetto"
                .to_string(),
        })),
    }
}

/// The polygons of an OGR geometry (closed lines become polygons); `Err` names the type.
fn polygons(g: Geometry<f64>, out: &mut Vec<Polygon<f64>>) -> Result<(), &'static str> {
    match g {
        Geometry::Polygon(p) => out.push(p),
        Geometry::MultiPolygon(mp) => out.extend(mp.0),
        Geometry::Rect(r) => out.push(r.to_polygon()),
        Geometry::Triangle(t) => out.push(t.to_polygon()),
        Geometry::LineString(l) if l.is_closed() && l.0.len() >= 4 => {
            out.push(Polygon::new(l, vec![]))
        }
        Geometry::MultiLineString(ml) if ml.0.iter().all(|l| l.is_closed() && l.0.len() >= 4) => {
            out.extend(ml.0.into_iter().map(|l| Polygon::new(l, vec![])))
        }
        Geometry::GeometryCollection(gc) => {
            for g in gc.0 {
                polygons(g, out)?;
            }
        }
        Geometry::Point(_) | Geometry::MultiPoint(_) => return Err("punto"),
        Geometry::Line(_) | Geometry::LineString(_) | Geometry::MultiLineString(_) => {
            return Err("linea aperta")
        }
    }
    Ok(())
}

fn reproject(polys: Vec<Polygon<f64>>, to: &ToLonLat) -> Result<MultiPolygon<f64>, String> {
    let ring = |ls: &LineString<f64>| -> Result<LineString<f64>, String> {
        ls.0.iter()
            .map(|c| {
                let (lon, lat) = to
                    .convert(c.x, c.y)
                    .map_err(|e| format!("riproiezione in lon/lat impossibile: {e}"))?;
                if let Some(hint) = crs::diagnose_outside_lombardy(lon, lat) {
                    return Err(format!(
                        "il vertice ({}, {}) in EPSG:{} diventa {hint}",
                        c.x,
                        c.y,
                        to.epsg()
                    ));
                }
                Ok(Coord { x: lon, y: lat })
            })
            .collect::<Result<Vec<_>, String>>()
            .map(LineString::new)
    };
    let mut out = Vec::with_capacity(polys.len());
    for p in polys {
        let exterior = ring(p.exterior())?;
        let interiors = p.interiors().iter().map(ring).collect::<Result<_, _>>()?;
        out.push(Polygon::new(exterior, interiors).orient(Direction::Default));
    }
    Ok(MultiPolygon::new(out))
}

/// Reads one GDAL source through a PGT mapping. `sorgente` is a path (already resolved) or a
/// connection string.
pub fn read_gdal_source(
    sorgente: &str,
    layer: Option<&str>,
    crs_dichiarato: Option<&str>,
    mappatura: &Mappatura,
) -> Result<PgtRead, GdalSourceError> {
    let shown = redact(sorgente);
    let fail = |kind| GdalSourceError {
        sorgente: shown.clone(),
        kind,
    };
    let dataset = Dataset::open(sorgente).map_err(|e| fail(GdalErrorKind::Open(e.to_string())))?;
    let names: Vec<String> = dataset.layers().map(|l| l.name()).collect();
    let wanted: Vec<String> = match layer {
        Some(l) => {
            let found = names
                .iter()
                .find(|n| n.as_str() == l)
                .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(l)))
                .cloned();
            match found {
                Some(n) => vec![n],
                None => {
                    return Err(fail(GdalErrorKind::LayerNotFound {
                        layer: l.to_string(),
                        presenti: names.join(", "),
                    }))
                }
            }
        }
        None => names.clone(),
    };
    let mut out = PgtRead::default();
    for name in wanted {
        let mut lyr = dataset.layer_by_name(&name).map_err(|e| {
            fail(GdalErrorKind::LayerNotFound {
                layer: format!("{name} ({e})"),
                presenti: names.join(", "),
            })
        })?;
        let label = format!("{shown}/{name}");
        let field_names: Vec<String> = lyr.defn().fields().map(|f| f.name()).collect();
        let schema = Schema::new(field_names.iter().map(String::as_str));
        // DXF: one OGR layer, the CAD layer in a field.
        let cad = name.eq_ignore_ascii_case("entities") && field_names.iter().any(|f| f == "Layer");
        let mut sink = if cad {
            None
        } else {
            match mappatura.rule_for(&[name.as_str()]) {
                Some((rule, _)) => {
                    let mut sink =
                        LayerSink::new(rule, mappatura, label.clone(), name.clone(), None);
                    if !sink.check_fields(&schema, &mut out) {
                        continue;
                    }
                    Some(sink)
                }
                None => {
                    out.avvisi.push(unknown_layer(&shown, &name, mappatura));
                    continue;
                }
            }
        };
        let mut cad_sinks: HashMap<String, LayerSink<'_>> = HashMap::new();
        let layer_crs = layer_crs(lyr.spatial_ref(), crs_dichiarato, &name).map_err(fail)?;
        let to = ToLonLat::from_prj(&layer_crs).map_err(|e| {
            fail(GdalErrorKind::Crs {
                layer: name.clone(),
                message: e.to_string(),
            })
        })?;
        if !layer_crs.differences.is_empty() {
            let list = layer_crs.differences_text();
            out.avvisi.push(format!(
                "PGT {label}: il sistema di riferimento del layer dichiara EPSG:{} ma non ne ha i \
                 parametri ({list}): le coordinate sono trasformate con i parametri scritti nel file",
                layer_crs.epsg
            ));
        }
        let mut skipped_types: HashMap<&'static str, usize> = HashMap::new();
        let mut unmapped: HashMap<String, usize> = HashMap::new();
        for (i, feature) in lyr.features().enumerate() {
            let n = i + 1;
            let fid = feature
                .fid()
                .map_or_else(|| "?".to_string(), |f| f.to_string());
            let feature_err = |field: &str, message: String| {
                fail(GdalErrorKind::Feature {
                    layer: name.clone(),
                    fid: fid.clone(),
                    field: field.to_string(),
                    message,
                })
            };
            let mut attrs = Attributes::default();
            for (k, f) in field_names.iter().enumerate() {
                // Unset dates and similar make OGR's typed getters fail: fall back to text,
                // and treat what is still unreadable as absent.
                let text = match feature.field(k) {
                    Ok(value) => value.and_then(value_text),
                    Err(_) => feature.field_as_string(k).ok().flatten(),
                };
                attrs.insert(f, text);
            }
            let target = if cad {
                let cad_layer = attrs.text("LAYER").unwrap_or_default().to_string();
                if !cad_sinks.contains_key(&cad_layer) {
                    let Some((rule, _)) = mappatura.rule_for(&[cad_layer.as_str()]) else {
                        *unmapped.entry(cad_layer).or_default() += 1;
                        continue;
                    };
                    let mut s = LayerSink::new(
                        rule,
                        mappatura,
                        format!("{label} (layer CAD {cad_layer})"),
                        cad_layer.clone(),
                        None,
                    );
                    s.check_fields(&schema, &mut out);
                    cad_sinks.insert(cad_layer.clone(), s);
                }
                cad_sinks.get_mut(&cad_layer)
            } else {
                sink.as_mut()
            };
            let Some(target) = target else { continue };
            let Some(geometry) = feature.geometry() else {
                target.null(n);
                continue;
            };
            let g = geometry
                .to_geo()
                .map_err(|e| feature_err("geometria", format!("geometria illeggibile: {e}")))?;
            let mut polys = Vec::new();
            if let Err(kind) = polygons(g, &mut polys) {
                *skipped_types.entry(kind).or_default() += 1;
                continue;
            }
            if polys.is_empty() {
                target.null(n);
                continue;
            }
            let geometry = reproject(polys, &to).map_err(|m| feature_err("geometria", m))?;
            target.add(n, &attrs, geometry, &mut out);
        }
        if let Some(s) = sink {
            s.finish(&mut out);
        }
        let mut cad_sinks: Vec<_> = cad_sinks.into_iter().collect();
        cad_sinks.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, s) in cad_sinks {
            s.finish(&mut out);
        }
        for (kind, n) in skipped_types {
            out.avvisi.push(format!(
                "{shown}: layer {name}: {n} geometrie di tipo {kind}, non poligoni: ignorate"
            ));
        }
        let mut unmapped: Vec<_> = unmapped.into_iter().collect();
        unmapped.sort();
        for (cad_layer, n) in unmapped {
            out.avvisi.push(format!(
                "{shown}: layer CAD {cad_layer:?} non riconosciuto dalla mappatura PGT: {n} elementi ignorati"
            ));
        }
    }
    Ok(out)
}
