//! Reader of comune boundaries (GeoJSON with ISTAT/openpolis properties).
//!
//! The file is a GeoJSON FeatureCollection in lon/lat (RFC 7946; a legacy `crs` member is
//! accepted only when it names EPSG:4326 or CRS84). Each feature is a comune with the
//! properties `com_istat_code` (6 digits, as text or number), `com_catasto_code` (Belfiore) and
//! `name`, and a Polygon or MultiPolygon geometry. Rings are returned with exteriors
//! counter-clockwise and holes clockwise, whatever the file's orientation.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use geo::orient::{Direction, Orient};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::{Map, Value};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryFeature {
    pub istat: String,
    pub belfiore: Option<String>,
    pub nome: String,
    pub geometry: MultiPolygon<f64>,
}

#[derive(Debug, Error)]
pub enum BoundaryError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    /// A feature lacks a property or has an unusable value or geometry.
    #[error("{path}: feature n. {feature}, campo {field}: {message}")]
    Feature {
        path: PathBuf,
        /// 1-based position of the feature in the collection.
        feature: usize,
        field: String,
        message: String,
    },
    /// Some of the requested comuni are not in the file.
    #[error(
        "{path}: confini non trovati per {} comun{} (codici ISTAT): {}",
        missing.len(),
        if missing.len() == 1 { "e" } else { "i" },
        missing.join(", ")
    )]
    NotFound { path: PathBuf, missing: Vec<String> },
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
pub fn read_boundaries(
    path: &Path,
    wanted: &[String],
) -> Result<Vec<BoundaryFeature>, BoundaryError> {
    let invalid = |message: String| BoundaryError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|source| BoundaryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let root: Value = serde_json::from_str(&text).map_err(|e| {
        invalid(format!(
            "GeoJSON non valido (riga {}, colonna {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
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
            invalid(format!(
                "codice ISTAT richiesto non valido: {w:?} (attese fino a 6 cifre)"
            ))
        })?;
        wanted_set.push((code, w.clone()));
    }
    let wanted_codes: HashSet<&str> = wanted_set.iter().map(|(c, _)| c.as_str()).collect();

    let mut out: Vec<BoundaryFeature> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (index, feature) in features.iter().enumerate() {
        let n = index + 1;
        let err = |field: &str, message: String| BoundaryError::Feature {
            path: path.to_path_buf(),
            feature: n,
            field: field.to_string(),
            message,
        };
        let Some(feature) = feature.as_object() else {
            return Err(err("type", "la feature non è un oggetto JSON".to_string()));
        };
        let properties = feature
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| err("properties", "proprietà mancanti".to_string()))?;
        let istat_value = properties
            .get("com_istat_code")
            .filter(|v| !v.is_null())
            .ok_or_else(|| err("com_istat_code", "proprietà mancante".to_string()))?;
        let istat = normalise_istat(istat_value).ok_or_else(|| {
            err(
                "com_istat_code",
                format!("codice ISTAT non valido: {istat_value} (attese fino a 6 cifre)"),
            )
        })?;
        if !wanted_codes.is_empty() && !wanted_codes.contains(istat.as_str()) {
            continue;
        }
        if !seen.insert(istat.clone()) {
            return Err(err(
                "com_istat_code",
                format!("codice ISTAT {istat} già presente in un'altra feature"),
            ));
        }
        let nome = text_property(properties, "name")
            .ok_or_else(|| err("name", "proprietà mancante o vuota".to_string()))?;
        let belfiore = match properties.get("com_catasto_code") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(s.trim().to_ascii_uppercase()),
            Some(other) => {
                return Err(err(
                    "com_catasto_code",
                    format!("codice catastale non valido: {other}"),
                ))
            }
        };
        let geometry = feature
            .get("geometry")
            .filter(|g| !g.is_null())
            .ok_or_else(|| err("geometry", "geometria mancante".to_string()))?;
        let geometry = parse_geometry(geometry).map_err(|message| err("geometry", message))?;
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
        return Err(BoundaryError::NotFound {
            path: path.to_path_buf(),
            missing,
        });
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

fn parse_position(value: &Value) -> Result<Coord<f64>, String> {
    let arr = value
        .as_array()
        .filter(|a| a.len() >= 2)
        .ok_or_else(|| format!("posizione non valida: {value}"))?;
    let (Some(x), Some(y)) = (arr[0].as_f64(), arr[1].as_f64()) else {
        return Err(format!("coordinate non numeriche: {value}"));
    };
    if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
        return Err(format!(
            "coordinate ({x}, {y}) fuori dall'intervallo dei gradi lon/lat: il file non è in EPSG:4326"
        ));
    }
    Ok(Coord { x, y })
}

fn parse_ring(value: &Value) -> Result<LineString<f64>, String> {
    let positions = value
        .as_array()
        .ok_or_else(|| "anello del poligono non valido".to_string())?;
    if positions.len() < 4 {
        return Err(format!(
            "anello del poligono con {} posizioni (almeno 4)",
            positions.len()
        ));
    }
    positions
        .iter()
        .map(parse_position)
        .collect::<Result<Vec<_>, _>>()
        .map(LineString::new)
}

fn parse_polygon(value: &Value) -> Result<Polygon<f64>, String> {
    let rings = value
        .as_array()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| "poligono senza anelli".to_string())?;
    let exterior = parse_ring(&rings[0])?;
    let interiors = rings[1..]
        .iter()
        .map(parse_ring)
        .collect::<Result<Vec<_>, _>>()?;
    // RFC 7946 orientation (exterior counter-clockwise), whatever the file used: geodesic
    // areas depend on it.
    Ok(Polygon::new(exterior, interiors).orient(Direction::Default))
}

fn parse_geometry(geometry: &Value) -> Result<MultiPolygon<f64>, String> {
    let kind = geometry
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| "tipo di geometria mancante".to_string())?;
    let coordinates = geometry
        .get("coordinates")
        .ok_or_else(|| "coordinate mancanti".to_string())?;
    match kind {
        "Polygon" => Ok(MultiPolygon::new(vec![parse_polygon(coordinates)?])),
        "MultiPolygon" => {
            let polygons = coordinates
                .as_array()
                .filter(|p| !p.is_empty())
                .ok_or_else(|| "MultiPolygon senza poligoni".to_string())?;
            polygons
                .iter()
                .map(parse_polygon)
                .collect::<Result<Vec<_>, _>>()
                .map(MultiPolygon::new)
        }
        other => Err(format!(
            "geometria di tipo {other}: attesi Polygon o MultiPolygon"
        )),
    }
}
