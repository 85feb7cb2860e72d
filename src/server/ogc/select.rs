//! Which features an items request selects: bounding boxes (and the box of a filter's
//! `S_INTERSECTS`) through the layer's R-tree, then property filters and the CQL2 filter.
//! Properties are read from the model records only where they are the rendered values and
//! open to the caller ([`render::plain_property`]); everything else — computed properties,
//! and for the public the withheld counts, which are `null` — is tested on the rendered,
//! protected feature, so a filter can never select on a value the caller may not see.

use geojson::Feature;
use serde_json::Value;

use super::cql2::Record;
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
    let filter = q.filter.as_ref();
    // A filter that needs the geometry to touch a box: only what the R-tree finds there.
    if let (Some(env), Some(index)) = (filter.and_then(|f| f.required_envelope()), index) {
        let near = index.query_bbox(env);
        candidates.retain(|i| near.binary_search(i).is_ok());
    }
    let bbox_by_geometry = !q.bbox.is_empty() && index.is_none();
    let filter_spatial = filter.is_some_and(|f| f.spatial());
    let filter_properties = filter.map(|f| f.properties()).unwrap_or_default();
    if q.filters.is_empty() && filter.is_none() && !bbox_by_geometry {
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
            if let Some(f) = filter {
                let plain = (!filter_spatial)
                    .then(|| plain_record(state, layer, i, &filter_properties))
                    .flatten();
                match plain {
                    Some(rec) => ok = f.selects(&rec),
                    None => needs = true,
                }
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
        } else if bbox_by_geometry || filter_spatial {
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

/// The filter's properties of the feature at `i` from the model record, when every one of
/// them is a plain, open field (see [`render::plain_property`]).
fn plain_record(
    state: &Analisi,
    layer: Layer,
    i: usize,
    properties: &[&'static str],
) -> Option<Plain> {
    let mut values = Vec::with_capacity(properties.len());
    for p in properties {
        values.push((*p, render::plain_property(state, layer, i, p)?));
    }
    Some(Plain(values))
}

/// Property values read from a model record.
struct Plain(Vec<(&'static str, Value)>);

impl Record for Plain {
    fn property(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
    fn geometry(&self) -> Option<&geo::Geometry<f64>> {
        None
    }
}

/// A rendered feature, its geometry in `geo` form when a filter reads it.
struct Rendered<'a> {
    feature: &'a Feature,
    geometry: Option<geo::Geometry<f64>>,
}

impl Record for Rendered<'_> {
    fn property(&self, name: &str) -> Option<&Value> {
        self.feature.properties.as_ref()?.get(name)
    }
    fn geometry(&self) -> Option<&geo::Geometry<f64>> {
        self.geometry.as_ref()
    }
}

/// Whether a rendered feature passes every filter (and a box, when `by_geometry`).
fn passes(f: &Feature, q: &ItemsQuery, by_geometry: bool) -> bool {
    let props = f.properties.as_ref();
    let ok_filters = q
        .filters
        .iter()
        .all(|(k, want)| matches(props.and_then(|p| p.get(k)), want))
        && q.filter.as_ref().is_none_or(|e| {
            let geometry = if e.spatial() {
                f.geometry
                    .as_ref()
                    .and_then(|g| geo::Geometry::<f64>::try_from(&g.value).ok())
            } else {
                None
            };
            e.selects(&Rendered {
                feature: f,
                geometry,
            })
        });
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
