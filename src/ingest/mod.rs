//! Readers, one per input format. Each turns a file into model types (lon/lat geometry)
//! and reports what it read and skipped; none knows about the others, the pipeline or the server.

pub mod archive;
pub mod boundaries;
pub mod cxf;
#[cfg(feature = "gdal")]
pub mod gdal_source;
pub mod gml;
pub mod inventory;
pub mod pgt;
pub mod private;
pub mod public_assets;

/// The features of a GeoJSON FeatureCollection in EPSG:4326 (no `crs` member, or CRS84/4326),
/// at least one; `empty` is the message when there is none. Errors are messages for the user.
pub(crate) fn wgs84_features(bytes: &[u8], empty: &str) -> Result<Vec<serde_json::Value>, String> {
    use serde_json::Value;
    let mut root: Value = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "GeoJSON non valido (riga {}, colonna {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    if root.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err("atteso un GeoJSON di tipo FeatureCollection".to_string());
    }
    if let Some(name) = root.pointer("/crs/properties/name").and_then(Value::as_str) {
        let n = name.to_ascii_uppercase();
        if !(n.ends_with("CRS84") || n.ends_with("4326")) {
            return Err(format!(
                "sistema di riferimento {name:?} non supportato: attese coordinate EPSG:4326 (lon/lat)"
            ));
        }
    }
    let features = match root.get_mut("features").map(Value::take) {
        Some(Value::Array(a)) => a,
        _ => return Err("manca l'elenco \"features\"".to_string()),
    };
    if features.is_empty() {
        return Err(empty.to_string());
    }
    Ok(features)
}
