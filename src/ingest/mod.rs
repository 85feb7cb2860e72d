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
