//! The prepared tile source: every public layer's GeoJSON features projected to Web Mercator
//! (unit square, y down), property keys and values interned per layer and pre-encoded, one
//! R-tree per layer over the projected boxes.

use std::collections::{BTreeMap, HashMap};

use geo::Rect;
use geojson::{Feature, Value as GeoValue};

use super::clip::ring_area;
use super::encode::{encode_layer, encode_value, put_len_field, Scratch};
use super::grid::{lat_to_y, lon_to_x, x_to_lon, y_to_lat};
use crate::analysis::Analisi;
use crate::index::LayerIndex;
use crate::output::geojson::layer_features;
use crate::output::layers::{self, Audience};

/// The zoom from which a layer is in tiles.
pub fn layer_min_zoom(layer: &str) -> u8 {
    layers::info(layer).map_or(0, |l| l.min_zoom)
}

/// Type of a property, as TileJSON `fields` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Number,
    Boolean,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::String => "String",
            FieldType::Number => "Number",
            FieldType::Boolean => "Boolean",
        }
    }
}

#[derive(Debug)]
pub(super) enum Geom {
    /// Points in the unit square.
    Points(Vec<[f64; 2]>),
    /// Polygons: rings (exterior first), open (no repeated closing vertex), in the unit square;
    /// with the absolute area of each polygon (exterior less holes), unit square².
    Polygons(Vec<(Vec<Vec<[f64; 2]>>, f64)>),
}

#[derive(Debug)]
pub(super) struct SourceFeature {
    pub(super) id: u64,
    pub(super) geom: Geom,
    /// (key index, value index) into the layer's tables.
    pub(super) tags: Vec<(u32, u32)>,
    /// Bounding box in the unit square.
    pub(super) bbox: [f64; 4],
}

/// One public layer ready to be tiled.
#[derive(Debug)]
pub struct SourceLayer {
    pub(super) name: &'static str,
    pub(super) min_zoom: u8,
    pub(super) features: Vec<SourceFeature>,
    pub(super) index: LayerIndex,
    pub(super) keys: Vec<String>,
    /// Encoded `Value` messages.
    pub(super) values: Vec<Vec<u8>>,
    fields: BTreeMap<String, FieldType>,
    /// Lon/lat bounds of the layer.
    bounds: Option<Rect<f64>>,
}

impl SourceLayer {
    pub fn name(&self) -> &'static str {
        self.name
    }
    pub fn min_zoom(&self) -> u8 {
        self.min_zoom
    }
    pub fn len(&self) -> usize {
        self.features.len()
    }
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }
    /// Property names and types, as in TileJSON's `vector_layers[].fields`.
    pub fn fields(&self) -> &BTreeMap<String, FieldType> {
        &self.fields
    }
    pub fn bounds(&self) -> Option<Rect<f64>> {
        self.bounds
    }
}

/// Every public layer, prepared for tiling.
#[derive(Debug)]
pub struct TileSource {
    layers: Vec<SourceLayer>,
}

impl TileSource {
    /// Prepares the layers `caller` may see ([`layers::visible`]), with the properties of
    /// [`crate::output::geojson`]: no other layer can reach a tile of this source.
    pub fn for_audience(a: &Analisi, caller: Audience) -> TileSource {
        let layers = layers::visible(caller)
            .map(|layer| {
                let feats = layer_features(a, layer, None);
                (layer.name(), feats)
            })
            .collect();
        TileSource::from_features(layers)
    }

    /// Prepares layers from GeoJSON features (lon/lat). Feature ids in tiles are positions.
    pub fn from_features(layers: Vec<(&'static str, Vec<Feature>)>) -> TileSource {
        TileSource {
            layers: layers
                .into_iter()
                .map(|(name, feats)| prepare_layer(name, &feats))
                .collect(),
        }
    }

    pub fn layers(&self) -> &[SourceLayer] {
        &self.layers
    }

    pub fn layer(&self, name: &str) -> Option<&SourceLayer> {
        self.layers.iter().find(|l| l.name == name)
    }

    /// Lon/lat bounds of all layers.
    pub fn bounds(&self) -> Option<Rect<f64>> {
        self.layers.iter().filter_map(|l| l.bounds).reduce(|a, b| {
            Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        })
    }

    /// The MVT of tile `z/x/y` holding `layer` only (`None`: every layer). An empty vector
    /// when no feature falls in the tile. The caller checks the coordinates
    /// ([`super::valid_tile`]).
    pub fn encode(&self, layer: Option<&str>, z: u8, x: u32, y: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut scratch = Scratch::default();
        for l in &self.layers {
            if layer.is_some_and(|n| n != l.name) {
                continue;
            }
            let mut buf = Vec::new();
            if encode_layer(l, z, x, y, &mut buf, &mut scratch) > 0 {
                // Tile.layers = 3
                put_len_field(&mut out, 3, &buf);
            }
        }
        out
    }
}

fn project(c: &[f64]) -> Option<[f64; 2]> {
    match c {
        [lon, lat, ..] if lon.is_finite() && lat.is_finite() => {
            Some([lon_to_x(*lon), lat_to_y(*lat)])
        }
        _ => None,
    }
}

fn open_ring(ring: &[Vec<f64>]) -> Vec<[f64; 2]> {
    let mut r: Vec<[f64; 2]> = ring.iter().filter_map(|c| project(c)).collect();
    if r.len() > 1 && r.first() == r.last() {
        r.pop();
    }
    r
}

fn polygon(rings: &[Vec<Vec<f64>>]) -> Option<(Vec<Vec<[f64; 2]>>, f64)> {
    let rings: Vec<Vec<[f64; 2]>> = rings.iter().map(|r| open_ring(r)).collect();
    if rings.first().is_none_or(|r| r.len() < 3) {
        return None;
    }
    let mut area = ring_area(&rings[0]).abs();
    for h in &rings[1..] {
        area -= ring_area(h).abs();
    }
    let rings = rings.into_iter().filter(|r| r.len() >= 3).collect();
    Some((rings, area.max(0.0)))
}

fn geometry(v: &GeoValue) -> Option<Geom> {
    match v {
        GeoValue::Point(c) => project(c).map(|p| Geom::Points(vec![p])),
        GeoValue::MultiPoint(cs) => {
            let pts: Vec<[f64; 2]> = cs.iter().filter_map(|c| project(c)).collect();
            (!pts.is_empty()).then_some(Geom::Points(pts))
        }
        GeoValue::Polygon(rings) => polygon(rings).map(|p| Geom::Polygons(vec![p])),
        GeoValue::MultiPolygon(polys) => {
            let ps: Vec<_> = polys.iter().filter_map(|p| polygon(p)).collect();
            (!ps.is_empty()).then_some(Geom::Polygons(ps))
        }
        _ => None,
    }
}

fn bbox_of(g: &Geom) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    let mut add = |p: &[f64; 2]| {
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    };
    match g {
        Geom::Points(ps) => ps.iter().for_each(&mut add),
        Geom::Polygons(ps) => ps
            .iter()
            .flat_map(|(rings, _)| rings.first())
            .flatten()
            .for_each(&mut add),
    }
    b
}

fn prepare_layer(name: &'static str, feats: &[Feature]) -> SourceLayer {
    let mut keys: Vec<String> = Vec::new();
    let mut key_ix: HashMap<String, u32> = HashMap::new();
    let mut values: Vec<Vec<u8>> = Vec::new();
    let mut value_ix: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut fields: BTreeMap<String, FieldType> = BTreeMap::new();
    let mut features = Vec::with_capacity(feats.len());
    let mut lonlat: Option<[f64; 4]> = None;
    for (pos, f) in feats.iter().enumerate() {
        let Some(geom) = f.geometry.as_ref().and_then(|g| geometry(&g.value)) else {
            continue;
        };
        let mut tags = Vec::new();
        if let Some(props) = &f.properties {
            for (k, v) in props {
                let Some((bytes, t)) = encode_value(v) else {
                    continue;
                };
                fields.entry(k.clone()).or_insert(t);
                let ki = *key_ix.entry(k.clone()).or_insert_with(|| {
                    keys.push(k.clone());
                    (keys.len() - 1) as u32
                });
                let vi = match value_ix.get(&bytes) {
                    Some(i) => *i,
                    None => {
                        values.push(bytes.clone());
                        let i = (values.len() - 1) as u32;
                        value_ix.insert(bytes, i);
                        i
                    }
                };
                tags.push((ki, vi));
            }
        }
        let bbox = bbox_of(&geom);
        let ll = [
            x_to_lon(bbox[0]),
            y_to_lat(bbox[3]),
            x_to_lon(bbox[2]),
            y_to_lat(bbox[1]),
        ];
        lonlat = Some(match lonlat {
            None => ll,
            Some(a) => [
                a[0].min(ll[0]),
                a[1].min(ll[1]),
                a[2].max(ll[2]),
                a[3].max(ll[3]),
            ],
        });
        features.push(SourceFeature {
            id: pos as u64,
            geom,
            tags,
            bbox,
        });
    }
    let index = LayerIndex::from_boxes(
        features
            .iter()
            .map(|f| Some(Rect::new((f.bbox[0], f.bbox[1]), (f.bbox[2], f.bbox[3])))),
    );
    SourceLayer {
        name,
        min_zoom: layer_min_zoom(name),
        features,
        index,
        keys,
        values,
        fields,
        bounds: lonlat.map(|b| Rect::new((b[0], b[1]), (b[2], b[3]))),
    }
}
