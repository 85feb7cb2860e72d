//! Polygon rings in a layer's CRS → model polygons in lon/lat, checked to lie in Lombardy.

use geo::orient::{Direction, Orient};
use geo::{Coord, LineString, MultiPolygon, Polygon};

use crate::crs::{self, ToLonLat};

/// A ring of vertices in the layer's CRS.
pub type Ring = Vec<Coord<f64>>;

/// A polygon in a layer's CRS: exterior ring and holes.
pub type RawPolygon = (Ring, Vec<Ring>);

/// Twice the signed area of a ring (positive when counter-clockwise, y up).
fn signed_area2(ring: &[Coord<f64>]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let a = ring[i];
            let b = ring[(i + 1) % n];
            a.x * b.y - b.x * a.y
        })
        .sum()
}

/// Even-odd point-in-ring test.
fn ring_contains(ring: &[Coord<f64>], p: Coord<f64>) -> bool {
    let mut inside = false;
    let n = ring.len();
    let mut j = n.wrapping_sub(1);
    for i in 0..n {
        let (a, b) = (ring[i], ring[j]);
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Groups the rings of an ESRI polygon (outer rings clockwise, holes counter-clockwise, in any
/// order) into polygons, each hole going to the smallest outer ring that contains it, then
/// reprojects every vertex to lon/lat and checks it falls in Lombardy.
pub fn esri_to_multipolygon(
    rings: Vec<Vec<Coord<f64>>>,
    to_lonlat: &ToLonLat,
) -> Result<MultiPolygon<f64>, String> {
    let rings: Vec<(Vec<Coord<f64>>, f64)> = rings
        .into_iter()
        .filter(|r| r.len() >= 3)
        .map(|r| {
            let a = signed_area2(&r);
            (r, a)
        })
        .filter(|(_, a)| *a != 0.0 && a.is_finite())
        .collect();
    // (outer ring, its area, its holes)
    let mut outers: Vec<(Ring, f64, Vec<Ring>)> = Vec::new();
    let mut holes = Vec::new();
    for (ring, area) in rings {
        if area < 0.0 {
            outers.push((ring, -area, Vec::new()));
        } else {
            holes.push((ring, area));
        }
    }
    if outers.is_empty() {
        // Wrongly oriented rings: take them all as outer rings.
        outers = holes
            .drain(..)
            .map(|(ring, area)| (ring, area, Vec::new()))
            .collect();
    }
    for (hole, area) in holes {
        let probe = hole[0];
        let container = outers
            .iter()
            .enumerate()
            .filter(|(_, (outer, outer_area, _))| {
                *outer_area >= area && ring_contains(outer, probe)
            })
            .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
            .map(|(i, _)| i);
        match container {
            Some(i) => outers[i].2.push(hole),
            // A hole outside every outer ring: keep it as a polygon of its own.
            None => outers.push((hole, area, Vec::new())),
        }
    }
    project_polygons(
        outers
            .into_iter()
            .map(|(outer, _, inners)| (outer, inners))
            .collect(),
        to_lonlat,
    )
}

/// Reprojects polygons given as (exterior, holes) to lon/lat, checking every vertex falls in
/// Lombardy; rings with fewer than 3 vertices are dropped.
pub fn project_polygons(
    polygons: Vec<RawPolygon>,
    to_lonlat: &ToLonLat,
) -> Result<MultiPolygon<f64>, String> {
    let project = |ring: Vec<Coord<f64>>| -> Result<LineString<f64>, String> {
        ring.into_iter()
            .map(|c| {
                let (lon, lat) = to_lonlat
                    .convert(c.x, c.y)
                    .map_err(|e| format!("riproiezione in lon/lat impossibile: {e}"))?;
                if !lon.is_finite() || !lat.is_finite() {
                    return Err(format!(
                        "riproiezione in lon/lat impossibile per il punto ({}, {})",
                        c.x, c.y
                    ));
                }
                if let Some(hint) = crs::diagnose_outside_lombardy(lon, lat) {
                    return Err(format!(
                        "il vertice ({}, {}) in EPSG:{} diventa {hint}",
                        c.x,
                        c.y,
                        to_lonlat.epsg()
                    ));
                }
                Ok(Coord { x: lon, y: lat })
            })
            .collect::<Result<Vec<_>, String>>()
            .map(LineString::new)
    };
    let mut out = Vec::with_capacity(polygons.len());
    for (outer, inners) in polygons {
        if outer.len() < 3 {
            continue;
        }
        let exterior = project(outer)?;
        let interiors = inners
            .into_iter()
            .filter(|r| r.len() >= 3)
            .map(project)
            .collect::<Result<Vec<_>, String>>()?;
        // Model orientation (exterior counter-clockwise), not the ESRI one: geodesic areas
        // depend on it.
        out.push(Polygon::new(exterior, interiors).orient(Direction::Default));
    }
    Ok(MultiPolygon::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_go_to_their_outer_ring_whatever_the_order() {
        let square = |x0: f64, y0: f64, s: f64, clockwise: bool| {
            let mut r = vec![
                Coord { x: x0, y: y0 },
                Coord { x: x0 + s, y: y0 },
                Coord {
                    x: x0 + s,
                    y: y0 + s,
                },
                Coord { x: x0, y: y0 + s },
                Coord { x: x0, y: y0 },
            ];
            if clockwise {
                r.reverse();
            }
            r
        };
        let to = ToLonLat::new(32632).expect("supported");
        // Hole of the second outer ring written first.
        let rings = vec![
            square(571_020.0, 5_080_020.0, 10.0, false),
            square(570_000.0, 5_080_000.0, 100.0, true),
            square(571_000.0, 5_080_000.0, 100.0, true),
        ];
        let mp = esri_to_multipolygon(rings, &to).expect("valid");
        assert_eq!(mp.0.len(), 2);
        let with_hole: Vec<usize> = mp.0.iter().map(|p| p.interiors().len()).collect();
        assert_eq!(with_hole.iter().sum::<usize>(), 1);
        let owner =
            mp.0.iter()
                .find(|p| !p.interiors().is_empty())
                .expect("one polygon has the hole");
        let (lon, _) = to.convert(571_000.0, 5_080_000.0).expect("transform");
        assert!(owner.exterior().0.iter().any(|c| (c.x - lon).abs() < 1e-9));
    }
}
