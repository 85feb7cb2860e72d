//! The territory of the demo: the real comune boundaries (`data/ambito9_confini.geojson`,
//! ISTAT/openpolis) projected to UTM 32N, a 200 m grid laid over them with the share of each
//! cell in each comune (the whole cell, or the cell clipped by the boundary), the urban cores,
//! the cadastral sheets (1 km blocks) and the tracing of cell sets into polygons.

use std::collections::BTreeMap;

use geo::orient::{Direction, Orient};
use geo::{
    Area, BooleanOps, BoundingRect, Contains, CoordsIter, Intersects, Line, LineString,
    MultiPolygon, Point, Polygon, Rect,
};

use super::cadastre::Poly;
use super::DemoError;
use crate::crs::FromLonLat;

/// Side of a grid cell, metres.
pub const CELL: i64 = 200;
/// Cells per side of a cadastral sheet block (1 km).
pub const BLOCK: usize = 5;
/// Smallest share of a cell, m², that belongs to a comune: thinner slivers along a border hold
/// no parcel.
pub const MIN_PART_M2: f64 = 100.0;

const COMUNI_CSV: &str = include_str!("../../data/ambito9_comuni.csv");
const CONFINI_GEOJSON: &str = include_str!("../../data/ambito9_confini.geojson");

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

/// The boundary of each comune of `facts` (same order), lon/lat, exteriors counter-clockwise,
/// from the embedded `data/ambito9_confini.geojson`.
pub fn confini(facts: &[ComuneFact]) -> Result<Vec<MultiPolygon<f64>>, DemoError> {
    let file = "ambito9_confini.geojson";
    let fc: geojson::FeatureCollection = CONFINI_GEOJSON
        .parse()
        .map_err(|e| DemoError::Other(format!("{file}: {e}")))?;
    let mut by_code: BTreeMap<String, MultiPolygon<f64>> = BTreeMap::new();
    for (n, f) in fc.features.into_iter().enumerate() {
        let err = |field: &str, what: String| {
            DemoError::Other(format!(
                "{file}: feature n. {}, campo {field}: {what}",
                n + 1
            ))
        };
        let code = f
            .property("com_istat_code")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| err("com_istat_code", "proprietà mancante".into()))?;
        let geometry = f
            .geometry
            .ok_or_else(|| err("geometry", "geometria mancante".into()))?;
        let g =
            geo::Geometry::<f64>::try_from(geometry).map_err(|e| err("geometry", e.to_string()))?;
        let mp = match g {
            geo::Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
            geo::Geometry::MultiPolygon(mp) => mp,
            _ => return Err(err("geometry", "attesi Polygon o MultiPolygon".into())),
        };
        by_code.insert(code, mp.orient(Direction::Default));
    }
    facts
        .iter()
        .map(|f| {
            by_code.remove(&f.istat).ok_or_else(|| {
                DemoError::Other(format!(
                    "{file}: manca il confine del comune {} (codice ISTAT {})",
                    f.nome, f.istat
                ))
            })
        })
        .collect()
}

/// A polygon on the cell lattice: exterior ring and holes, vertices in lattice units
/// (multiply by [`CELL`] and add the grid origin for metres). Rings are open (not repeated).
pub type LatticePoly = (Vec<(i64, i64)>, Vec<Vec<(i64, i64)>>);

/// What of a cell lies in a comune.
#[derive(Debug, Clone)]
pub enum Part {
    /// The whole cell.
    Whole,
    /// The cell clipped by the comune's boundary (UTM metres), at least [`MIN_PART_M2`].
    Clipped(MultiPolygon<f64>),
}

/// The grid, the comuni's shapes and what of each cell lies in each comune.
#[derive(Debug, Clone)]
pub struct Territory {
    /// Origin of the grid in UTM 32N metres (multiples of 1000).
    pub x0: i64,
    pub y0: i64,
    pub nx: usize,
    pub ny: usize,
    /// The comuni's boundaries as published (lon/lat), in the facts' order.
    pub confini: Vec<MultiPolygon<f64>>,
    /// The same boundaries in UTM 32N metres.
    pub shapes: Vec<MultiPolygon<f64>>,
    /// Per cell, the comuni it has a part in, by comune index.
    parts: Vec<Vec<(usize, Part)>>,
    /// Seed point per comune (the facts' centroid), metres.
    pub seeds: Vec<(f64, f64)>,
    /// Seed cell per comune: a whole cell, the one nearest the seed point.
    pub seed_cell: Vec<usize>,
    /// Cells of each comune (whole or clipped), sorted by distance from the seed.
    pub cells_by_distance: Vec<Vec<usize>>,
    /// Urban core cells per comune: the whole cells nearest the seed.
    core_cells: Vec<Vec<usize>>,
    /// Number of historic-centre cells per comune (the first of the core).
    naf_len: Vec<usize>,
}

pub const NONE: usize = usize::MAX;

impl Territory {
    pub fn ncells(&self) -> usize {
        self.nx * self.ny
    }

    pub fn ij(&self, c: usize) -> (usize, usize) {
        (c % self.nx, c / self.nx)
    }

    /// South-west corner of a cell, metres.
    pub fn corner(&self, c: usize) -> (i64, i64) {
        let (i, j) = self.ij(c);
        (self.x0 + i as i64 * CELL, self.y0 + j as i64 * CELL)
    }

    fn cell_rect(&self, c: usize) -> Rect<f64> {
        let (x, y) = self.corner(c);
        Rect::new((x as f64, y as f64), ((x + CELL) as f64, (y + CELL) as f64))
    }

    /// What of cell `c` lies in comune `k`, if anything.
    pub fn part(&self, c: usize, k: usize) -> Option<&Part> {
        self.parts
            .get(c)?
            .iter()
            .find(|(kk, _)| *kk == k)
            .map(|(_, p)| p)
    }

    /// Whether cell `c` has a part in comune `k`.
    pub fn belongs(&self, c: usize, k: usize) -> bool {
        self.part(c, k).is_some()
    }

    /// Whether cell `c` lies wholly inside comune `k`.
    pub fn whole(&self, c: usize, k: usize) -> bool {
        matches!(self.part(c, k), Some(Part::Whole))
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
        &self.core_cells[k]
    }

    pub fn naf(&self, k: usize) -> &[usize] {
        &self.core_cells[k][..self.naf_len[k]]
    }

    /// Polygons drawn on cells of comune `k` (`cells`), clipped to its boundary where one of
    /// the cells is not wholly inside it; parts under `min_m2` are dropped.
    pub fn clip_to_comune(
        &self,
        k: usize,
        cells: &[usize],
        polys: Vec<Poly>,
        min_m2: f64,
    ) -> Vec<Poly> {
        if cells.iter().all(|&c| self.whole(c, k)) {
            return polys;
        }
        from_geo(&to_geo(&polys).intersection(&self.shapes[k]), min_m2)
    }

    /// Polygons drawn on cell `c`, clipped to the part of the cell in comune `k`; parts under
    /// `min_m2` are dropped (nothing is left when the cell has no part in `k`).
    pub fn clip_to_part(&self, c: usize, k: usize, polys: Vec<Poly>, min_m2: f64) -> Vec<Poly> {
        match self.part(c, k) {
            Some(Part::Whole) => polys,
            Some(Part::Clipped(part)) => from_geo(&to_geo(&polys).intersection(part), min_m2),
            None => Vec::new(),
        }
    }
}

/// Polygons in metres as a `geo` multipolygon.
pub fn to_geo(polys: &[Poly]) -> MultiPolygon<f64> {
    MultiPolygon::new(
        polys
            .iter()
            .map(|(e, h)| {
                Polygon::new(
                    LineString::from(e.clone()),
                    h.iter().map(|r| LineString::from(r.clone())).collect(),
                )
            })
            .collect(),
    )
}

/// A `geo` multipolygon as open rings, leaving out the polygons under `min_m2`.
pub fn from_geo(mp: &MultiPolygon<f64>, min_m2: f64) -> Vec<Poly> {
    let ring = |l: &LineString<f64>| -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = l.coords().map(|c| (c.x, c.y)).collect();
        if v.len() > 1 && v.first() == v.last() {
            v.pop();
        }
        v
    };
    mp.0.iter()
        .filter(|p| p.unsigned_area() >= min_m2 && p.exterior().coords_count() >= 4)
        .map(|p| (ring(p.exterior()), p.interiors().iter().map(ring).collect()))
        .collect()
}

fn project(mp: &MultiPolygon<f64>, proj: &FromLonLat) -> Result<MultiPolygon<f64>, DemoError> {
    use geo::MapCoords;
    Ok(mp.try_map_coords(|c| {
        let (x, y) = proj.convert(c.x, c.y)?;
        Ok::<_, crate::crs::CrsError>(geo::Coord { x, y })
    })?)
}

/// Lays the grid over the comuni's real boundaries and finds each cell's part in each comune;
/// then seeds, urban cores and historic centres.
pub fn build(facts: &[ComuneFact]) -> Result<Territory, DemoError> {
    let proj = FromLonLat::new(32632)?;
    let confini = confini(facts)?;
    let shapes = confini
        .iter()
        .map(|mp| project(mp, &proj))
        .collect::<Result<Vec<_>, _>>()?;
    // A boundary filed under the wrong code would not have the comune's area.
    for (f, s) in facts.iter().zip(&shapes) {
        let km2 = s.unsigned_area() / 1e6;
        if (km2 - f.area_km2).abs() > 0.05 * f.area_km2 {
            return Err(DemoError::Other(format!(
                "ambito9_confini.geojson: il confine di {} (codice ISTAT {}) misura {km2:.2} km², \
                 ambito9_comuni.csv ne indica {:.2}",
                f.nome, f.istat, f.area_km2
            )));
        }
    }
    let mut seeds = Vec::with_capacity(facts.len());
    for f in facts {
        seeds.push(proj.convert(f.lon, f.lat)?);
    }
    let bounds = shapes
        .iter()
        .filter_map(|s| s.bounding_rect())
        .reduce(|a, b| {
            Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        })
        .ok_or_else(|| DemoError::Other("ambito9_confini.geojson: nessun confine".into()))?;
    let x0 = (bounds.min().x / 1000.0).floor() as i64 * 1000;
    let y0 = (bounds.min().y / 1000.0).floor() as i64 * 1000;
    let nx = ((bounds.max().x - x0 as f64) / CELL as f64).ceil() as usize + 1;
    let ny = ((bounds.max().y - y0 as f64) / CELL as f64).ceil() as usize + 1;
    let n = facts.len();
    let mut t = Territory {
        x0,
        y0,
        nx,
        ny,
        confini,
        shapes,
        parts: vec![Vec::new(); nx * ny],
        seeds,
        seed_cell: Vec::with_capacity(n),
        cells_by_distance: Vec::with_capacity(n),
        core_cells: Vec::with_capacity(n),
        naf_len: Vec::with_capacity(n),
    };
    let full = (CELL * CELL) as f64;
    let shapes = std::mem::take(&mut t.shapes);
    for (k, shape) in shapes.iter().enumerate() {
        let Some(bb) = shape.bounding_rect() else {
            continue;
        };
        let (i0, j0) = t.cell_index(bb.min().x, bb.min().y);
        let (i1, j1) = t.cell_index(bb.max().x, bb.max().y);
        let w = i1 - i0 + 1;
        // Cells the boundary passes through.
        let mut crossed = vec![false; w * (j1 - j0 + 1)];
        for ring in shape
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        {
            for line in ring.lines() {
                let lb = line.bounding_rect();
                let (a0, b0) = t.cell_index(lb.min().x, lb.min().y);
                let (a1, b1) = t.cell_index(lb.max().x, lb.max().y);
                for j in b0..=b1 {
                    for i in a0..=a1 {
                        if line_meets(&line, &t.cell_rect(j * nx + i)) {
                            crossed[(j - j0) * w + (i - i0)] = true;
                        }
                    }
                }
            }
        }
        for j in j0..=j1 {
            for i in i0..=i1 {
                let c = j * nx + i;
                let rect = t.cell_rect(c);
                let part = if crossed[(j - j0) * w + (i - i0)] {
                    let piece = rect.to_polygon().intersection(shape);
                    let area = piece.unsigned_area();
                    if area >= full - 1e-3 {
                        Some(Part::Whole)
                    } else if area >= MIN_PART_M2 {
                        Some(Part::Clipped(piece))
                    } else {
                        None
                    }
                } else if shape.contains(&Point::from(rect.center())) {
                    Some(Part::Whole)
                } else {
                    None
                };
                if let Some(p) = part {
                    t.parts[c].push((k, p));
                }
            }
        }
    }
    t.shapes = shapes;
    // Cells of each comune by distance from the seed; the seed cell, urban core and historic
    // centre are whole cells.
    let mut by_dist: Vec<Vec<(u64, usize)>> = vec![Vec::new(); n];
    for (c, parts) in t.parts.iter().enumerate() {
        for (k, _) in parts {
            by_dist[*k].push((t.dist2(*k, c), c));
        }
    }
    for (k, v) in by_dist.iter_mut().enumerate() {
        v.sort_unstable();
        let cells: Vec<usize> = v.iter().map(|p| p.1).collect();
        let whole: Vec<usize> = cells.iter().copied().filter(|&c| t.whole(c, k)).collect();
        let Some(&seed) = whole.first() else {
            return Err(DemoError::Other(format!(
                "il comune {} non contiene nessuna cella intera di {CELL} m",
                facts[k].nome
            )));
        };
        t.seed_cell.push(seed);
        let core = ((facts[k].popolazione as f64 / 250.0).round() as usize)
            .max(3)
            .min(whole.len());
        let naf = ((core as f64 * 0.25).round() as usize).clamp(1, core);
        t.core_cells.push(whole[..core].to_vec());
        t.naf_len.push(naf);
        t.cells_by_distance.push(cells);
    }
    Ok(t)
}

/// Whether a segment meets a cell (its interior or its edges).
fn line_meets(line: &Line<f64>, rect: &Rect<f64>) -> bool {
    line.intersects(rect)
}

impl Territory {
    /// Column and row of the cell holding a point (clamped to the grid).
    fn cell_index(&self, x: f64, y: f64) -> (usize, usize) {
        let i = ((x - self.x0 as f64) / CELL as f64).floor().max(0.0) as usize;
        let j = ((y - self.y0 as f64) / CELL as f64).floor().max(0.0) as usize;
        (i.min(self.nx - 1), j.min(self.ny - 1))
    }
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
pub fn sheets(t: &Territory) -> Vec<Sheet> {
    let mut out = Vec::new();
    for k in 0..t.shapes.len() {
        // (block row from the north, block column, first cell, cells).
        let mut comps: Vec<(usize, usize, usize, Vec<usize>)> = Vec::new();
        let mut seen = vec![false; t.ncells()];
        let mut own = t.cells_by_distance[k].clone();
        own.sort_unstable();
        for c in own {
            if seen[c] {
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
                    if !seen[nb] && t.belongs(nb, k) && ni / BLOCK == bi && nj / BLOCK == bj {
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
            comps.push((t.ny / BLOCK - bj, bi, first.0 * t.nx + first.1, comp));
        }
        comps.sort_by_key(|a| (a.0, a.1, a.2));
        let core = t.core(k);
        for (idx, (_, _, _, cells)) in comps.into_iter().enumerate() {
            let urban = cells.iter().any(|c| core.contains(c));
            out.push(Sheet {
                comune: k,
                numero: idx as u32 + 1,
                cells,
                urban,
            });
        }
    }
    out
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
