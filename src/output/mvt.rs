//! Mapbox Vector Tiles (MVT 2.1, extent 4096) of the public layers, encoded by hand (the
//! protobuf subset of the spec is a few varints and length-delimited fields).
//!
//! A [`TileSource`] is prepared once from the GeoJSON features that [`super::geojson`]
//! exposes publicly, so tiles carry exactly the same properties as `/api/layers/{layer}` and
//! no layer that is not public. Preparation projects every vertex to Web Mercator (unit square,
//! y down), interns property keys and values per layer, and bulk-loads one R-tree per layer
//! over the projected bounding boxes. A tile then costs: an R-tree query with the tile's box
//! plus a buffer, a scale/translate, a rectangle clip (Sutherland–Hodgman per ring),
//! Douglas–Peucker simplification and the protobuf writing.
//!
//! Small features: a layer has a minimum zoom below which it is not in tiles at all
//! ([`layer_min_zoom`]: `particelle`/`fabbricati` 14, `fogli` 12, every other layer always). At any zoom a polygon (each part of a multipolygon) whose
//! whole, unclipped area is under one pixel² of a tile drawn at 512 px ([`MIN_AREA`] tile
//! units²) is dropped, and so is a ring that collapses below three distinct vertices after
//! simplification and rounding. Points are never dropped.

use std::collections::{BTreeMap, HashMap};
use std::f64::consts::PI;

use geo::Rect;
use geojson::{Feature, Value as GeoValue};
use serde_json::Value as JsonValue;

use crate::analysis::Analisi;
use crate::index::LayerIndex;
use crate::output::geojson::layer_features;
use crate::output::layers::{self, Audience};

/// Tile extent (coordinates per tile side).
pub const EXTENT: u32 = 4096;
/// Buffer around each tile, in tile units, that geometry is kept in (clip rectangle).
pub const BUFFER: u32 = 64;
/// Douglas–Peucker tolerance in tile units: one pixel of a tile drawn at 512 px.
pub const SIMPLIFY_TOLERANCE: f64 = EXTENT as f64 / 512.0;
/// Smallest polygon kept, in tile units²: one pixel² of a tile drawn at 512 px.
pub const MIN_AREA: f64 = SIMPLIFY_TOLERANCE * SIMPLIFY_TOLERANCE;
/// Highest zoom a tile may be asked for.
pub const MAX_ZOOM: u8 = 22;

/// Web Mercator latitude limit.
const MAX_LAT: f64 = 85.051_128_779_806_59;

/// The zoom from which a layer is in tiles.
pub fn layer_min_zoom(layer: &str) -> u8 {
    layers::info(layer).map_or(0, |l| l.min_zoom)
}

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
enum Geom {
    /// Points in the unit square.
    Points(Vec<[f64; 2]>),
    /// Polygons: rings (exterior first), open (no repeated closing vertex), in the unit square;
    /// with the absolute area of each polygon (exterior less holes), unit square².
    Polygons(Vec<(Vec<Vec<[f64; 2]>>, f64)>),
}

#[derive(Debug)]
struct SourceFeature {
    id: u64,
    geom: Geom,
    /// (key index, value index) into the layer's tables.
    tags: Vec<(u32, u32)>,
    /// Bounding box in the unit square.
    bbox: [f64; 4],
}

/// One public layer ready to be tiled.
#[derive(Debug)]
pub struct SourceLayer {
    name: &'static str,
    min_zoom: u8,
    features: Vec<SourceFeature>,
    index: LayerIndex,
    keys: Vec<String>,
    /// Encoded `Value` messages.
    values: Vec<Vec<u8>>,
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
    /// [`super::geojson`]: no other layer can reach a tile of this source.
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
    /// when no feature falls in the tile. The caller checks the coordinates ([`valid_tile`]).
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

fn ring_area(r: &[[f64; 2]]) -> f64 {
    let n = r.len();
    if n < 3 {
        return 0.0;
    }
    let mut s = 0.0;
    for i in 0..n {
        let a = r[i];
        let b = r[(i + 1) % n];
        s += a[0] * b[1] - b[0] * a[1];
    }
    s / 2.0
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

/// Encodes a property value as an MVT `Value` message; `None` for null (left out).
fn encode_value(v: &JsonValue) -> Option<(Vec<u8>, FieldType)> {
    let mut out = Vec::new();
    let t = match v {
        JsonValue::Null => return None,
        JsonValue::Bool(b) => {
            put_varint_field(&mut out, 7, u64::from(*b));
            FieldType::Boolean
        }
        JsonValue::Number(n) => {
            if let Some(u) = n.as_u64() {
                put_varint_field(&mut out, 5, u);
            } else if let Some(i) = n.as_i64() {
                put_varint_field(&mut out, 6, zigzag64(i));
            } else {
                put_tag(&mut out, 3, 1);
                out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_le_bytes());
            }
            FieldType::Number
        }
        JsonValue::String(s) => {
            put_len_field(&mut out, 1, s.as_bytes());
            FieldType::String
        }
        other => {
            put_len_field(&mut out, 1, other.to_string().as_bytes());
            FieldType::String
        }
    };
    Some((out, t))
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

// ---------------------------------------------------------------------------
// Tile encoding

#[derive(Default)]
struct Scratch {
    ring: Vec<[f64; 2]>,
    clip: Vec<[f64; 2]>,
    keep: Vec<bool>,
    ints: Vec<[i32; 2]>,
    geometry: Vec<u32>,
    feature: Vec<u8>,
}

/// Writes the `Layer` message of `layer` for tile `z/x/y` into `out`; returns the number of
/// features written.
fn encode_layer(
    layer: &SourceLayer,
    z: u8,
    x: u32,
    y: u32,
    out: &mut Vec<u8>,
    s: &mut Scratch,
) -> usize {
    if z < layer.min_zoom || layer.features.is_empty() {
        return 0;
    }
    let n = (1u64 << z) as f64;
    let scale = n * f64::from(EXTENT);
    let (ox, oy) = (
        f64::from(x) * f64::from(EXTENT),
        f64::from(y) * f64::from(EXTENT),
    );
    let b = f64::from(BUFFER);
    let lo = -b;
    let hi = f64::from(EXTENT) + b;
    let query = Rect::new(
        ((ox + lo) / scale, (oy + lo) / scale),
        ((ox + hi) / scale, (oy + hi) / scale),
    );
    let hits = layer.index.query_bbox(query);
    if hits.is_empty() {
        return 0;
    }
    let min_area_unit = MIN_AREA / (scale * scale);
    let mut local_keys: Vec<u32> = vec![u32::MAX; layer.keys.len()];
    let mut used_keys: Vec<u32> = Vec::new();
    let mut local_values: HashMap<u32, u32> = HashMap::new();
    let mut used_values: Vec<u32> = Vec::new();
    let mut count = 0;
    let mut features = Vec::new();
    for i in hits {
        let Some(f) = layer.features.get(i) else {
            continue;
        };
        s.geometry.clear();
        let gtype = match &f.geom {
            Geom::Points(ps) => {
                s.ints.clear();
                for p in ps {
                    let px = p[0] * scale - ox;
                    let py = p[1] * scale - oy;
                    if (lo..=hi).contains(&px) && (lo..=hi).contains(&py) {
                        s.ints.push([px.round() as i32, py.round() as i32]);
                    }
                }
                if s.ints.is_empty() {
                    continue;
                }
                encode_points(&s.ints, &mut s.geometry);
                1
            }
            Geom::Polygons(polys) => {
                let inside = f.bbox[0] * scale - ox >= lo
                    && f.bbox[1] * scale - oy >= lo
                    && f.bbox[2] * scale - ox <= hi
                    && f.bbox[3] * scale - oy <= hi;
                let mut cursor = [0i32, 0i32];
                for (rings, area) in polys {
                    if *area < min_area_unit {
                        continue;
                    }
                    for (ri, ring) in rings.iter().enumerate() {
                        s.ring.clear();
                        s.ring
                            .extend(ring.iter().map(|p| [p[0] * scale - ox, p[1] * scale - oy]));
                        if !inside {
                            clip_ring(&mut s.ring, &mut s.clip, lo, hi);
                        }
                        simplify_ring(&s.ring, SIMPLIFY_TOLERANCE, &mut s.keep);
                        s.ints.clear();
                        for (p, k) in s.ring.iter().zip(&s.keep) {
                            if !*k {
                                continue;
                            }
                            let q = [p[0].round() as i32, p[1].round() as i32];
                            if s.ints.last() != Some(&q) {
                                s.ints.push(q);
                            }
                        }
                        while s.ints.len() > 1 && s.ints.first() == s.ints.last() {
                            s.ints.pop();
                        }
                        let a = int_area(&s.ints);
                        if s.ints.len() < 3 || a == 0 {
                            if ri == 0 {
                                // Exterior gone (nothing of this polygon written yet).
                                break;
                            }
                            continue;
                        }
                        // Exterior positive area (clockwise on screen), holes negative.
                        if (ri == 0) != (a > 0) {
                            s.ints.reverse();
                        }
                        encode_ring(&s.ints, &mut cursor, &mut s.geometry);
                    }
                }
                if s.geometry.is_empty() {
                    continue;
                }
                3
            }
        };
        // Feature message
        s.feature.clear();
        put_varint_field(&mut s.feature, 1, f.id);
        let mut tag_buf: Vec<u32> = Vec::with_capacity(f.tags.len() * 2);
        for &(k, v) in &f.tags {
            let lk = match local_keys.get(k as usize) {
                Some(&u32::MAX) => {
                    let id = used_keys.len() as u32;
                    used_keys.push(k);
                    if let Some(slot) = local_keys.get_mut(k as usize) {
                        *slot = id;
                    }
                    id
                }
                Some(&id) => id,
                None => continue,
            };
            let lv = *local_values.entry(v).or_insert_with(|| {
                used_values.push(v);
                (used_values.len() - 1) as u32
            });
            tag_buf.push(lk);
            tag_buf.push(lv);
        }
        put_packed(&mut s.feature, 2, &tag_buf);
        put_varint_field(&mut s.feature, 3, gtype);
        put_packed(&mut s.feature, 4, &s.geometry);
        put_len_field(&mut features, 2, &s.feature);
        count += 1;
    }
    if count == 0 {
        return 0;
    }
    put_varint_field(out, 15, 2);
    put_len_field(out, 1, layer.name.as_bytes());
    out.extend_from_slice(&features);
    for k in used_keys {
        if let Some(name) = layer.keys.get(k as usize) {
            put_len_field(out, 3, name.as_bytes());
        }
    }
    for v in used_values {
        if let Some(bytes) = layer.values.get(v as usize) {
            put_len_field(out, 4, bytes);
        }
    }
    put_varint_field(out, 5, u64::from(EXTENT));
    count
}

fn int_area(r: &[[i32; 2]]) -> i64 {
    let n = r.len();
    if n < 3 {
        return 0;
    }
    let mut s: i64 = 0;
    for i in 0..n {
        let a = r[i];
        let b = r[(i + 1) % n];
        s += i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1]);
    }
    s
}

fn command(id: u32, count: usize) -> u32 {
    (id & 7) | ((count as u32) << 3)
}

fn encode_points(ps: &[[i32; 2]], g: &mut Vec<u32>) {
    g.push(command(1, ps.len()));
    let mut c = [0i32, 0i32];
    for p in ps {
        g.push(zigzag32(p[0] - c[0]));
        g.push(zigzag32(p[1] - c[1]));
        c = *p;
    }
}

fn encode_ring(r: &[[i32; 2]], cursor: &mut [i32; 2], g: &mut Vec<u32>) {
    let Some(first) = r.first() else {
        return;
    };
    g.push(command(1, 1));
    g.push(zigzag32(first[0] - cursor[0]));
    g.push(zigzag32(first[1] - cursor[1]));
    *cursor = *first;
    g.push(command(2, r.len() - 1));
    for p in &r[1..] {
        g.push(zigzag32(p[0] - cursor[0]));
        g.push(zigzag32(p[1] - cursor[1]));
        *cursor = *p;
    }
    g.push(command(7, 1));
}

/// Sutherland–Hodgman clip of an open ring to the square `[lo, hi]²`, in place.
fn clip_ring(ring: &mut Vec<[f64; 2]>, tmp: &mut Vec<[f64; 2]>, lo: f64, hi: f64) {
    // (axis, bound, keep when coordinate >= bound)
    for (axis, bound, ge) in [(0, lo, true), (0, hi, false), (1, lo, true), (1, hi, false)] {
        tmp.clear();
        let n = ring.len();
        if n == 0 {
            return;
        }
        let inside = |p: &[f64; 2]| {
            if ge {
                p[axis] >= bound
            } else {
                p[axis] <= bound
            }
        };
        for i in 0..n {
            let cur = ring[i];
            let prev = ring[(i + n - 1) % n];
            let (ci, pi) = (inside(&cur), inside(&prev));
            if ci != pi {
                let t = (bound - prev[axis]) / (cur[axis] - prev[axis]);
                let mut p = [
                    prev[0] + (cur[0] - prev[0]) * t,
                    prev[1] + (cur[1] - prev[1]) * t,
                ];
                p[axis] = bound;
                tmp.push(p);
            }
            if ci {
                tmp.push(cur);
            }
        }
        std::mem::swap(ring, tmp);
    }
}

fn seg_dist2(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let (qx, qy) = if len2 == 0.0 {
        (a[0], a[1])
    } else {
        let t = (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0);
        (a[0] + t * dx, a[1] + t * dy)
    };
    (p[0] - qx).powi(2) + (p[1] - qy).powi(2)
}

/// Douglas–Peucker over an open ring seen as closed (the first vertex repeated at the end):
/// marks in `keep` the vertices to keep.
fn simplify_ring(r: &[[f64; 2]], tolerance: f64, keep: &mut Vec<bool>) {
    let n = r.len();
    keep.clear();
    keep.resize(n, false);
    if n < 4 {
        keep.iter_mut().for_each(|k| *k = true);
        return;
    }
    keep[0] = true;
    let t2 = tolerance * tolerance;
    let at = |i: usize| r[i % n];
    let mut stack = vec![(0usize, n)];
    while let Some((a, b)) = stack.pop() {
        let mut best = 0.0;
        let mut idx = 0;
        for (i, p) in r.iter().enumerate().take(b).skip(a + 1) {
            let d = seg_dist2(*p, at(a), at(b));
            if d > best {
                best = d;
                idx = i;
            }
        }
        if best > t2 {
            keep[idx] = true;
            stack.push((a, idx));
            stack.push((idx, b));
        }
    }
}

// ---------------------------------------------------------------------------
// Protobuf writing

fn zigzag32(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

#[cfg(test)]
fn unzigzag(v: u32) -> i32 {
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_tag(out: &mut Vec<u8>, field: u32, wire: u32) {
    put_varint(out, u64::from((field << 3) | wire));
}

fn put_varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    put_tag(out, field, 0);
    put_varint(out, v);
}

fn put_len_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_tag(out, field, 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_packed(out: &mut Vec<u8>, field: u32, vals: &[u32]) {
    if vals.is_empty() {
        return;
    }
    let mut body = Vec::with_capacity(vals.len() * 2);
    for v in vals {
        put_varint(&mut body, u64::from(*v));
    }
    put_len_field(out, field, &body);
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
    fn clip_square_to_tile() {
        let mut r = vec![
            [-100.0, -100.0],
            [5000.0, -100.0],
            [5000.0, 5000.0],
            [-100.0, 5000.0],
        ];
        let mut tmp = Vec::new();
        clip_ring(&mut r, &mut tmp, -64.0, 4160.0);
        assert_eq!(r.len(), 4);
        for p in &r {
            assert!(p[0] >= -64.0 && p[0] <= 4160.0 && p[1] >= -64.0 && p[1] <= 4160.0);
        }
        let a = ring_area(&r).abs();
        assert!((a - 4224.0 * 4224.0).abs() < 1e-6);
    }

    #[test]
    fn simplify_keeps_corners_drops_noise() {
        let r = vec![
            [0.0, 0.0],
            [50.0, 0.5],
            [100.0, 0.0],
            [100.0, 100.0],
            [0.0, 100.0],
        ];
        let mut keep = Vec::new();
        simplify_ring(&r, 2.0, &mut keep);
        assert_eq!(keep, vec![true, false, true, true, true]);
    }

    #[test]
    fn zigzag_and_cursor() {
        for v in [-5, 0, 7, -4096, 4096] {
            assert_eq!(unzigzag(zigzag32(v)), v);
        }
        let mut g = Vec::new();
        let mut c = [0, 0];
        encode_ring(&[[1, 1], [3, 1], [3, 3]], &mut c, &mut g);
        assert_eq!(c, [3, 3]);
        assert_eq!(g, vec![9, 2, 2, 18, 4, 0, 0, 4, 15]);
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
