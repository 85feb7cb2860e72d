//! Spatial index: one `rstar` R-tree per layer over (bounding box, feature position in the
//! layer's `Vec`), bulk-loaded once when a model is loaded.
//!
//! Queries return feature positions; callers refine with exact geometry tests where needed.

use geo::{BoundingRect, MultiPolygon, Point, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::model::Model;

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// An R-tree over the bounding boxes of one layer's features.
#[derive(Debug, Default)]
pub struct LayerIndex {
    tree: RTree<Entry>,
}

impl LayerIndex {
    /// Bulk-loads the boxes; `None` boxes (features without geometry) are left out.
    pub fn from_boxes(boxes: impl IntoIterator<Item = Option<Rect<f64>>>) -> LayerIndex {
        let entries: Vec<Entry> = boxes
            .into_iter()
            .enumerate()
            .filter_map(|(i, r)| {
                r.map(|r| {
                    GeomWithData::new(
                        Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                        i,
                    )
                })
            })
            .collect();
        LayerIndex {
            tree: RTree::bulk_load(entries),
        }
    }

    pub fn from_polygons<'a>(geoms: impl IntoIterator<Item = &'a MultiPolygon<f64>>) -> LayerIndex {
        LayerIndex::from_boxes(geoms.into_iter().map(|g| g.bounding_rect()))
    }

    pub fn from_points<'a>(points: impl IntoIterator<Item = Option<&'a Point<f64>>>) -> LayerIndex {
        LayerIndex::from_boxes(points.into_iter().map(|p| p.map(|p| Rect::new(p.0, p.0))))
    }

    pub fn len(&self) -> usize {
        self.tree.size()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// Positions of the features whose bounding box intersects `bbox`, in ascending order.
    pub fn query_bbox(&self, bbox: Rect<f64>) -> Vec<usize> {
        let env = AABB::from_corners([bbox.min().x, bbox.min().y], [bbox.max().x, bbox.max().y]);
        let mut hits: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&env)
            .map(|e| e.data)
            .collect();
        hits.sort_unstable();
        hits
    }

    /// Positions of the features whose bounding box contains the point.
    pub fn query_point(&self, x: f64, y: f64) -> Vec<usize> {
        self.query_bbox(Rect::new((x, y), (x, y)))
    }

    /// The bounding box of the whole layer.
    pub fn envelope(&self) -> Option<Rect<f64>> {
        if self.is_empty() {
            return None;
        }
        let e = self.tree.root().envelope();
        Some(Rect::new(
            (e.lower()[0], e.lower()[1]),
            (e.upper()[0], e.upper()[1]),
        ))
    }
}

/// The R-trees of every layer of a model.
#[derive(Debug, Default)]
pub struct ModelIndex {
    pub comuni: LayerIndex,
    pub fogli: LayerIndex,
    pub particelle: LayerIndex,
    pub fabbricati: LayerIndex,
    pub alloggi_pubblici: LayerIndex,
    pub pgt_zone: LayerIndex,
    pub vincoli: LayerIndex,
    /// Area estimates of non-occupied private dwellings (aggregates, public).
    pub stock_privato: LayerIndex,
    /// Service points (schools, health, shops, stops) of the candidates' distance scores.
    pub servizi_puntuali: LayerIndex,
}

impl ModelIndex {
    pub fn build(model: &Model) -> ModelIndex {
        ModelIndex {
            comuni: LayerIndex::from_polygons(model.comuni.iter().map(|c| &c.geometry)),
            fogli: LayerIndex::from_polygons(model.fogli.iter().map(|f| &f.geometry)),
            particelle: LayerIndex::from_polygons(model.particelle.iter().map(|p| &p.geometry)),
            fabbricati: LayerIndex::from_polygons(model.fabbricati.iter().map(|f| &f.geometry)),
            alloggi_pubblici: LayerIndex::from_points(
                model.alloggi_pubblici.iter().map(|a| a.posizione.as_ref()),
            ),
            pgt_zone: LayerIndex::from_polygons(model.pgt_zone.iter().map(|z| &z.geometry)),
            vincoli: LayerIndex::from_polygons(model.vincoli.iter().map(|v| &v.geometry)),
            stock_privato: LayerIndex::from_polygons(
                model.stime_non_occupate.iter().map(|t| &t.geometry),
            ),
            servizi_puntuali: LayerIndex::from_points(
                model.servizi_puntuali.iter().map(|s| Some(&s.posizione)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn bbox_query_finds_only_intersecting_features() {
        let a = MultiPolygon(vec![
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)],
        ]);
        let b = MultiPolygon(vec![
            polygon![(x: 5.0, y: 5.0), (x: 6.0, y: 5.0), (x: 6.0, y: 6.0), (x: 5.0, y: 5.0)],
        ]);
        let idx = LayerIndex::from_polygons([&a, &b]);
        assert_eq!(idx.len(), 2);
        assert_eq!(idx.query_bbox(Rect::new((0.5, 0.5), (2.0, 2.0))), vec![0]);
        assert_eq!(
            idx.query_bbox(Rect::new((-1.0, -1.0), (10.0, 10.0))),
            vec![0, 1]
        );
        assert!(idx.query_bbox(Rect::new((2.0, 2.0), (3.0, 3.0))).is_empty());
        assert_eq!(idx.query_point(5.5, 5.5), vec![1]);
        let env = idx.envelope().expect("non-empty");
        assert_eq!((env.min().x, env.max().y), (0.0, 6.0));
    }

    #[test]
    fn points_without_position_are_left_out() {
        let p = Point::new(1.0, 1.0);
        let idx = LayerIndex::from_points([None, Some(&p)]);
        assert_eq!(idx.len(), 1);
        assert_eq!(idx.query_point(1.0, 1.0), vec![1]);
    }
}
