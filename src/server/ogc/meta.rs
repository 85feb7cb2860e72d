//! Per-layer facts computed once per loaded workspace: how features are named in URLs, the
//! property names and the extent.

use crate::output::layers::Audience;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};

use geo::Rect;
use geojson::feature::Id;
use geojson::Feature;

use tokio::sync::OnceCell;

use super::super::heavy::{Heavy, HeavyError};
use super::super::AppState;
use crate::analysis::Analisi;
use crate::output::geojson as render;
use crate::output::layers::Layer;

/// How features of a layer are named in URLs.
#[derive(Debug)]
pub(super) enum Ids {
    /// The ids of `layer_features`, unique in the layer: id → position.
    Native(HashMap<String, usize>),
    /// Ids repeat: the position in the layer is the id.
    Positional,
}

#[derive(Debug)]
pub(super) struct LayerMeta {
    pub(super) ids: Ids,
    /// Property names, in order of first appearance.
    pub(super) properties: Vec<String>,
    /// Bounding box of all geometries (lon/lat).
    pub(super) extent: Option<[f64; 4]>,
}

/// Layer facts per loaded model; a `Weak` guards against a cache outliving its model. The
/// first request for a layer computes its facts within the bound of heavy work; identical
/// requests meanwhile wait for that computation.
#[derive(Debug, Default)]
pub(super) struct MetaCache {
    /// By (audience, layer): the public's view of a layer may hold fewer features.
    layers: Mutex<HashMap<(Audience, &'static str), CacheEntry>>,
}

pub(super) type Cache = Arc<MetaCache>;
pub(super) type CacheEntry = (Weak<Analisi>, Arc<OnceCell<Arc<LayerMeta>>>);

impl MetaCache {
    fn cell(&self, state: &AppState, layer: Layer) -> Arc<OnceCell<Arc<LayerMeta>>> {
        let mut map = match self.layers.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        let key = (layer.caller(), layer.name());
        if let Some((weak, cell)) = map.get(&key) {
            if weak.upgrade().is_some_and(|s| Arc::ptr_eq(&s, state)) {
                return cell.clone();
            }
        }
        let cell = Arc::new(OnceCell::new());
        map.insert(key, (Arc::downgrade(state), cell.clone()));
        cell
    }

    /// The facts of `layer`, computed on first use within the bound of `heavy`.
    pub(super) async fn get(
        &self,
        state: &AppState,
        layer: Layer,
        heavy: &Heavy,
    ) -> Result<Arc<LayerMeta>, HeavyError> {
        let cell = self.cell(state, layer);
        cell.get_or_try_init(|| {
            let state = state.clone();
            async move {
                heavy
                    .run(move |cancel| compute_meta(&state, layer, &|| cancel.is_cancelled()))
                    .await?
                    .map(Arc::new)
                    .ok_or(HeavyError::Cancelled)
            }
        })
        .await
        .cloned()
    }
}

pub(super) const CHUNK: usize = 2_000;

/// The facts of a layer, from every feature; `None` when `stop` says so between chunks.
pub(super) fn compute_meta(
    state: &Analisi,
    layer: Layer,
    stop: &dyn Fn() -> bool,
) -> Option<LayerMeta> {
    let n = render::layer_len(state, layer);
    let mut ids: HashMap<String, usize> = HashMap::with_capacity(n);
    let mut unique = true;
    let mut properties = Vec::new();
    let mut seen = HashSet::new();
    let mut extent: Option<[f64; 4]> = render::layer_index(state, layer)
        .envelope()
        .map(rect_to_array);
    let compute_extent = extent.is_none();
    let mut start = 0;
    while start < n {
        if stop() {
            return None;
        }
        let sel: Vec<usize> = (start..(start + CHUNK).min(n)).collect();
        let feats = render::layer_features(state, layer, Some(&sel));
        for (&i, f) in sel.iter().zip(&feats) {
            if unique {
                match native_id(f) {
                    Some(id) => {
                        if ids.insert(id, i).is_some() {
                            unique = false;
                        }
                    }
                    None => unique = false,
                }
            }
            for k in f.properties.iter().flat_map(|p| p.keys()) {
                if seen.insert(k.clone()) {
                    properties.push(k.clone());
                }
            }
            if compute_extent {
                if let Some(b) = f.geometry.as_ref().and_then(geometry_bbox) {
                    extent = Some(match extent {
                        None => b,
                        Some(e) => [
                            e[0].min(b[0]),
                            e[1].min(b[1]),
                            e[2].max(b[2]),
                            e[3].max(b[3]),
                        ],
                    });
                }
            }
        }
        start += CHUNK;
    }
    Some(LayerMeta {
        ids: if unique {
            Ids::Native(ids)
        } else {
            Ids::Positional
        },
        properties,
        extent,
    })
}

pub(super) fn native_id(f: &Feature) -> Option<String> {
    match &f.id {
        Some(Id::String(s)) => Some(s.clone()),
        Some(Id::Number(n)) => Some(n.to_string()),
        None => None,
    }
}

pub(super) fn rect_to_array(r: Rect<f64>) -> [f64; 4] {
    [r.min().x, r.min().y, r.max().x, r.max().y]
}

pub(super) fn geometry_bbox(g: &geojson::Geometry) -> Option<[f64; 4]> {
    pub(super) fn walk(v: &geojson::Value, b: &mut Option<[f64; 4]>) {
        let mut add = |p: &Vec<f64>| {
            if p.len() >= 2 {
                let (x, y) = (p[0], p[1]);
                *b = Some(match *b {
                    None => [x, y, x, y],
                    Some(e) => [e[0].min(x), e[1].min(y), e[2].max(x), e[3].max(y)],
                });
            }
        };
        use geojson::Value as V;
        match v {
            V::Point(p) => add(p),
            V::MultiPoint(ps) | V::LineString(ps) => ps.iter().for_each(add),
            V::MultiLineString(ls) | V::Polygon(ls) => ls.iter().flatten().for_each(add),
            V::MultiPolygon(pls) => pls.iter().flatten().flatten().for_each(add),
            V::GeometryCollection(gs) => gs.iter().for_each(|g| walk(&g.value, b)),
        }
    }
    let mut b = None;
    walk(&g.value, &mut b);
    b
}
