//! Geometry in metres: the UTM 32N projection, the per-screening cache of projected layers,
//! and the box and distance measures the stages share.

use std::collections::HashMap;

use geo::{Buffer, Distance, Euclidean, MapCoords, MultiPolygon, Point, Polygon, Rect};

use super::rules::Regole;
use crate::crs::{CrsError, FromLonLat, ToLonLat};
use crate::index::ModelIndex;
use crate::model::Model;

/// Projection to and from the metric CRS.
pub(super) struct Metric {
    fwd: FromLonLat,
    inv: ToLonLat,
}

impl Metric {
    /// UTM zone 32N (EPSG:32632).
    pub(super) fn utm32n() -> Result<Metric, CrsError> {
        Ok(Metric {
            fwd: FromLonLat::new(32632)?,
            inv: ToLonLat::new(32632)?,
        })
    }
    pub(super) fn to_m(&self, g: &MultiPolygon<f64>) -> Option<MultiPolygon<f64>> {
        reproject(g, |x, y| self.fwd.convert(x, y))
    }
    pub(super) fn point_m(&self, p: &Point<f64>) -> Option<Point<f64>> {
        self.fwd.convert(p.x(), p.y()).ok().map(Point::from)
    }
    pub(super) fn to_ll(&self, g: &MultiPolygon<f64>) -> Option<MultiPolygon<f64>> {
        reproject(g, |x, y| self.inv.convert(x, y))
    }
}

/// Every coordinate of `g` through `convert`; `None` when one fails.
fn reproject(
    g: &MultiPolygon<f64>,
    convert: impl Fn(f64, f64) -> Result<(f64, f64), CrsError>,
) -> Option<MultiPolygon<f64>> {
    g.try_map_coords(|c| convert(c.x, c.y).map(|(x, y)| geo::coord! { x: x, y: y }))
        .ok()
}

/// A lon/lat box grown by `m` metres on every side.
pub(super) fn grow_ll(r: Rect<f64>, m: f64) -> Rect<f64> {
    let dlat = m / 110_000.0 + 1e-6;
    let lat = r.max().y.abs().max(r.min().y.abs()).min(89.0);
    let dlon = m / (111_320.0 * lat.to_radians().cos()).max(1.0) + 1e-6;
    Rect::new(
        (r.min().x - dlon, r.min().y - dlat),
        (r.max().x + dlon, r.max().y + dlat),
    )
}

pub(super) fn boxes_touch(a: Option<Rect<f64>>, b: Option<Rect<f64>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.min().x <= b.max().x
                && b.min().x <= a.max().x
                && a.min().y <= b.max().y
                && b.min().y <= a.max().y
        }
        _ => false,
    }
}

pub(super) fn mp_distance(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> f64 {
    let mut best = f64::INFINITY;
    for pa in &a.0 {
        for pb in &b.0 {
            best = best.min(Euclidean.distance(pa, pb));
        }
    }
    best
}

pub(super) fn point_distance(p: &Point<f64>, g: &MultiPolygon<f64>) -> f64 {
    g.0.iter()
        .map(|poly: &Polygon<f64>| Euclidean.distance(p, poly))
        .fold(f64::INFINITY, f64::min)
}

/// A service point in metres; the data is its position in `model.servizi_puntuali`.
pub(super) type PuntoServizio = rstar::primitives::GeomWithData<[f64; 2], usize>;

/// What every stage reads: the model, its R-trees, the rules, and the layers projected to
/// metres on first use.
pub(super) struct Ctx<'a> {
    pub(super) model: &'a Model,
    pub(super) index: &'a ModelIndex,
    pub(super) rules: &'a Regole,
    pub(super) metric: Metric,
    zone_m: Vec<Option<Option<MultiPolygon<f64>>>>,
    vincoli_m: Vec<Option<Option<MultiPolygon<f64>>>>,
    /// Service points in metres, by kind, indexed.
    pub(super) servizi: HashMap<String, rstar::RTree<PuntoServizio>>,
}

impl<'a> Ctx<'a> {
    /// The context of one screening; the service points of the kinds the rules score are
    /// projected and indexed here.
    pub(super) fn new(
        model: &'a Model,
        index: &'a ModelIndex,
        rules: &'a Regole,
        metric: Metric,
    ) -> Ctx<'a> {
        let mut per_tipo: HashMap<String, Vec<PuntoServizio>> = HashMap::new();
        for (i, s) in model.servizi_puntuali.iter().enumerate() {
            if !rules.preferenze.servizi_puntuali.contains_key(&s.tipo) {
                continue;
            }
            if let Some(pm) = metric.point_m(&s.posizione) {
                per_tipo
                    .entry(s.tipo.clone())
                    .or_default()
                    .push(PuntoServizio::new([pm.x(), pm.y()], i));
            }
        }
        Ctx {
            model,
            index,
            rules,
            metric,
            zone_m: vec![None; model.pgt_zone.len()],
            vincoli_m: vec![None; model.vincoli.len()],
            servizi: per_tipo
                .into_iter()
                .map(|(k, v)| (k, rstar::RTree::bulk_load(v)))
                .collect(),
        }
    }
}

impl Ctx<'_> {
    pub(super) fn zone(&mut self, i: usize) -> Option<&MultiPolygon<f64>> {
        if self.zone_m[i].is_none() {
            self.zone_m[i] = Some(self.metric.to_m(&self.model.pgt_zone[i].geometry));
        }
        self.zone_m[i].as_ref().and_then(|g| g.as_ref())
    }

    /// The constraint in metres, widened by its rule's buffer.
    pub(super) fn vincolo(&mut self, i: usize, buffer_m: f64) -> Option<&MultiPolygon<f64>> {
        if self.vincoli_m[i].is_none() {
            let g = self.metric.to_m(&self.model.vincoli[i].geometry).map(|g| {
                if buffer_m > 0.0 {
                    g.buffer(buffer_m)
                } else {
                    g
                }
            });
            self.vincoli_m[i] = Some(g);
        }
        self.vincoli_m[i].as_ref().and_then(|g| g.as_ref())
    }
}
