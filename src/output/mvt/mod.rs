//! Mapbox Vector Tiles (MVT 2.1, extent 4096) of the public layers, encoded by hand (the
//! protobuf subset of the spec is a few varints and length-delimited fields).
//!
//! A [`TileSource`] is prepared once from the GeoJSON features that [`super::geojson`]
//! exposes publicly, so tiles carry exactly the same properties as `/api/layers/{layer}` and
//! no layer that is not public. Preparation projects every vertex to Web Mercator (unit square,
//! y down), interns property keys and values per layer, and bulk-loads one R-tree per layer
//! over the projected bounding boxes. A tile then costs: an R-tree query with the tile's box
//! plus a buffer, a scale/translate, a rectangle clip (Sutherland–Hodgman per ring),
//! Douglas–Peucker simplification and the protobuf writing.
//!
//! Small features: a layer has a minimum zoom below which it is not in tiles at all
//! ([`layer_min_zoom`]: `particelle`/`fabbricati` 14, `fogli` 12, every other layer always).
//! At any zoom a polygon (each part of a multipolygon) whose whole, unclipped area is under one
//! pixel² of a tile drawn at 512 px ([`MIN_AREA`] tile units²) is dropped, and so is a ring that
//! collapses below three distinct vertices after simplification and rounding. Points are never
//! dropped.
//!
//! Modules: `grid` (Web Mercator, tile coordinates), `source` (the prepared [`TileSource`]),
//! `clip` (clip and simplification in tile units), `encode` (a tile's layer messages and the
//! protobuf writing).

mod clip;
mod encode;
mod grid;
mod source;

pub use self::clip::{MIN_AREA, SIMPLIFY_TOLERANCE};
pub use self::grid::{
    lat_to_y, lon_to_x, tile_range, valid_tile, x_to_lon, y_to_lat, BUFFER, EXTENT, MAX_ZOOM,
};
pub use self::source::{layer_min_zoom, FieldType, SourceLayer, TileSource};
