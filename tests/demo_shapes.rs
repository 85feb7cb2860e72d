//! The demo Ambito on the real comune boundaries: the boundary file the demo writes is the
//! ISTAT/openpolis one, the Ambito's union has no hole, and everything synthesized on it
//! (parcels, sheets, PGT zones, constraints) lies inside its comune; the neighbours' context
//! file lists exactly the comuni sharing a border with the Ambito.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use abitare::analysis::Analisi;
use abitare::crs::FromLonLat;
use abitare::ingest::boundaries::{read_boundaries, BoundaryFeature};
use geo::line_measures::LengthMeasurable;
use geo::{
    Area, BooleanOps, BoundingRect, CoordsIter, Distance, Euclidean, HausdorffDistance, Intersects,
    MapCoords, MultiPolygon, Point,
};

fn demo() -> &'static common::BuiltDemo {
    static F: OnceLock<common::BuiltDemo> = OnceLock::new();
    F.get_or_init(common::build_demo)
}

fn loaded() -> &'static Analisi {
    static A: OnceLock<Analisi> = OnceLock::new();
    A.get_or_init(|| demo().load())
}

/// Lon/lat to UTM 32N metres.
fn utm(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let proj = FromLonLat::new(32632).expect("EPSG:32632");
    mp.map_coords(|c| {
        let (x, y) = proj.convert(c.x, c.y).expect("projection");
        geo::Coord { x, y }
    })
}

fn facts_codes() -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/ambito9_comuni.csv"),
    )
    .expect("facts file");
    text.lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .map(str::to_string)
        .collect()
}

fn by_code(features: Vec<BoundaryFeature>) -> BTreeMap<String, BoundaryFeature> {
    features.into_iter().map(|f| (f.istat.clone(), f)).collect()
}

#[test]
fn every_demo_comune_is_the_istat_boundary_of_its_code() {
    let Some(istat_file) =
        common::shared_or_skip("data/boundaries/limits_P_16_municipalities.geojson")
    else {
        return;
    };
    let codes = facts_codes();
    assert_eq!(codes.len(), 24);
    let demo_file = demo().root.join("input/confini_comuni.geojson");
    let ours = by_code(read_boundaries(&demo_file, &codes).expect("demo boundaries"));
    let istat = by_code(read_boundaries(&istat_file, &codes).expect("ISTAT boundaries"));
    assert_eq!(ours.len(), 24);
    let mut worst_area = 0.0f64;
    let mut worst_hausdorff = 0.0f64;
    let mut worst_symdiff = 0.0f64;
    for code in &codes {
        let (a, b) = (&ours[code], &istat[code]);
        assert_eq!(a.nome, b.nome, "{code}");
        assert_eq!(a.belfiore, b.belfiore, "{code}");
        let (ma, mb) = (utm(&a.geometry), utm(&b.geometry));
        let (area_a, area_b) = (ma.unsigned_area(), mb.unsigned_area());
        let rel = (area_a - area_b).abs() / area_b;
        let hausdorff = ma.hausdorff_distance(&mb);
        let symdiff = ma.xor(&mb).unsigned_area();
        worst_area = worst_area.max(rel);
        worst_hausdorff = worst_hausdorff.max(hausdorff);
        worst_symdiff = worst_symdiff.max(symdiff / area_b);
        // The demo carries the published geometry rounded to 7 decimals (about 1 cm): the
        // same vertices, each within a few millimetres.
        assert!(
            rel < 1e-4,
            "{}: area {area_a:.0} m² vs {area_b:.0} m²",
            a.nome
        );
        assert!(hausdorff < 0.05, "{}: Hausdorff {hausdorff:.3} m", a.nome);
        assert!(
            symdiff < 1e-4 * area_b,
            "{}: symmetric difference {symdiff:.1} m²",
            a.nome
        );
        assert_eq!(
            a.geometry.coords_count(),
            b.geometry.coords_count(),
            "{}: vertices",
            a.nome
        );
    }
    eprintln!(
        "worst: area {:.2e}, Hausdorff {worst_hausdorff:.4} m, symmetric difference {:.2e} of the area",
        worst_area, worst_symdiff
    );
}

#[test]
fn the_ambito_is_one_polygon_without_holes_and_its_comuni_do_not_overlap() {
    let l = loaded();
    assert_eq!(l.model.comuni.len(), 24);
    let shapes: Vec<MultiPolygon<f64>> = l.model.comuni.iter().map(|c| utm(&c.geometry)).collect();
    let union = geo::unary_union(shapes.iter());
    let holes: f64 = union
        .0
        .iter()
        .flat_map(|p| p.interiors())
        .map(|r| geo::Polygon::new(r.clone(), vec![]).unsigned_area())
        .sum();
    assert_eq!(
        union.0.len(),
        1,
        "the Ambito is in {} pieces",
        union.0.len()
    );
    assert!(holes < 10_000.0, "holes of {holes:.0} m² in the Ambito");
    let total: f64 = shapes.iter().map(|s| s.unsigned_area()).sum();
    assert!(
        (union.unsigned_area() - total).abs() < 1_000.0,
        "union {:.0} m² vs sum {total:.0} m²: the comuni overlap",
        union.unsigned_area()
    );
    // ISTAT's official surfaces (the facts file, 599.84 km² in all) are within 1% of the
    // generalised boundaries' (about 603.9 km² in UTM 32N).
    assert!(
        (total / 1e6 - 599.84).abs() < 6.0,
        "Ambito area {:.2} km²",
        total / 1e6
    );
    eprintln!(
        "Ambito {:.2} km², {} interior rings ({holes:.0} m²)",
        union.unsigned_area() / 1e6,
        union.0.iter().map(|p| p.interiors().len()).sum::<usize>()
    );
}

/// How far, at most, a feature reaches outside its comune: the largest distance from the
/// comune of a vertex of the feature minus the comune (0 when it lies inside), metres.
fn reach_outside(feature: &MultiPolygon<f64>, comune: &MultiPolygon<f64>) -> f64 {
    let outside = feature.difference(comune);
    outside
        .coords_iter()
        .map(|c| Euclidean.distance(&Point::from(c), comune))
        .fold(0.0, f64::max)
}

#[test]
fn parcels_sheets_zones_and_constraints_lie_inside_their_comune() {
    let l = loaded();
    let m = &l.model;
    let by_belfiore: BTreeMap<&str, MultiPolygon<f64>> = m
        .comuni
        .iter()
        .map(|c| (c.belfiore.as_str(), utm(&c.geometry)))
        .collect();
    let by_istat: BTreeMap<&str, &MultiPolygon<f64>> = m
        .comuni
        .iter()
        .map(|c| (c.istat.as_str(), &by_belfiore[c.belfiore.as_str()]))
        .collect();
    const TOLERANCE: f64 = 0.5;
    let mut worst = 0.0f64;
    let mut check = |layer: &str, id: &str, g: &MultiPolygon<f64>, comune: &MultiPolygon<f64>| {
        let g = utm(g);
        let d = reach_outside(&g, comune);
        worst = worst.max(d);
        assert!(d <= TOLERANCE, "{layer} {id}: {d:.2} m outside its comune");
    };
    assert!(m.particelle.len() > 10_000);
    for p in &m.particelle {
        check(
            "particella",
            &p.riferimento,
            &p.geometry,
            &by_belfiore[p.belfiore.as_str()],
        );
    }
    assert!(m.fogli.len() > 500);
    for f in &m.fogli {
        check(
            "foglio",
            &f.riferimento,
            &f.geometry,
            &by_belfiore[f.belfiore.as_str()],
        );
    }
    assert!(m.pgt_zone.len() > 200);
    for z in &m.pgt_zone {
        let istat = z.comune_istat.as_deref().expect("zone comune");
        check("zona PGT", &z.fonte, &z.geometry, by_istat[istat]);
    }
    assert!(m.vincoli.len() > 50);
    for v in &m.vincoli {
        let istat = v.comune_istat.as_deref().expect("vincolo comune");
        check("vincolo", &v.nome, &v.geometry, by_istat[istat]);
    }
    eprintln!("worst reach outside a comune: {worst:.4} m");
}

#[test]
fn the_cadastre_covers_the_comuni_and_border_parcels_are_clipped() {
    let l = loaded();
    let m = &l.model;
    // Per comune, the parcels' area against the comune's: the grid's cells astride the border
    // are clipped, not dropped, so the cadastre covers nearly all of each comune.
    let mut area: BTreeMap<&str, f64> = BTreeMap::new();
    let mut clipped: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &m.particelle {
        let g = utm(&p.geometry);
        *area.entry(p.belfiore.as_str()).or_default() += g.unsigned_area();
        // Parcels are drawn as axis-aligned rectangles of the grid: an oblique edge is the
        // comune's border.
        let oblique = g.0.iter().any(|poly| {
            poly.exterior()
                .lines()
                .any(|s| s.dx().abs() > 0.5 && s.dy().abs() > 0.5)
        });
        if oblique {
            *clipped.entry(p.belfiore.as_str()).or_default() += 1;
        }
    }
    for c in &m.comuni {
        let shape = utm(&c.geometry);
        let cover = area.get(c.belfiore.as_str()).copied().unwrap_or(0.0) / shape.unsigned_area();
        assert!(
            (0.99..=1.000_01).contains(&cover),
            "{}: parcels cover {:.3}% of the comune",
            c.nome,
            cover * 100.0
        );
        let n = clipped.get(c.belfiore.as_str()).copied().unwrap_or(0);
        let perimeter: f64 = shape
            .0
            .iter()
            .map(|p| p.exterior().length(&Euclidean))
            .sum();
        // Roughly one clipped parcel per 200 m cell along the border, or more.
        assert!(
            n as f64 > perimeter / 400.0,
            "{}: {n} parcels follow a border of {perimeter:.0} m",
            c.nome
        );
    }
}

#[test]
fn the_neighbours_file_lists_the_comuni_sharing_a_border_with_the_ambito() {
    let Some(region) = common::shared_or_skip("data/boundaries/limits_R_3_municipalities.geojson")
    else {
        return;
    };
    let codes: BTreeSet<String> = facts_codes().into_iter().collect();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/ambito9_confinanti.geojson");
    let text = std::fs::read_to_string(&file).expect("neighbours file");
    let gj: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let features = gj["features"].as_array().expect("features");
    for f in features {
        let keys: BTreeSet<&str> = f["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, BTreeSet::from(["com_istat_code", "name"]));
    }
    let ours = by_code(read_boundaries(&file, &[]).expect("neighbours read"));
    let all = by_code(read_boundaries(&region, &[]).expect("Lombardy"));
    let ambito: Vec<MultiPolygon<f64>> = codes.iter().map(|c| utm(&all[c].geometry)).collect();
    let union = geo::unary_union(ambito.iter());
    let outline: Vec<geo::LineString<f64>> = union
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior().clone()).chain(p.interiors().iter().cloned()))
        .collect();
    let ubox = union.bounding_rect().expect("bbox");
    let near_outline = |c: geo::Coord<f64>| {
        outline
            .iter()
            .any(|l| Euclidean.distance(&Point::from(c), l) < 0.05)
    };
    // The Lombard comuni outside the Ambito whose outline runs along the Ambito's for more
    // than 100 m.
    let mut expected = BTreeMap::new();
    for (code, f) in &all {
        if codes.contains(code) {
            continue;
        }
        let g = utm(&f.geometry);
        if !g.bounding_rect().is_some_and(|r| r.intersects(&ubox)) || !g.intersects(&union) {
            continue;
        }
        let shared: f64 =
            g.0.iter()
                .flat_map(|p| p.exterior().lines())
                .filter(|s| near_outline(s.start) && near_outline(s.end))
                .map(|s| s.length(&Euclidean))
                .sum();
        if shared > 100.0 {
            expected.insert(code.clone(), (f.nome.clone(), shared));
        }
    }
    let got: BTreeSet<&String> = ours.keys().collect();
    let want: BTreeSet<&String> = expected.keys().collect();
    assert_eq!(got, want);
    assert_eq!(ours.len(), 22);
    let provinces: BTreeSet<&str> = ours.keys().map(|c| &c[..3]).collect();
    assert_eq!(provinces, BTreeSet::from(["014", "016", "017"]));
    for (code, f) in &ours {
        assert_eq!(f.nome, expected[code].0, "{code}");
        let (a, b) = (utm(&f.geometry), utm(&all[code].geometry));
        assert!(a.hausdorff_distance(&b) < 0.05, "{}", f.nome);
        // Beside the Ambito, not over it.
        assert!(a.intersection(&union).unsigned_area() < 100.0, "{}", f.nome);
    }
}
