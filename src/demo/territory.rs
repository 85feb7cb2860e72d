//! The synthetic territory: comuni grown on a 200 m grid in UTM 32N, their urban cores, the
//! cadastral sheets (1 km blocks) and the tracing of cell sets into polygons.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use super::DemoError;
use crate::crs::FromLonLat;

/// Side of a grid cell, metres.
pub const CELL: i64 = 200;
/// Cells per side of a cadastral sheet block (1 km).
pub const BLOCK: usize = 5;

const COMUNI_CSV: &str = include_str!("../../data/ambito9_comuni.csv");

/// One comune of the Ambito as listed in the facts file.
#[derive(Debug, Clone)]
pub struct ComuneFact {
    pub istat: String,
    pub belfiore: String,
    pub nome: String,
    pub sub_ambito: String,
    pub popolazione: u32,
    pub area_km2: f64,
    pub lon: f64,
    pub lat: f64,
}

pub fn comuni_facts() -> Result<Vec<ComuneFact>, DemoError> {
    let mut rdr = csv::Reader::from_reader(COMUNI_CSV.as_bytes());
    let mut out = Vec::new();
    for rec in rdr.records() {
        let r = rec.map_err(|e| DemoError::Other(format!("ambito9_comuni.csv: {e}")))?;
        let get = |i: usize| r.get(i).unwrap_or("").trim().to_string();
        let num = |i: usize| -> Result<f64, DemoError> {
            get(i).parse::<f64>().map_err(|e| {
                DemoError::Other(format!("ambito9_comuni.csv: valore {:?}: {e}", get(i)))
            })
        };
        out.push(ComuneFact {
            istat: get(0),
            belfiore: get(1),
            nome: get(2),
            sub_ambito: get(3),
            popolazione: num(4)? as u32,
            area_km2: num(5)?,
            lon: num(6)?,
            lat: num(7)?,
        });
    }
    Ok(out)
}

/// A polygon on the cell lattice: exterior ring and holes, vertices in lattice units
/// (multiply by [`CELL`] and add the grid origin for metres). Rings are open (not repeated).
pub type LatticePoly = (Vec<(i64, i64)>, Vec<Vec<(i64, i64)>>);

/// The grid and who owns each cell.
#[derive(Debug, Clone)]
pub struct Territory {
    /// Origin of the grid in UTM 32N metres (multiples of 1000).
    pub x0: i64,
    pub y0: i64,
    pub nx: usize,
    pub ny: usize,
    /// Owner comune index per cell (`usize::MAX` = outside the Ambito).
    pub owner: Vec<usize>,
    /// Seed point per comune (projected centroid), metres.
    pub seeds: Vec<(f64, f64)>,
    /// Seed cell per comune.
    pub seed_cell: Vec<usize>,
    /// Target cell count per comune.
    pub target: Vec<usize>,
    /// Cells of each comune, sorted by distance from the seed (nearest first).
    pub cells_by_distance: Vec<Vec<usize>>,
    /// Number of urban core cells per comune (the first of `cells_by_distance`).
    pub core_len: Vec<usize>,
    /// Number of historic-centre cells per comune (the first of the core).
    pub naf_len: Vec<usize>,
}

pub const NONE: usize = usize::MAX;

impl Territory {
    pub fn ij(&self, c: usize) -> (usize, usize) {
        (c % self.nx, c / self.nx)
    }

    /// South-west corner of a cell, metres.
    pub fn corner(&self, c: usize) -> (i64, i64) {
        let (i, j) = self.ij(c);
        (self.x0 + i as i64 * CELL, self.y0 + j as i64 * CELL)
    }

    pub fn neighbours(&self, c: usize) -> impl Iterator<Item = usize> + '_ {
        let (i, j) = self.ij(c);
        let mut v = [NONE; 4];
        if i > 0 {
            v[0] = c - 1;
        }
        if i + 1 < self.nx {
            v[1] = c + 1;
        }
        if j > 0 {
            v[2] = c - self.nx;
        }
        if j + 1 < self.ny {
            v[3] = c + self.nx;
        }
        v.into_iter().filter(|&n| n != NONE)
    }

    fn dist2(&self, k: usize, c: usize) -> u64 {
        let (x, y) = self.corner(c);
        let cx = x as f64 + CELL as f64 / 2.0;
        let cy = y as f64 + CELL as f64 / 2.0;
        let (sx, sy) = self.seeds[k];
        ((cx - sx).powi(2) + (cy - sy).powi(2)).round() as u64
    }

    /// Metres of a lattice vertex.
    pub fn lattice_to_m(&self, p: (i64, i64)) -> (f64, f64) {
        ((self.x0 + p.0 * CELL) as f64, (self.y0 + p.1 * CELL) as f64)
    }

    pub fn core(&self, k: usize) -> &[usize] {
        &self.cells_by_distance[k][..self.core_len[k]]
    }

    pub fn naf(&self, k: usize) -> &[usize] {
        &self.cells_by_distance[k][..self.naf_len[k]]
    }
}

/// Grows the comuni from their centroids until each has its target number of cells.
pub fn grow(facts: &[ComuneFact]) -> Result<Territory, DemoError> {
    let proj = FromLonLat::new(32632)?;
    let mut seeds = Vec::with_capacity(facts.len());
    for f in facts {
        seeds.push(proj.convert(f.lon, f.lat)?);
    }
    let margin = 16_000.0;
    let minx = seeds.iter().map(|s| s.0).fold(f64::INFINITY, f64::min) - margin;
    let maxx = seeds.iter().map(|s| s.0).fold(f64::NEG_INFINITY, f64::max) + margin;
    let miny = seeds.iter().map(|s| s.1).fold(f64::INFINITY, f64::min) - margin;
    let maxy = seeds.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max) + margin;
    let x0 = (minx / 1000.0).floor() as i64 * 1000;
    let y0 = (miny / 1000.0).floor() as i64 * 1000;
    let nx = ((maxx - x0 as f64) / CELL as f64).ceil() as usize;
    let ny = ((maxy - y0 as f64) / CELL as f64).ceil() as usize;
    let n = facts.len();
    let target: Vec<usize> = facts
        .iter()
        .map(|f| (f.area_km2 / 0.04).round() as usize)
        .collect();
    let mut t = Territory {
        x0,
        y0,
        nx,
        ny,
        owner: vec![NONE; nx * ny],
        seeds,
        seed_cell: Vec::with_capacity(n),
        target: target.clone(),
        cells_by_distance: Vec::new(),
        core_len: Vec::new(),
        naf_len: Vec::new(),
    };
    for k in 0..n {
        let (sx, sy) = t.seeds[k];
        let i = ((sx - x0 as f64) / CELL as f64).floor() as usize;
        let j = ((sy - y0 as f64) / CELL as f64).floor() as usize;
        let c = j * nx + i;
        if t.owner[c] != NONE {
            return Err(DemoError::Other(format!(
                "due comuni nella stessa cella: {} e {}",
                facts[t.owner[c]].nome, facts[k].nome
            )));
        }
        t.owner[c] = k;
        t.seed_cell.push(c);
    }
    let mut count = vec![1usize; n];
    let mut heaps: Vec<BinaryHeap<Reverse<(u64, usize)>>> = vec![BinaryHeap::new(); n];
    for (k, heap) in heaps.iter_mut().enumerate() {
        let sc = t.seed_cell[k];
        for nb in t.neighbours(sc).collect::<Vec<_>>() {
            let d = t.dist2(k, nb);
            heap.push(Reverse((d, nb)));
        }
    }
    let max_target = target.iter().copied().max().unwrap_or(1) as f64;
    let mut credit = vec![0.0f64; n];
    loop {
        let mut progress = false;
        for k in 0..n {
            if count[k] >= target[k] {
                continue;
            }
            credit[k] += target[k] as f64 / max_target * 3.0;
            while credit[k] >= 1.0 && count[k] < target[k] {
                let Some(Reverse((_, c))) = heaps[k].pop() else {
                    break;
                };
                if t.owner[c] != NONE {
                    continue;
                }
                t.owner[c] = k;
                count[k] += 1;
                credit[k] -= 1.0;
                progress = true;
                for nb in t.neighbours(c).collect::<Vec<_>>() {
                    if t.owner[nb] == NONE {
                        let d = t.dist2(k, nb);
                        heaps[k].push(Reverse((d, nb)));
                    }
                }
            }
        }
        if !progress {
            break;
        }
    }
    // Comuni enclosed before reaching their size take cells from their neighbours, which in
    // turn grow elsewhere (a chain of single-cell moves towards free land).
    let mut guard = 0usize;
    while let Some(k) = (0..n).find(|&k| count[k] < target[k]) {
        guard += 1;
        if guard > 200_000 {
            return Err(DemoError::Other(
                "impossibile completare i confini comunali".into(),
            ));
        }
        augment(&mut t, k, &mut count)?;
    }
    // Cells of each comune by distance from the seed, urban core and historic centre.
    let mut by_dist: Vec<Vec<(u64, usize)>> = vec![Vec::new(); n];
    for (c, &o) in t.owner.iter().enumerate() {
        if o != NONE {
            by_dist[o].push((t.dist2(o, c), c));
        }
    }
    for (k, v) in by_dist.iter_mut().enumerate() {
        v.sort_unstable();
        t.cells_by_distance.push(v.iter().map(|p| p.1).collect());
        let core = ((facts[k].popolazione as f64 / 250.0).round() as usize).max(3);
        let naf = ((core as f64 * 0.25).round() as usize).max(1);
        t.core_len.push(core.min(v.len()));
        t.naf_len.push(naf);
    }
    Ok(t)
}

/// Moves one cell towards comune `k` along a chain of neighbouring comuni ending in free land.
fn augment(t: &mut Territory, k: usize, count: &mut [usize]) -> Result<(), DemoError> {
    let n = count.len();
    // Comune adjacency and free frontier.
    let mut adj = vec![vec![false; n]; n];
    let mut has_free = vec![false; n];
    for c in 0..t.owner.len() {
        let o = t.owner[c];
        if o == NONE {
            continue;
        }
        for nb in t.neighbours(c) {
            let p = t.owner[nb];
            if p == NONE {
                has_free[o] = true;
            } else if p != o {
                adj[o][p] = true;
            }
        }
    }
    // BFS from k to the nearest comune with free land.
    let mut prev = vec![NONE; n];
    let mut seen = vec![false; n];
    seen[k] = true;
    let mut q = VecDeque::from([k]);
    let mut end = NONE;
    while let Some(a) = q.pop_front() {
        if has_free[a] {
            end = a;
            break;
        }
        for b in 0..n {
            if adj[a][b] && !seen[b] {
                seen[b] = true;
                prev[b] = a;
                q.push_back(b);
            }
        }
    }
    if end == NONE {
        return Err(DemoError::Other(
            "nessuna terra libera raggiungibile".into(),
        ));
    }
    // The end comune takes the free cell nearest its seed.
    let mut best: Option<(u64, usize)> = None;
    for c in 0..t.owner.len() {
        if t.owner[c] != NONE {
            continue;
        }
        if t.neighbours(c).any(|nb| t.owner[nb] == end) {
            let d = t.dist2(end, c);
            if best.is_none_or(|b| (d, c) < b) {
                best = Some((d, c));
            }
        }
    }
    let Some((_, free)) = best else {
        return Err(DemoError::Other("frontiera libera non trovata".into()));
    };
    t.owner[free] = end;
    count[end] += 1;
    // Then cells move back along the chain: each receiver takes a cell from its donor.
    let mut receiver = end;
    while receiver != k {
        let donor = receiver;
        let recv = prev[donor];
        transfer(t, donor, recv)?;
        count[donor] -= 1;
        count[recv] += 1;
        receiver = recv;
    }
    Ok(())
}

/// Gives one boundary cell of `donor` to `recv`, keeping the donor connected.
fn transfer(t: &mut Territory, donor: usize, recv: usize) -> Result<(), DemoError> {
    let mut cand: Vec<(u64, usize)> = Vec::new();
    for c in 0..t.owner.len() {
        if t.owner[c] == donor
            && c != t.seed_cell[donor]
            && t.neighbours(c).any(|nb| t.owner[nb] == recv)
        {
            cand.push((t.dist2(recv, c), c));
        }
    }
    cand.sort_unstable();
    for (_, c) in cand {
        t.owner[c] = recv;
        if connected(t, donor) {
            return Ok(());
        }
        t.owner[c] = donor;
    }
    Err(DemoError::Other("nessuna cella cedibile tra comuni".into()))
}

fn connected(t: &Territory, k: usize) -> bool {
    let total = t.owner.iter().filter(|&&o| o == k).count();
    let mut seen = vec![false; t.owner.len()];
    let s = t.seed_cell[k];
    seen[s] = true;
    let mut q = vec![s];
    let mut n = 1;
    while let Some(c) = q.pop() {
        for nb in t.neighbours(c) {
            if !seen[nb] && t.owner[nb] == k {
                seen[nb] = true;
                n += 1;
                q.push(nb);
            }
        }
    }
    n == total
}

/// A cadastral sheet: connected cells of one comune inside one 1 km block.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub comune: usize,
    pub numero: u32,
    pub cells: Vec<usize>,
    pub urban: bool,
}

/// Splits each comune's cells into sheets, numbered in reading order (north-west first).
pub fn sheets(t: &Territory) -> (Vec<Sheet>, Vec<usize>) {
    let n = t.target.len();
    let mut sheet_of = vec![NONE; t.owner.len()];
    // Per comune: (block row from the north, block column, first cell, cells).
    type Component = (usize, usize, usize, Vec<usize>);
    let mut per_comune: Vec<Vec<Component>> = vec![Vec::new(); n];
    let mut seen = vec![false; t.owner.len()];
    for c in 0..t.owner.len() {
        let k = t.owner[c];
        if k == NONE || seen[c] {
            continue;
        }
        let (i, j) = t.ij(c);
        let (bi, bj) = (i / BLOCK, j / BLOCK);
        let mut comp = vec![c];
        seen[c] = true;
        let mut q = vec![c];
        while let Some(a) = q.pop() {
            for nb in t.neighbours(a) {
                let (ni, nj) = t.ij(nb);
                if !seen[nb] && t.owner[nb] == k && ni / BLOCK == bi && nj / BLOCK == bj {
                    seen[nb] = true;
                    comp.push(nb);
                    q.push(nb);
                }
            }
        }
        comp.sort_unstable();
        let first = comp
            .iter()
            .map(|&a| {
                let (i, j) = t.ij(a);
                (t.ny - j, i)
            })
            .min()
            .unwrap_or((0, 0));
        per_comune[k].push((t.ny / BLOCK - bj, bi, first.0 * t.nx + first.1, comp));
    }
    let mut out = Vec::new();
    for (k, mut v) in per_comune.into_iter().enumerate() {
        v.sort_by_key(|a| (a.0, a.1, a.2));
        let core: Vec<usize> = t.core(k).to_vec();
        for (idx, (_, _, _, cells)) in v.into_iter().enumerate() {
            let urban = cells.iter().any(|c| core.contains(c));
            for &c in &cells {
                sheet_of[c] = out.len();
            }
            out.push(Sheet {
                comune: k,
                numero: idx as u32 + 1,
                cells,
                urban,
            });
        }
    }
    (out, sheet_of)
}

/// Traces the outline of a set of cells into polygons with holes (lattice coordinates).
/// Cells touching only at a corner are kept apart. Output order is deterministic.
pub fn trace(t: &Territory, cells: &[usize]) -> Vec<LatticePoly> {
    let mut set = std::collections::BTreeSet::new();
    for &c in cells {
        let (i, j) = t.ij(c);
        set.insert((i as i64, j as i64));
    }
    // Directed boundary edges with the region on the left.
    let mut edges: Vec<((i64, i64), (i64, i64))> = Vec::new();
    for &(i, j) in &set {
        if !set.contains(&(i, j - 1)) {
            edges.push(((i, j), (i + 1, j)));
        }
        if !set.contains(&(i + 1, j)) {
            edges.push(((i + 1, j), (i + 1, j + 1)));
        }
        if !set.contains(&(i, j + 1)) {
            edges.push(((i + 1, j + 1), (i, j + 1)));
        }
        if !set.contains(&(i - 1, j)) {
            edges.push(((i, j + 1), (i, j)));
        }
    }
    let mut from: BTreeMap<(i64, i64), Vec<usize>> = BTreeMap::new();
    for (e, (a, _)) in edges.iter().enumerate() {
        from.entry(*a).or_default().push(e);
    }
    let mut used = vec![false; edges.len()];
    let mut rings: Vec<Vec<(i64, i64)>> = Vec::new();
    for start in 0..edges.len() {
        if used[start] {
            continue;
        }
        let mut ring = Vec::new();
        let mut e = start;
        loop {
            used[e] = true;
            let (a, b) = edges[e];
            ring.push(a);
            let d = (b.0 - a.0, b.1 - a.1);
            let prefs = [(-d.1, d.0), d, (d.1, -d.0)];
            let outs = from.get(&b).map(Vec::as_slice).unwrap_or(&[]);
            let mut next = None;
            for p in prefs {
                if let Some(&o) = outs.iter().find(|&&o| {
                    !used[o] && {
                        let (oa, ob) = edges[o];
                        (ob.0 - oa.0, ob.1 - oa.1) == p
                    }
                }) {
                    next = Some(o);
                    break;
                }
            }
            match next {
                Some(o) => e = o,
                None => break,
            }
        }
        rings.push(simplify(ring));
    }
    let mut outers: Vec<LatticePoly> = Vec::new();
    let mut holes = Vec::new();
    for r in rings {
        if area2(&r) > 0 {
            outers.push((r, Vec::new()));
        } else {
            holes.push(r);
        }
    }
    for h in holes {
        // A point just inside the hole: right of its first edge, at its middle.
        let (a, b) = (h[0], h[1 % h.len()]);
        let d = (b.0 - a.0, b.1 - a.1);
        let len = ((d.0 * d.0 + d.1 * d.1) as f64).sqrt().max(1.0);
        let px = (a.0 + b.0) as f64 / 2.0 + d.1 as f64 / len * 0.25;
        let py = (a.1 + b.1) as f64 / 2.0 - d.0 as f64 / len * 0.25;
        let mut best: Option<(i64, usize)> = None;
        for (idx, (o, _)) in outers.iter().enumerate() {
            if point_in_ring(px, py, o) {
                let ar = area2(o);
                if best.is_none_or(|b| ar < b.0) {
                    best = Some((ar, idx));
                }
            }
        }
        if let Some((_, idx)) = best {
            outers[idx].1.push(h);
        }
    }
    outers
}

/// Rotates a ring to start from its lowest-left vertex, so it is written the same way every
/// time. Collinear lattice vertices are kept: neighbouring outlines then share exactly the same
/// vertices and stay free of slivers once projected and rounded.
fn simplify(ring: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    let mut out = ring;
    if let Some(pos) = out
        .iter()
        .enumerate()
        .min_by_key(|(_, p)| (p.1, p.0))
        .map(|(i, _)| i)
    {
        out.rotate_left(pos);
    }
    out
}

/// Twice the signed area of a ring (positive = counter-clockwise).
pub fn area2(r: &[(i64, i64)]) -> i64 {
    let n = r.len();
    let mut s = 0;
    for k in 0..n {
        let a = r[k];
        let b = r[(k + 1) % n];
        s += a.0 * b.1 - b.0 * a.1;
    }
    s
}

fn point_in_ring(px: f64, py: f64, r: &[(i64, i64)]) -> bool {
    let n = r.len();
    let mut inside = false;
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = (r[i].0 as f64, r[i].1 as f64);
        let (xj, yj) = (r[j].0 as f64, r[j].1 as f64);
        if (yi > py) != (yj > py) && px < (xj - xi) * (py - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next_u64() % v.len().max(1) as u64) as usize]
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}
