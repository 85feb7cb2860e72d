//! Reader of comune boundaries (GeoJSON with ISTAT/openpolis properties).
//!
//! The file is a GeoJSON FeatureCollection in lon/lat (RFC 7946; a legacy `crs` member is
//! accepted only when it names EPSG:4326 or CRS84). Each feature is a comune with the
//! properties `com_istat_code` (6 digits, as text or number), `com_catasto_code` (Belfiore) and
//! `name`, and a Polygon or MultiPolygon geometry. Rings are returned with exteriors
//! counter-clockwise and holes clockwise, whatever the file's orientation.

use std::collections::HashSet;
use std::path::Path;

use geo::orient::{Direction, Orient};
use geo::{CoordsIter, MultiPolygon, Polygon};
use serde_json::{Map, Value};

use super::error::{ReadError, ReadErrorKind};

#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryFeature {
    pub istat: String,
    pub belfiore: Option<String>,
    pub nome: String,
    pub geometry: MultiPolygon<f64>,
}

/// Normalises an ISTAT code given as text or number to 6 digits (`16077` → `016077`).
fn normalise_istat(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.as_u64()?.to_string(),
        _ => return None,
    };
    if text.is_empty() || text.len() > 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{text:0>6}"))
}

/// Reads the boundaries of the comuni whose ISTAT code is in `wanted` (all when empty).
pub fn read_boundaries(path: &Path, wanted: &[String]) -> Result<Vec<BoundaryFeature>, ReadError> {
    let invalid = |message: String| ReadError::file(path, ReadErrorKind::Format(message));
    let bytes = std::fs::read(path).map_err(|source| ReadError::io(path, source))?;
    let root = super::geojson_root(&bytes, path)?;
    let Value::Object(root) = root else {
        return Err(invalid(
            "il GeoJSON deve essere un oggetto FeatureCollection".to_string(),
        ));
    };
    match root.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {}
        other => {
            return Err(invalid(format!(
                "atteso un GeoJSON di tipo FeatureCollection, trovato {:?}",
                other.unwrap_or("(tipo mancante)")
            )))
        }
    }
    check_crs(&root).map_err(invalid)?;
    let features = root
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("manca l'elenco \"features\"".to_string()))?;

    let mut wanted_set: Vec<(String, String)> = Vec::new();
    for w in wanted {
        let code = normalise_istat(&Value::String(w.clone())).ok_or_else(|| {
            ReadError::file(
                path,
                ReadErrorKind::InvalidValue(format!(
                    "codice ISTAT richiesto non valido: {w:?} (attese fino a 6 cifre)"
                )),
            )
        })?;
        wanted_set.push((code, w.clone()));
    }
    let wanted_codes: HashSet<&str> = wanted_set.iter().map(|(c, _)| c.as_str()).collect();

    let mut out: Vec<BoundaryFeature> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (index, feature) in features.iter().enumerate() {
        let n = index + 1;
        let err = |field: &str, kind: ReadErrorKind| ReadError::feature(path, n, field, kind);
        let missing = |m: &str| ReadErrorKind::MissingValue(m.to_string());
        let Some(object) = feature.as_object() else {
            return Err(err(
                "type",
                ReadErrorKind::Format("la feature non è un oggetto JSON".to_string()),
            ));
        };
        let properties = object
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| err("properties", missing("proprietà mancanti")))?;
        let istat_value = properties
            .get("com_istat_code")
            .filter(|v| !v.is_null())
            .ok_or_else(|| err("com_istat_code", missing("proprietà mancante")))?;
        let istat = normalise_istat(istat_value).ok_or_else(|| {
            err(
                "com_istat_code",
                ReadErrorKind::InvalidValue(format!(
                    "codice ISTAT non valido: {istat_value} (attese fino a 6 cifre)"
                )),
            )
        })?;
        if !wanted_codes.is_empty() && !wanted_codes.contains(istat.as_str()) {
            continue;
        }
        if !seen.insert(istat.clone()) {
            return Err(err(
                "com_istat_code",
                ReadErrorKind::Duplicate(format!(
                    "codice ISTAT {istat} già presente in un'altra feature"
                )),
            ));
        }
        let nome = text_property(properties, "name")
            .ok_or_else(|| err("name", missing("proprietà mancante o vuota")))?;
        let belfiore = match properties.get("com_catasto_code") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(s.trim().to_ascii_uppercase()),
            Some(other) => {
                return Err(err(
                    "com_catasto_code",
                    ReadErrorKind::InvalidValue(format!("codice catastale non valido: {other}")),
                ))
            }
        };
        let geometry = boundary_geometry(feature).map_err(|k| err("geometry", k))?;
        out.push(BoundaryFeature {
            istat,
            belfiore,
            nome,
            geometry,
        });
    }

    let missing: Vec<String> = wanted_set
        .iter()
        .filter(|(code, _)| !seen.contains(code))
        .map(|(code, _)| code.clone())
        .collect();
    if !missing.is_empty() {
        return Err(ReadError::file(path, ReadErrorKind::NotFound { missing }));
    }
    Ok(out)
}

fn text_property(properties: &Map<String, Value>, key: &str) -> Option<String> {
    match properties.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// Accepts no `crs` member (RFC 7946), or a legacy one naming EPSG:4326 / CRS84.
fn check_crs(root: &Map<String, Value>) -> Result<(), String> {
    let Some(crs) = root.get("crs") else {
        return Ok(());
    };
    if crs.is_null() {
        return Ok(());
    }
    let name = crs
        .get("properties")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let upper = name.trim().to_ascii_uppercase();
    let is_wgs84 = upper.ends_with("CRS84")
        || upper == "EPSG:4326"
        || upper.ends_with("EPSG::4326")
        || upper.ends_with("EPSG:6.6:4326")
        || upper.ends_with("/EPSG/0/4326");
    if is_wgs84 {
        Ok(())
    } else {
        Err(format!(
            "sistema di riferimento {} non ammesso: i confini devono essere in EPSG:4326 \
             (lon/lat, RFC 7946)",
            if name.is_empty() {
                crs.to_string()
            } else {
                name.to_string()
            }
        ))
    }
}

/// A comune's area: a Polygon or MultiPolygon through the `geojson` crate's conversion, with
/// rings of at least four positions, in lon/lat degrees, oriented the RFC 7946 way (exterior
/// counter-clockwise, whatever the file used: geodesic areas depend on it).
fn boundary_geometry(feature: &Value) -> Result<MultiPolygon<f64>, ReadErrorKind> {
    let bad = |m: String| ReadErrorKind::Geometry(m);
    let polygons: Vec<Polygon<f64>> = match super::feature_geometry(feature)? {
        geo::Geometry::Polygon(p) => vec![p],
        geo::Geometry::MultiPolygon(m) if m.0.is_empty() => {
            return Err(bad("MultiPolygon senza poligoni".to_string()))
        }
        geo::Geometry::MultiPolygon(m) => m.0,
        other => {
            return Err(bad(format!(
                "geometria di tipo {}: attesi Polygon o MultiPolygon",
                geometry_type(&other)
            )))
        }
    };
    for p in &polygons {
        if p.exterior().0.is_empty() {
            return Err(bad("poligono senza anelli".to_string()));
        }
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            let n = ring.0.len();
            if n < 4 {
                return Err(bad(format!(
                    "anello del poligono con {n} posizioni (almeno 4)"
                )));
            }
        }
        if let Some(c) = p
            .coords_iter()
            .find(|c| !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y))
        {
            return Err(bad(format!(
                "coordinate ({}, {}) fuori dall'intervallo dei gradi lon/lat: il file non è in EPSG:4326",
                c.x, c.y
            )));
        }
    }
    Ok(MultiPolygon::new(
        polygons
            .into_iter()
            .map(|p| p.orient(Direction::Default))
            .collect(),
    ))
}

/// The GeoJSON name of a geometry's type.
fn geometry_type(g: &geo::Geometry<f64>) -> &'static str {
    match g {
        geo::Geometry::Point(_) => "Point",
        geo::Geometry::MultiPoint(_) => "MultiPoint",
        geo::Geometry::LineString(_) | geo::Geometry::Line(_) => "LineString",
        geo::Geometry::MultiLineString(_) => "MultiLineString",
        geo::Geometry::Polygon(_) | geo::Geometry::Rect(_) | geo::Geometry::Triangle(_) => {
            "Polygon"
        }
        geo::Geometry::MultiPolygon(_) => "MultiPolygon",
        geo::Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}
