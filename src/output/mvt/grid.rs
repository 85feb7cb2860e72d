//! Web Mercator and the XYZ tile grid: lon/lat to the unit square (y down) and back, tile
//! coordinates, the tiles covering a box.

use std::f64::consts::PI;

use geo::Rect;

/// Tile extent (coordinates per tile side).
pub const EXTENT: u32 = 4096;
/// Buffer around each tile, in tile units, that geometry is kept in (clip rectangle).
pub const BUFFER: u32 = 64;
/// Highest zoom a tile may be asked for.
pub const MAX_ZOOM: u8 = 22;

/// Web Mercator latitude limit.
const MAX_LAT: f64 = 85.051_128_779_806_59;

/// Longitude → Web Mercator x in the unit square.
pub fn lon_to_x(lon: f64) -> f64 {
    (lon + 180.0) / 360.0
}

/// Latitude → Web Mercator y in the unit square (0 at the north edge).
pub fn lat_to_y(lat: f64) -> f64 {
    let phi = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / PI) / 2.0
}

pub fn x_to_lon(x: f64) -> f64 {
    x * 360.0 - 180.0
}

pub fn y_to_lat(y: f64) -> f64 {
    (PI * (1.0 - 2.0 * y)).sinh().atan().to_degrees()
}

/// Whether `z/x/y` names a tile.
pub fn valid_tile(z: u8, x: u32, y: u32) -> bool {
    z <= MAX_ZOOM && u64::from(x) < (1u64 << z) && u64::from(y) < (1u64 << z)
}

/// The tiles of zoom `z` that cover a lon/lat box: `(x0, y0, x1, y1)`, inclusive.
pub fn tile_range(bbox: Rect<f64>, z: u8) -> (u32, u32, u32, u32) {
    let n = (1u64 << z) as f64;
    let max = (1u64 << z) - 1;
    let t = |v: f64| ((v * n).floor().max(0.0) as u64).min(max) as u32;
    (
        t(lon_to_x(bbox.min().x)),
        t(lat_to_y(bbox.max().y)),
        t(lon_to_x(bbox.max().x)),
        t(lat_to_y(bbox.min().y)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mercator_round_trip() {
        for (lon, lat) in [(9.94, 45.87), (0.0, 0.0), (-120.5, -33.2)] {
            assert!((x_to_lon(lon_to_x(lon)) - lon).abs() < 1e-9);
            assert!((y_to_lat(lat_to_y(lat)) - lat).abs() < 1e-9);
        }
        assert!((lat_to_y(0.0) - 0.5).abs() < 1e-12);
    }
    #[test]
    fn tile_range_covers_box() {
        let b = Rect::new((9.9, 45.8), (10.0, 45.9));
        let (x0, y0, x1, y1) = tile_range(b, 14);
        assert!(x0 <= x1 && y0 <= y1);
        assert!(valid_tile(14, x1, y1));
        assert!(!valid_tile(3, 8, 0));
        assert!(!valid_tile(23, 0, 0));
    }
}
