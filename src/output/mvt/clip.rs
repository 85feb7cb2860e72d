//! Geometry in tile units: ring area, the clip of a ring to the buffered tile
//! (Sutherland–Hodgman) and its simplification (Douglas–Peucker).

use super::grid::EXTENT;

/// Douglas–Peucker tolerance in tile units: one pixel of a tile drawn at 512 px.
pub const SIMPLIFY_TOLERANCE: f64 = EXTENT as f64 / 512.0;
/// Smallest polygon kept, in tile units²: one pixel² of a tile drawn at 512 px.
pub const MIN_AREA: f64 = SIMPLIFY_TOLERANCE * SIMPLIFY_TOLERANCE;

pub(super) fn ring_area(r: &[[f64; 2]]) -> f64 {
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

/// Sutherland–Hodgman clip of an open ring to the square `[lo, hi]²`, in place.
pub(super) fn clip_ring(ring: &mut Vec<[f64; 2]>, tmp: &mut Vec<[f64; 2]>, lo: f64, hi: f64) {
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
pub(super) fn simplify_ring(r: &[[f64; 2]], tolerance: f64, keep: &mut Vec<bool>) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
