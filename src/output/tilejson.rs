//! TileJSON 3.0.0 documents of the vector tiles: one per layer and one for all layers, with
//! `vector_layers` and their fields (names and types of the same properties as the GeoJSON).

use serde_json::{json, Value};

use super::mvt::{SourceLayer, TileSource, EXTENT};

/// Zooms the server declares (tiles can be asked up to [`super::mvt::MAX_ZOOM`]).
pub const SERVER_MIN_ZOOM: u8 = 0;
pub const SERVER_MAX_ZOOM: u8 = 18;

/// Describes the tile set.
#[derive(Debug, Clone)]
pub struct TileSetInfo<'a> {
    /// Tile URL template with `{z}/{x}/{y}`.
    pub tiles_url: String,
    pub name: &'a str,
    pub description: String,
    pub attribution: &'a str,
    pub min_zoom: u8,
    pub max_zoom: u8,
}

/// The `vector_layers` entry of a layer.
pub fn vector_layer(layer: &SourceLayer, max_zoom: u8) -> Value {
    let fields: serde_json::Map<String, Value> = layer
        .fields()
        .iter()
        .map(|(k, t)| (k.clone(), json!(t.name())))
        .collect();
    json!({
        "id": layer.name(),
        "description": descrizione(layer.name()),
        "minzoom": layer.min_zoom(),
        "maxzoom": max_zoom,
        "fields": fields,
    })
}

/// Italian description of a layer, from the registry.
pub fn descrizione(layer: &str) -> &'static str {
    crate::output::layers::info(layer).map_or("", |l| l.description)
}

/// The TileJSON of `layers` (all of the source when `None`).
pub fn tilejson(source: &TileSource, layer: Option<&str>, info: &TileSetInfo<'_>) -> Value {
    let layers: Vec<&SourceLayer> = source
        .layers()
        .iter()
        .filter(|l| layer.is_none_or(|n| n == l.name()))
        .collect();
    let bounds = match layer {
        Some(n) => source.layer(n).and_then(|l| l.bounds()),
        None => source.bounds(),
    };
    let b = bounds
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
        .unwrap_or([-180.0, -85.051_128_779_806_59, 180.0, 85.051_128_779_806_59]);
    let min_zoom = layers
        .iter()
        .map(|l| l.min_zoom())
        .min()
        .unwrap_or(info.min_zoom)
        .max(info.min_zoom);
    let center_zoom = 12.max(min_zoom).min(info.max_zoom);
    json!({
        "tilejson": "3.0.0",
        "name": info.name,
        "description": info.description,
        "version": "1.0.0",
        "attribution": info.attribution,
        "scheme": "xyz",
        "tiles": [info.tiles_url],
        "minzoom": min_zoom,
        "maxzoom": info.max_zoom,
        "bounds": b,
        "center": [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, center_zoom],
        "format": "pbf",
        "extent": EXTENT,
        "vector_layers": layers.iter().map(|l| vector_layer(l, info.max_zoom)).collect::<Vec<_>>(),
    })
}
