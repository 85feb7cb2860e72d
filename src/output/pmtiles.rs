//! PMTiles v3 archive of the public layers (`abitare tiles`): the combined tiles of
//! [`super::mvt::TileSource`] over the data's bounds, gzip-compressed, empty tiles skipped,
//! identical tiles stored once, TileJSON-style metadata with `vector_layers`. Written into a
//! temporary file beside the target and renamed into place.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ::pmtiles::{PmTilesWriter, TileCoord, TileId, TileType};
use serde_json::json;

use super::mvt::{tile_range, TileSource, MAX_ZOOM};
use super::tilejson::vector_layer;

/// Zooms of `abitare tiles` by default.
pub const DEFAULT_MIN_ZOOM: u8 = 8;
pub const DEFAULT_MAX_ZOOM: u8 = 16;

#[derive(Debug, thiserror::Error)]
pub enum PmtilesError {
    #[error("zoom non validi: {min}–{max} (0 ≤ min ≤ max ≤ {MAX_ZOOM})")]
    Zoom { min: u8, max: u8 },
    #[error("nessun dato da mettere in tile (workspace vuoto)")]
    Empty,
    #[error("scrittura di {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("scrittura dell'archivio PMTiles {path}: {source}")]
    Pmtiles {
        path: PathBuf,
        source: ::pmtiles::PmtError,
    },
}

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct PmtilesStats {
    /// Tiles with data.
    pub tiles: u64,
    /// Tiles looked at (the bounds' pyramid).
    pub candidates: u64,
    /// Uncompressed MVT bytes.
    pub mvt_bytes: u64,
    pub file_bytes: u64,
    pub seconds: f64,
}

/// Writes the archive of `source` for zooms `min_zoom..=max_zoom`, atomically.
pub fn write_pmtiles(
    source: &TileSource,
    out: &Path,
    min_zoom: u8,
    max_zoom: u8,
    name: &str,
    description: &str,
) -> Result<PmtilesStats, PmtilesError> {
    if min_zoom > max_zoom || max_zoom > MAX_ZOOM {
        return Err(PmtilesError::Zoom {
            min: min_zoom,
            max: max_zoom,
        });
    }
    let bounds = source.bounds().ok_or(PmtilesError::Empty)?;
    let start = Instant::now();
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tiles.pmtiles".into());
    let tmp = out.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PmtilesError::Io { path, source }
    };
    let pmt_err = |source| PmtilesError::Pmtiles {
        path: out.to_path_buf(),
        source,
    };
    let metadata = json!({
        "name": name,
        "description": description,
        "version": "1.0.0",
        "type": "overlay",
        "format": "pbf",
        "attribution": "abitare – dati dell'Ambito",
        "minzoom": min_zoom,
        "maxzoom": max_zoom,
        "bounds": [bounds.min().x, bounds.min().y, bounds.max().x, bounds.max().y],
        "vector_layers": source.layers().iter().map(|l| vector_layer(l, max_zoom)).collect::<Vec<_>>(),
    });
    let result = (|| {
        let file = File::create(&tmp).map_err(io_err(&tmp))?;
        let center_zoom = 12u8.clamp(min_zoom, max_zoom);
        let mut writer = PmTilesWriter::new(TileType::Mvt)
            .min_zoom(min_zoom)
            .max_zoom(max_zoom)
            .bounds(
                bounds.min().x,
                bounds.min().y,
                bounds.max().x,
                bounds.max().y,
            )
            .center(
                (bounds.min().x + bounds.max().x) / 2.0,
                (bounds.min().y + bounds.max().y) / 2.0,
            )
            .center_zoom(center_zoom)
            .metadata(metadata.to_string())
            .create(BufWriter::new(file))
            .map_err(pmt_err)?;
        let mut stats = PmtilesStats {
            tiles: 0,
            candidates: 0,
            mvt_bytes: 0,
            file_bytes: 0,
            seconds: 0.0,
        };
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .max(1);
        for z in min_zoom..=max_zoom {
            let (x0, y0, x1, y1) = tile_range(bounds, z);
            let mut coords: Vec<(u64, u8, u32, u32)> = Vec::new();
            for x in x0..=x1 {
                for y in y0..=y1 {
                    let id = TileId::from(TileCoord::new(z, x, y).map_err(pmt_err)?).value();
                    coords.push((id, z, x, y));
                }
            }
            coords.sort_unstable();
            stats.candidates += coords.len() as u64;
            // Encode in chunks on every core; write in tile-id order.
            for chunk in coords.chunks(512) {
                let per = chunk.len().div_ceil(threads);
                let encoded: Vec<Vec<u8>> = std::thread::scope(|s| {
                    let handles: Vec<_> = chunk
                        .chunks(per.max(1))
                        .map(|part| {
                            s.spawn(move || {
                                part.iter()
                                    .map(|&(_, z, x, y)| source.encode(None, z, x, y))
                                    .collect::<Vec<_>>()
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                        .collect()
                });
                for (&(_, z, x, y), data) in chunk.iter().zip(&encoded) {
                    if data.is_empty() {
                        continue;
                    }
                    stats.tiles += 1;
                    stats.mvt_bytes += data.len() as u64;
                    writer
                        .add_tile(TileCoord::new(z, x, y).map_err(pmt_err)?, data)
                        .map_err(pmt_err)?;
                }
            }
        }
        writer.finalize().map_err(pmt_err)?;
        Ok(stats)
    })();
    match result {
        Ok(mut stats) => {
            std::fs::rename(&tmp, out).map_err(io_err(out))?;
            stats.file_bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
            stats.seconds = start.elapsed().as_secs_f64();
            Ok(stats)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
