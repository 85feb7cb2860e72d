//! Which features an items request selects: bounding boxes through the layer's R-tree, then
//! property filters.

use geojson::Feature;
use serde_json::Value;

use super::meta::{geometry_bbox, CHUNK};
use super::params::ItemsQuery;
use crate::analysis::Analisi;
use crate::output::geojson as render;
use crate::output::layers::Layer;

/// Equality of a property with a query value: strings exactly, numbers numerically,
/// booleans as `true`/`false`; `null`, arrays and objects never match.
pub(super) fn matches(v: Option<&Value>, want: &str) -> bool {
    match v {
        Some(Value::String(s)) => s == want,
        Some(Value::Number(n)) => {
            n.to_string() == want
                || match (n.as_f64(), want.trim().parse::<f64>()) {
                    (Some(a), Ok(b)) => a == b,
                    _ => false,
                }
        }
        Some(Value::Bool(b)) => want == if *b { "true" } else { "false" },
        _ => false,
    }
}

/// What an items request selects.
#[derive(Debug, Default)]
pub(super) struct Selection {
    /// Positions of the matching features, ascending (the paging order).
    pub(super) positions: Vec<usize>,
    /// Features rendered to test filters the model records could not answer.
    pub(super) rendered: usize,
}

/// The features of `layer` that `q` selects. Boxes go through the layer's R-tree; property
/// filters are tested first on the model records ([`render::plain_property`]), and only the
/// candidates left that need a computed property (or a box, on a layer without an R-tree)
/// are rendered, without geometry unless a box needs it.
pub(super) fn matching_positions(state: &Analisi, layer: Layer, q: &ItemsQuery) -> Selection {
    let n = render::layer_len(state, layer);
    let index = Some(render::layer_index(state, layer));
    let candidates: Vec<usize> = match (&q.bbox[..], index) {
        ([], _) => (0..n).collect(),
        (boxes, Some(index)) => {
            let mut v: Vec<usize> = boxes.iter().flat_map(|b| index.query_bbox(*b)).collect();
            v.sort_unstable();
            v.dedup();
            v
        }
        // A layer without an R-tree: boxes from the GeoJSON geometries.
        (_, None) => (0..n).collect(),
    };
    let bbox_by_geometry = !q.bbox.is_empty() && index.is_none();
    if q.filters.is_empty() && !bbox_by_geometry {
        return Selection {
            positions: candidates,
            rendered: 0,
        };
    }
    // The filters the records answer; `needs` marks the survivors a rendering must decide.
    let mut survivors: Vec<(usize, bool)> = Vec::new();
    for &i in &candidates {
        let mut needs = bbox_by_geometry;
        let mut ok = true;
        for (k, want) in &q.filters {
            match render::plain_property(state, layer, i, k) {
                Some(v) => {
                    if !matches(Some(&v), want) {
                        ok = false;
                        break;
                    }
                }
                None => needs = true,
            }
        }
        if ok {
            survivors.push((i, needs));
        }
    }
    let mut kept = Vec::with_capacity(survivors.len());
    let mut rendered = 0;
    for chunk in survivors.chunks(CHUNK) {
        let need: Vec<usize> = chunk.iter().filter(|(_, n)| *n).map(|(i, _)| *i).collect();
        let feats = if need.is_empty() {
            Vec::new()
        } else if bbox_by_geometry {
            render::layer_features(state, layer, Some(&need))
        } else {
            render::layer_properties(state, layer, Some(&need))
        };
        rendered += feats.len();
        let mut verdicts = feats.iter().map(|f| passes(f, q, bbox_by_geometry));
        for &(i, needs) in chunk {
            if !needs || verdicts.next().unwrap_or(false) {
                kept.push(i);
            }
        }
    }
    Selection {
        positions: kept,
        rendered,
    }
}

/// Whether a rendered feature passes every filter (and a box, when `by_geometry`).
fn passes(f: &Feature, q: &ItemsQuery, by_geometry: bool) -> bool {
    let props = f.properties.as_ref();
    let ok_filters = q
        .filters
        .iter()
        .all(|(k, want)| matches(props.and_then(|p| p.get(k)), want));
    let ok_bbox = !by_geometry
        || f.geometry
            .as_ref()
            .and_then(geometry_bbox)
            .is_some_and(|b| {
                q.bbox.iter().any(|r| {
                    b[0] <= r.max().x && b[2] >= r.min().x && b[1] <= r.max().y && b[3] >= r.min().y
                })
            });
    ok_filters && ok_bbox
}
