//! MVT encoding: a layer's features in one tile (scaled to the extent, clipped, simplified,
//! rounded, oriented), property values as `Value` messages, and the protobuf subset the spec
//! needs (varints, zigzag, packed and length-delimited fields), written by hand.

use std::collections::HashMap;

use geo::Rect;
use serde_json::Value as JsonValue;

use super::clip::{clip_ring, simplify_ring, MIN_AREA, SIMPLIFY_TOLERANCE};
use super::grid::{BUFFER, EXTENT};
use super::source::{FieldType, Geom, SourceLayer};

/// Encodes a property value as an MVT `Value` message; `None` for null (left out).
pub(super) fn encode_value(v: &JsonValue) -> Option<(Vec<u8>, FieldType)> {
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

#[derive(Default)]
pub(super) struct Scratch {
    ring: Vec<[f64; 2]>,
    clip: Vec<[f64; 2]>,
    keep: Vec<bool>,
    ints: Vec<[i32; 2]>,
    geometry: Vec<u32>,
    feature: Vec<u8>,
}

/// Writes the `Layer` message of `layer` for tile `z/x/y` into `out`; returns the number of
/// features written.
pub(super) fn encode_layer(
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

pub(super) fn put_len_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
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
}
