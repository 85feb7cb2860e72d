//! Where things go inside each comune: urban core, historic centre, agricultural ring,
//! transformation areas, river, cemetery, landslide and wooded areas. Cadastre, PGT and
//! inventory all read this plan, so they agree with each other.

use std::collections::VecDeque;

use super::territory::{Rng, Territory};

#[derive(Debug, Clone, Default)]
pub struct ComunePlan {
    /// Historic centre cells (NAF).
    pub naf: Vec<usize>,
    /// Consolidated fabric cells, residential and tertiary.
    pub tuc_res: Vec<usize>,
    pub tuc_ter: Vec<usize>,
    /// Rural cells near the core.
    pub agri: Vec<usize>,
    /// Transformation areas (each a list of cells).
    pub at: Vec<Vec<usize>>,
    /// Non-transformable wooded areas.
    pub nt: Vec<Vec<usize>>,
    /// Cells crossed by the stream.
    pub river: Vec<usize>,
    /// Cell whose centre holds the cemetery.
    pub cemetery: Option<usize>,
    /// Landslide area.
    pub landslide: Vec<usize>,
    /// Cells holding a planned service (a square in the middle of the cell).
    pub planned_services: Vec<usize>,
    /// Rural cells with a farmstead parcel inside a larger one (a parcel with a hole).
    pub cascine: Vec<usize>,
    /// A rural cell whose first and last strips form one parcel in two pieces.
    pub multi: Option<usize>,
    /// Cells of a power line band.
    pub power_line: Vec<usize>,
}

/// Distance in cell steps from the core, through the comune's own cells.
fn core_distance(t: &Territory, k: usize) -> Vec<u32> {
    let mut d = vec![u32::MAX; t.ncells()];
    let mut q = VecDeque::new();
    for &c in t.core(k) {
        d[c] = 0;
        q.push_back(c);
    }
    while let Some(c) = q.pop_front() {
        for nb in t.neighbours(c) {
            if t.belongs(nb, k) && d[nb] == u32::MAX {
                d[nb] = d[c] + 1;
                q.push_back(nb);
            }
        }
    }
    d
}

fn cluster(t: &Territory, k: usize, start: usize, size: usize, taken: &[bool]) -> Vec<usize> {
    let mut out = vec![start];
    let mut q = VecDeque::from([start]);
    while let Some(c) = q.pop_front() {
        for nb in t.neighbours(c) {
            if out.len() >= size {
                break;
            }
            if t.belongs(nb, k) && !taken[nb] && !out.contains(&nb) {
                out.push(nb);
                q.push_back(nb);
            }
        }
    }
    out.sort_unstable();
    out
}

pub fn plan(t: &Territory, k: usize, popolazione: u32, rng: &mut Rng) -> ComunePlan {
    let mut p = ComunePlan::default();
    let dist = core_distance(t, k);
    let cells = &t.cells_by_distance[k];
    let core = t.core(k);
    p.naf = t.naf(k).to_vec();
    let tuc: Vec<usize> = core[p.naf.len()..].to_vec();
    let ter = if tuc.len() >= 5 { tuc.len() / 5 } else { 0 };
    p.tuc_res = tuc[..tuc.len() - ter].to_vec();
    p.tuc_ter = tuc[tuc.len() - ter..].to_vec();
    let mut taken = vec![false; t.ncells()];
    for &c in core {
        taken[c] = true;
    }
    // Cells adjacent to the core, in a stable order.
    let mut edge: Vec<usize> = cells.iter().copied().filter(|&c| dist[c] == 1).collect();
    rng.shuffle(&mut edge);
    let mut next_edge = edge.into_iter();
    let n_at = match popolazione {
        0..=1499 => 0,
        1500..=2999 => 1,
        3000..=4999 => 2,
        _ => 3,
    };
    for _ in 0..n_at {
        let Some(c) = next_edge.by_ref().find(|&c| !taken[c]) else {
            break;
        };
        let size = rng.range(1, 2) as usize;
        let area = cluster(t, k, c, size, &taken);
        let area: Vec<usize> = area.into_iter().filter(|&a| dist[a] >= 1).collect();
        for &a in &area {
            taken[a] = true;
        }
        p.at.push(area);
    }
    // The cemetery and the planned services are squares inside one cell: whole cells only.
    if let Some(c) = next_edge.by_ref().find(|&c| !taken[c] && t.whole(c, k)) {
        taken[c] = true;
        p.cemetery = Some(c);
    }
    let n_serv = if popolazione >= 2000 { 2 } else { 1 };
    for _ in 0..n_serv {
        if let Some(c) = next_edge.by_ref().find(|&c| !taken[c] && t.whole(c, k)) {
            taken[c] = true;
            p.planned_services.push(c);
        }
    }
    let (seed_i, seed_j) = t.ij(t.seed_cell[k]);
    // The stream crosses the comune three cells south of the centre.
    if seed_j >= 3 {
        let row = seed_j - 3;
        for &c in cells {
            if t.ij(c).1 == row && !taken[c] {
                p.river.push(c);
            }
        }
        p.river.sort_unstable();
        for &c in &p.river {
            taken[c] = true;
        }
    }
    for &c in cells {
        if !taken[c] && dist[c] <= 7 {
            p.agri.push(c);
        }
    }
    let remote: Vec<usize> = cells
        .iter()
        .copied()
        .filter(|&c| !taken[c] && dist[c] >= 9 && dist[c] != u32::MAX)
        .collect();
    let mut agri_taken = taken.clone();
    for &c in &p.agri {
        agri_taken[c] = true;
    }
    let pick_remote = |rng: &mut Rng, taken: &[bool]| -> Option<usize> {
        let free: Vec<usize> = remote.iter().copied().filter(|&c| !taken[c]).collect();
        if free.is_empty() {
            None
        } else {
            Some(*rng.pick(&free))
        }
    };
    for _ in 0..2 {
        if let Some(c) = pick_remote(rng, &agri_taken) {
            let size = rng.range(4, 9) as usize;
            let area = cluster(t, k, c, size, &agri_taken);
            for &a in &area {
                agri_taken[a] = true;
            }
            p.nt.push(area);
        }
    }
    if let Some(c) = pick_remote(rng, &agri_taken) {
        let area = cluster(t, k, c, rng.range(3, 6) as usize, &agri_taken);
        for &a in &area {
            agri_taken[a] = true;
        }
        p.landslide = area;
    }
    // Farmsteads and the two-piece parcel: plain rural cells wholly inside the comune.
    let plain: Vec<usize> = cells
        .iter()
        .copied()
        .filter(|&c| !taken[c] && dist[c] >= 2 && dist[c] != u32::MAX && t.whole(c, k))
        .collect();
    if !plain.is_empty() {
        for _ in 0..3 {
            let c = *rng.pick(&plain);
            if !p.cascine.contains(&c) {
                p.cascine.push(c);
            }
        }
        let c = *rng.pick(&plain);
        if !p.cascine.contains(&c) {
            p.multi = Some(c);
        }
    }
    // A power line runs north-south four cells east of the centre in every other comune.
    if k.is_multiple_of(2) {
        let col = seed_i + 4;
        for &c in cells {
            if t.ij(c).0 == col && dist[c] >= 2 {
                p.power_line.push(c);
            }
        }
        p.power_line.sort_unstable();
    }
    p
}
