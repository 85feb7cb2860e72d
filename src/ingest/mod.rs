//! Readers, one per input format. Each turns a file into model types (lon/lat geometry)
//! and reports what it read and skipped; none knows about the others, the pipeline or the server.
//!
//! The table and feature readers (inventory, private stock, other public property, service
//! points, boundaries) share one error, [`ReadError`], and the tables one reader, [`table`].

pub mod archive;
pub mod boundaries;
pub mod cxf;
pub mod error;
#[cfg(feature = "gdal")]
pub mod gdal_source;
pub mod gml;
pub mod inventory;
pub mod pgt;
pub mod private;
pub mod public_assets;
pub mod table;

use std::path::Path;

pub use error::{ReadError, ReadErrorKind, Record};
pub use table::TableOptions;

/// The root object of a GeoJSON file, or an error naming the file and the JSON position.
pub(crate) fn geojson_root(bytes: &[u8], path: &Path) -> Result<serde_json::Value, ReadError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ReadError::file(
            path,
            ReadErrorKind::Format(format!(
                "GeoJSON non valido (riga {}, colonna {}): {e}",
                e.line(),
                e.column()
            )),
        )
    })
}

/// The features of a GeoJSON FeatureCollection in EPSG:4326 (no `crs` member, or CRS84/4326),
/// at least one; `empty` is the message when there is none.
pub(crate) fn wgs84_features(
    bytes: &[u8],
    path: &Path,
    empty: &str,
) -> Result<Vec<serde_json::Value>, ReadError> {
    use serde_json::Value;
    let format = |m: String| ReadError::file(path, ReadErrorKind::Format(m));
    let mut root = geojson_root(bytes, path)?;
    if root.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(format(
            "atteso un GeoJSON di tipo FeatureCollection".to_string(),
        ));
    }
    if let Some(name) = root.pointer("/crs/properties/name").and_then(Value::as_str) {
        let n = name.to_ascii_uppercase();
        if !(n.ends_with("CRS84") || n.ends_with("4326")) {
            return Err(format(format!(
                "sistema di riferimento {name:?} non supportato: attese coordinate EPSG:4326 (lon/lat)"
            )));
        }
    }
    let features = match root.get_mut("features").map(Value::take) {
        Some(Value::Array(a)) => a,
        _ => return Err(format("manca l'elenco \"features\"".to_string())),
    };
    if features.is_empty() {
        return Err(ReadError::file(
            path,
            ReadErrorKind::Empty(empty.to_string()),
        ));
    }
    Ok(features)
}

/// The geometry of a GeoJSON feature through the `geojson` crate's conversion to `geo`.
pub(crate) fn feature_geometry(
    feature: &serde_json::Value,
) -> Result<geo::Geometry<f64>, ReadErrorKind> {
    let geometry = feature
        .get("geometry")
        .filter(|g| !g.is_null())
        .ok_or_else(|| ReadErrorKind::MissingValue("geometria mancante".to_string()))?;
    let geometry = geojson::Geometry::from_json_value(geometry.clone())
        .map_err(|e| ReadErrorKind::Geometry(format!("geometria non valida: {e}")))?;
    geo::Geometry::<f64>::try_from(geometry.value)
        .map_err(|e| ReadErrorKind::Geometry(format!("geometria non valida: {e}")))
}
