//! The context the map draws around the Ambito's own layers: the neighbouring comuni (light
//! grey, under everything) and one label point per comune, so that a name is written once
//! however the tiles cut its polygon.

use std::sync::OnceLock;

use crate::model::Model;

/// The comuni around the Ambito (ISTAT / openpolis boundaries, CC-BY 4.0): a GeoJSON
/// FeatureCollection with the properties `name` and `com_istat_code`, served as it is.
pub static CONFINANTI: &str = include_str!("../../data/ambito9_confinanti.geojson");

/// Attribution of the boundaries of [`CONFINANTI`] and of the Ambito's comuni.
pub const ATTRIBUZIONE_CONFINI: &str = "Confini comunali: ISTAT / openpolis, CC-BY 4.0";

/// The label points of the Ambito's comuni: a point surely inside each (`nome`, `istat`).
pub fn comuni_etichette(model: &Model) -> serde_json::Value {
    let features: Vec<serde_json::Value> = model
        .comuni
        .iter()
        .filter_map(|c| {
            let p = geo::InteriorPoint::interior_point(&c.geometry)?;
            let mut f = label_point(&c.nome, p.x(), p.y());
            f["properties"]["istat"] = serde_json::json!(c.istat);
            f["properties"]["popolazione"] = serde_json::json!(c.popolazione);
            Some(f)
        })
        .collect();
    serde_json::json!({ "type": "FeatureCollection", "features": features })
}

/// One point inside each neighbouring comune, with its `name`: the labels of the context layer
/// (a label per comune, wherever the map's tiles cut its polygon). Empty when the file cannot
/// be read, which `tests/webmap.rs` rules out for the file in the repository.
pub fn confinanti_etichette() -> &'static serde_json::Value {
    static POINTS: OnceLock<serde_json::Value> = OnceLock::new();
    POINTS.get_or_init(|| {
        let features: Vec<serde_json::Value> = match CONFINANTI.parse::<geojson::GeoJson>() {
            Ok(geojson::GeoJson::FeatureCollection(fc)) => fc
                .features
                .iter()
                .filter_map(|f| {
                    let name = f.property("name")?.as_str()?.to_string();
                    let g = geo::Geometry::<f64>::try_from(f.geometry.as_ref()?.clone()).ok()?;
                    let p = geo::InteriorPoint::interior_point(&g)?;
                    Some(label_point(&name, p.x(), p.y()))
                })
                .collect(),
            _ => {
                tracing::error!("data/ambito9_confinanti.geojson non è una FeatureCollection");
                Vec::new()
            }
        };
        serde_json::json!({ "type": "FeatureCollection", "features": features })
    })
}

/// A GeoJSON point feature with the property `nome` (coordinates to 1e-6 degrees).
pub fn label_point(nome: &str, lon: f64, lat: f64) -> serde_json::Value {
    let r = |v: f64| (v * 1e6).round() / 1e6;
    serde_json::json!({
        "type": "Feature",
        "properties": { "nome": nome },
        "geometry": { "type": "Point", "coordinates": [r(lon), r(lat)] },
    })
}
