//! Geometry validity: finds the defects real cadastral and PGT polygons carry, repairs those that
//! can be repaired without guessing, and reports every one in Italian.
//!
//! | kind | detected when | repair |
//! |---|---|---|
//! | [`TipoProblema::CoordinataNonValida`] | a vertex is NaN or infinite | vertex dropped |
//! | [`TipoProblema::AnelloNonChiuso`] | first vertex ≠ last | ring closed |
//! | [`TipoProblema::VerticiRipetuti`] | two consecutive vertices are equal | duplicates dropped |
//! | [`TipoProblema::Spike`] | the ring turns back on itself at ~0° at a vertex | vertex dropped |
//! | [`TipoProblema::AnelloDegenere`] | < 3 distinct vertices or ~zero area | ring dropped (the whole polygon when it is the exterior) |
//! | [`TipoProblema::Autointersezione`] | a ring crosses itself (`geo::Validation`) | rebuilt with `geo::BooleanOps` (non-zero fill) when the result is valid and keeps the extent and at least the area; otherwise kept as is |
//! | [`TipoProblema::IncrocioAnelli`] | a hole crosses or touches its shell or another hole on a line | shell minus holes (`BooleanOps::difference`) when the result is valid; otherwise kept |
//! | [`TipoProblema::BucoFuoriGuscio`] | a hole lies (partly) outside its shell | dropped when wholly outside (it removes nothing); otherwise kept |
//! | [`TipoProblema::PoligoniSovrapposti`] | two polygons of one multipolygon overlap | not repaired |
//!
//! Repairs are in the coordinates of the geometry (lon/lat in the model); tolerances are relative,
//! so they do not depend on the unit. Nothing here panics, whatever the input.

use geo::algorithm::validation::{InvalidMultiPolygon, InvalidPolygon, RingRole};
use geo::{
    Area, BooleanOps, BoundingRect, Coord, Intersects, LineString, MultiPolygon, Polygon,
    Validation,
};
use serde::{Deserialize, Serialize};

/// Kinds of geometry defect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TipoProblema {
    CoordinataNonValida,
    AnelloNonChiuso,
    VerticiRipetuti,
    Spike,
    AnelloDegenere,
    Autointersezione,
    IncrocioAnelli,
    BucoFuoriGuscio,
    PoligoniSovrapposti,
}

impl TipoProblema {
    pub fn code(self) -> &'static str {
        match self {
            TipoProblema::CoordinataNonValida => "coordinata_non_valida",
            TipoProblema::AnelloNonChiuso => "anello_non_chiuso",
            TipoProblema::VerticiRipetuti => "vertici_ripetuti",
            TipoProblema::Spike => "spike",
            TipoProblema::AnelloDegenere => "anello_degenere",
            TipoProblema::Autointersezione => "autointersezione",
            TipoProblema::IncrocioAnelli => "incrocio_anelli",
            TipoProblema::BucoFuoriGuscio => "buco_fuori_guscio",
            TipoProblema::PoligoniSovrapposti => "poligoni_sovrapposti",
        }
    }

    /// Short Italian label, for summaries.
    pub fn label_it(self) -> &'static str {
        match self {
            TipoProblema::CoordinataNonValida => "coordinate non valide",
            TipoProblema::AnelloNonChiuso => "anelli non chiusi",
            TipoProblema::VerticiRipetuti => "vertici ripetuti",
            TipoProblema::Spike => "spike",
            TipoProblema::AnelloDegenere => "anelli degeneri",
            TipoProblema::Autointersezione => "autointersezioni",
            TipoProblema::IncrocioAnelli => "anelli che si incrociano",
            TipoProblema::BucoFuoriGuscio => "buchi fuori dal contorno",
            TipoProblema::PoligoniSovrapposti => "poligoni sovrapposti",
        }
    }
}

/// One defect of one geometry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problema {
    pub tipo: TipoProblema,
    /// What was found and what was done, in Italian (without the feature name).
    pub messaggio: String,
    pub riparato: bool,
}

impl Problema {
    fn new(tipo: TipoProblema, messaggio: String, riparato: bool) -> Problema {
        Problema {
            tipo,
            messaggio,
            riparato,
        }
    }
}

/// Sine of the largest turn-back angle counted as a spike (2e-6 rad, about 0.4 arc seconds).
const SPIKE_SIN: f64 = 2e-6;
/// A ring whose width across its longest chord is below this fraction of that chord is flat.
const FLAT_RATIO: f64 = 1e-9;

fn ring_name(polygon: usize, ring: Option<usize>, many: bool) -> String {
    let p = if many {
        format!(" del poligono {}", polygon + 1)
    } else {
        String::new()
    };
    match ring {
        None => format!("anello esterno{p}"),
        Some(i) => format!("buco {}{p}", i + 1),
    }
}

fn role_name(polygon: usize, role: &RingRole, many: bool) -> String {
    match role {
        RingRole::Exterior => ring_name(polygon, None, many),
        RingRole::Interior(i) => ring_name(polygon, Some(*i), many),
    }
}

fn cross(a: Coord<f64>, b: Coord<f64>) -> f64 {
    a.x * b.y - a.y * b.x
}

fn dot(a: Coord<f64>, b: Coord<f64>) -> f64 {
    a.x * b.x + a.y * b.y
}

/// Whether every vertex lies (within a relative tolerance) on one line: no area at all.
/// Self-overlapping rings whose signed area cancels out (bow-ties) are not flat.
fn is_flat(ring: &[Coord<f64>]) -> bool {
    let Some(&a) = ring.first() else {
        return true;
    };
    let len = |c: Coord<f64>| c.x.hypot(c.y);
    let Some(b) = ring
        .iter()
        .copied()
        .max_by(|p, q| len(*p - a).total_cmp(&len(*q - a)))
    else {
        return true;
    };
    let axis = b - a;
    let l = len(axis);
    if !(l.is_finite() && l > 0.0) {
        return true;
    }
    let width = ring
        .iter()
        .map(|&c| (cross(c - a, axis) / l).abs())
        .fold(0.0_f64, f64::max);
    !width.is_finite() || width <= FLAT_RATIO * l
}

/// Removes consecutive duplicates of an open ring (including last == first); returns how many.
fn drop_repeated(ring: &mut Vec<Coord<f64>>) -> usize {
    let before = ring.len();
    ring.dedup();
    while ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    before - ring.len()
}

/// Removes spike vertices of an open ring; returns how many.
fn drop_spikes(ring: &mut Vec<Coord<f64>>) -> usize {
    let mut removed = 0;
    loop {
        let n = ring.len();
        if n < 3 {
            return removed;
        }
        let spike = (0..n).find(|&i| {
            let v = ring[i];
            let a = ring[(i + n - 1) % n] - v;
            let b = ring[(i + 1) % n] - v;
            let la = a.x.hypot(a.y);
            let lb = b.x.hypot(b.y);
            la > 0.0 && lb > 0.0 && dot(a, b) > 0.0 && cross(a, b).abs() <= SPIKE_SIN * la * lb
        });
        match spike {
            Some(i) => {
                ring.remove(i);
                removed += 1;
                removed += drop_repeated(ring);
            }
            None => return removed,
        }
    }
}

/// Checks and repairs one ring; `None` when it is degenerate and must go.
fn clean_ring(
    ring: &LineString<f64>,
    name: &str,
    problems: &mut Vec<Problema>,
) -> Option<Vec<Coord<f64>>> {
    let mut coords: Vec<Coord<f64>> = ring.0.clone();
    let before = coords.len();
    coords.retain(|c| c.x.is_finite() && c.y.is_finite());
    if coords.len() < before {
        problems.push(Problema::new(
            TipoProblema::CoordinataNonValida,
            format!(
                "{name}: {} vertici con coordinate non valide (NaN o infinite), eliminati",
                before - coords.len()
            ),
            true,
        ));
    }
    if coords.len() >= 2 && coords.first() != coords.last() {
        problems.push(Problema::new(
            TipoProblema::AnelloNonChiuso,
            format!("{name}: anello non chiuso, chiuso automaticamente"),
            true,
        ));
    } else if coords.len() >= 2 {
        // Work on the open ring.
        coords.pop();
    }
    let repeated = drop_repeated(&mut coords);
    if repeated > 0 {
        problems.push(Problema::new(
            TipoProblema::VerticiRipetuti,
            format!("{name}: {repeated} vertici consecutivi ripetuti, eliminati"),
            true,
        ));
    }
    let spikes = drop_spikes(&mut coords);
    if spikes > 0 {
        problems.push(Problema::new(
            TipoProblema::Spike,
            format!("{name}: {spikes} spike (il contorno torna su se stesso), vertici eliminati"),
            true,
        ));
    }
    let degenerate = coords.len() < 3 || is_flat(&coords);
    if degenerate {
        return None;
    }
    if let Some(first) = coords.first().copied() {
        coords.push(first);
    }
    Some(coords)
}

fn unsigned_area(mp: &MultiPolygon<f64>) -> f64 {
    mp.unsigned_area()
}

fn same_extent(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> bool {
    match (a.bounding_rect(), b.bounding_rect()) {
        (Some(ra), Some(rb)) => {
            let tol = 1e-9 * (ra.width() + ra.height()).max(f64::MIN_POSITIVE);
            (ra.min().x - rb.min().x).abs() <= tol
                && (ra.min().y - rb.min().y).abs() <= tol
                && (ra.max().x - rb.max().x).abs() <= tol
                && (ra.max().y - rb.max().y).abs() <= tol
        }
        _ => false,
    }
}

/// Ring-level checks and repairs of one polygon; `None` when the polygon is dropped.
fn clean_polygon(
    polygon: &Polygon<f64>,
    index: usize,
    many: bool,
    problems: &mut Vec<Problema>,
) -> Option<Polygon<f64>> {
    let name = ring_name(index, None, many);
    let Some(exterior) = clean_ring(polygon.exterior(), &name, problems) else {
        problems.push(Problema::new(
            TipoProblema::AnelloDegenere,
            format!(
                "{name}: anello degenere (meno di 3 vertici distinti o area nulla), poligono eliminato"
            ),
            true,
        ));
        return None;
    };
    let mut interiors = Vec::new();
    for (i, hole) in polygon.interiors().iter().enumerate() {
        let name = ring_name(index, Some(i), many);
        match clean_ring(hole, &name, problems) {
            Some(c) => interiors.push(LineString::new(c)),
            None => problems.push(Problema::new(
                TipoProblema::AnelloDegenere,
                format!(
                    "{name}: anello degenere (meno di 3 vertici distinti o area nulla), eliminato"
                ),
                true,
            )),
        }
    }
    Some(Polygon::new(LineString::new(exterior), interiors))
}

/// Topological checks (geo's OGC validation) and the safe repairs of one polygon.
fn fix_topology(
    polygon: Polygon<f64>,
    index: usize,
    many: bool,
    problems: &mut Vec<Problema>,
) -> Vec<Polygon<f64>> {
    let errors = polygon.validation_errors();
    if errors.is_empty() {
        return vec![polygon];
    }
    let self_intersecting: Vec<&RingRole> = errors
        .iter()
        .filter_map(|e| match e {
            InvalidPolygon::SelfIntersection(r) => Some(r),
            _ => None,
        })
        .collect();
    if !self_intersecting.is_empty() {
        let names: Vec<String> = self_intersecting
            .iter()
            .map(|r| role_name(index, r, many))
            .collect();
        let original = MultiPolygon::new(vec![polygon.clone()]);
        let rebuilt = original.union(&MultiPolygon::<f64>::new(vec![]));
        let before = polygon.exterior().0.len();
        let safe = !rebuilt.0.is_empty()
            && rebuilt.is_valid()
            && same_extent(&original, &rebuilt)
            && unsigned_area(&rebuilt) + 1e-12 * unsigned_area(&original).max(0.0)
                >= unsigned_area(&original);
        if safe {
            problems.push(Problema::new(
                TipoProblema::Autointersezione,
                format!(
                    "{}: il contorno interseca se stesso, ricostruito in {} poligoni validi \
                     (unione geometrica, {before} vertici in origine)",
                    names.join(", "),
                    rebuilt.0.len()
                ),
                true,
            ));
            return rebuilt.0;
        }
        problems.push(Problema::new(
            TipoProblema::Autointersezione,
            format!(
                "{}: il contorno interseca se stesso; riparazione automatica non sicura, \
                 geometria lasciata invariata",
                names.join(", ")
            ),
            false,
        ));
        return vec![polygon];
    }
    let mut polygon = polygon;
    // Holes wholly outside their shell remove nothing: drop them.
    let outside: Vec<usize> = errors
        .iter()
        .filter_map(|e| match e {
            InvalidPolygon::InteriorRingNotContainedInExteriorRing(RingRole::Interior(i)) => {
                Some(*i)
            }
            _ => None,
        })
        .collect();
    let mut partly_outside: Vec<String> = Vec::new();
    if !outside.is_empty() {
        let shell = Polygon::new(polygon.exterior().clone(), vec![]);
        let mut kept = Vec::new();
        for (i, hole) in polygon.interiors().iter().enumerate() {
            let name = ring_name(index, Some(i), many);
            if !outside.contains(&i) {
                kept.push(hole.clone());
            } else if !Polygon::new(hole.clone(), vec![]).intersects(&shell) {
                problems.push(Problema::new(
                    TipoProblema::BucoFuoriGuscio,
                    format!("{name}: buco fuori dal contorno esterno, eliminato"),
                    true,
                ));
            } else {
                partly_outside.push(name);
                kept.push(hole.clone());
            }
        }
        polygon = Polygon::new(polygon.exterior().clone(), kept);
    }
    let crossing: Vec<String> = errors
        .iter()
        .filter_map(|e| match e {
            InvalidPolygon::IntersectingRingsOnALine(a, b)
            | InvalidPolygon::IntersectingRingsOnAnArea(a, b) => Some(format!(
                "{} e {}",
                role_name(index, a, many),
                role_name(index, b, many)
            )),
            _ => None,
        })
        .collect();
    let still_crossing = polygon.validation_errors().iter().any(is_crossing);
    if (!crossing.is_empty() && still_crossing) || !partly_outside.is_empty() {
        let shell = MultiPolygon::new(vec![Polygon::new(polygon.exterior().clone(), vec![])]);
        let holes = MultiPolygon::new(
            polygon
                .interiors()
                .iter()
                .map(|h| Polygon::new(h.clone(), vec![]))
                .collect(),
        );
        let rebuilt = shell.difference(&holes);
        let repaired = !rebuilt.0.is_empty() && rebuilt.is_valid();
        let outcome = if repaired {
            "ricostruito come contorno meno buchi"
        } else {
            "riparazione automatica non sicura, geometria lasciata invariata"
        };
        if !partly_outside.is_empty() {
            problems.push(Problema::new(
                TipoProblema::BucoFuoriGuscio,
                format!(
                    "{}: buco in parte fuori dal contorno esterno; {outcome}",
                    partly_outside.join(", ")
                ),
                repaired,
            ));
        }
        if !crossing.is_empty() && still_crossing {
            problems.push(Problema::new(
                TipoProblema::IncrocioAnelli,
                format!(
                    "{}: gli anelli si incrociano; {outcome}",
                    crossing.join("; ")
                ),
                repaired,
            ));
        }
        if repaired {
            return rebuilt.0;
        }
    }
    vec![polygon]
}

fn is_crossing(e: &InvalidPolygon) -> bool {
    matches!(
        e,
        InvalidPolygon::IntersectingRingsOnALine(..)
            | InvalidPolygon::IntersectingRingsOnAnArea(..)
    )
}

/// Checks a multipolygon, repairs what can safely be repaired in place, and returns every
/// defect found (empty for a valid geometry, which is left untouched).
pub fn check_and_repair(g: &mut MultiPolygon<f64>) -> Vec<Problema> {
    let mut problems = Vec::new();
    let many = g.0.len() > 1;
    let mut out = Vec::with_capacity(g.0.len());
    let mut changed = false;
    for (i, polygon) in g.0.iter().enumerate() {
        let before = problems.len();
        if let Some(clean) = clean_polygon(polygon, i, many, &mut problems) {
            out.extend(fix_topology(clean, i, many, &mut problems));
        }
        if problems.len() > before {
            changed = true;
        }
    }
    if !changed {
        // Nothing found ring by ring: keep the geometry bit for bit.
        out = std::mem::take(&mut g.0);
    }
    let result = MultiPolygon::new(out);
    let mut overlaps = Vec::new();
    result
        .visit_validation(Box::new(|e| {
            if let InvalidMultiPolygon::ElementsOverlaps(a, b) = e {
                overlaps.push((a.0, b.0));
            }
            Ok::<(), ()>(())
        }))
        .ok();
    for (a, b) in overlaps {
        problems.push(Problema::new(
            TipoProblema::PoligoniSovrapposti,
            format!(
                "i poligoni {} e {} della geometria si sovrappongono; non riparato",
                a + 1,
                b + 1
            ),
            false,
        ));
    }
    *g = result;
    problems
}

/// Summary lines for many problems, each paired with the feature it belongs to
/// (`particella C800_001300.125`): the first `limit` in full, then the counts by kind.
pub fn riepilogo(found: &[(String, Problema)], limit: usize) -> Vec<String> {
    let mut lines: Vec<String> = found
        .iter()
        .take(limit)
        .map(|(feature, p)| format!("{feature}: {}", p.messaggio))
        .collect();
    if found.len() > limit {
        let mut counts: std::collections::BTreeMap<TipoProblema, (usize, usize)> =
            std::collections::BTreeMap::new();
        for (_, p) in found {
            let e = counts.entry(p.tipo).or_default();
            e.0 += 1;
            if p.riparato {
                e.1 += 1;
            }
        }
        let parts: Vec<String> = counts
            .into_iter()
            .map(|(t, (n, r))| format!("{} {n} (riparati {r})", t.label_it()))
            .collect();
        lines.push(format!(
            "Geometrie: {} problemi in tutto, {} non elencati sopra; per tipo: {}",
            found.len(),
            found.len() - limit,
            parts.join(", ")
        ));
    }
    lines
}
