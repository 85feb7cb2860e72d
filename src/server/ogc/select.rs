//! Which features an items request selects: bounding boxes through the layer's R-tree, then
//! property filters.

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

/// Positions of the matching features, ascending (the paging order).
pub(super) fn matching_positions(state: &Analisi, layer: Layer, q: &ItemsQuery) -> Vec<usize> {
    let n = render::layer_len(state, layer);
    let index = Some(render::layer_index(state, layer));
    let mut candidates: Vec<usize> = match (&q.bbox[..], index) {
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
    let needs_features = !q.filters.is_empty() || (!q.bbox.is_empty() && index.is_none());
    if !needs_features {
        return candidates;
    }
    let mut kept = Vec::new();
    for chunk in candidates.chunks(CHUNK) {
        let feats = render::layer_features(state, layer, Some(chunk));
        for (&i, f) in chunk.iter().zip(&feats) {
            let props = f.properties.as_ref();
            let ok_filters = q
                .filters
                .iter()
                .all(|(k, want)| matches(props.and_then(|p| p.get(k)), want));
            let ok_bbox = q.bbox.is_empty()
                || index.is_some()
                || f.geometry
                    .as_ref()
                    .and_then(geometry_bbox)
                    .is_some_and(|b| {
                        q.bbox.iter().any(|r| {
                            b[0] <= r.max().x
                                && b[2] >= r.min().x
                                && b[1] <= r.max().y
                                && b[3] >= r.min().y
                        })
                    });
            if ok_filters && ok_bbox {
                kept.push(i);
            }
        }
    }
    candidates = kept;
    candidates
}
