//! Renderers: GeoJSON layers and the Piano Annuale report. They format analysis results and
//! model layers; they compute nothing of their own.

pub mod export;

pub mod candidates_report;
pub mod contesto;
pub mod geojson;
pub mod glyphs;
pub mod layers;
pub mod lingua;
pub mod mvt;
pub mod pmtiles;
pub mod protect;
pub mod report;
pub mod style;
pub mod tilejson;
pub mod wording;
