//! Geometry validity: every kind of defect alone, detected and repaired (or not) as documented in
//! `model::validity`, with the areas before and after; valid input untouched; the demo clean.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use abitare::model::validity::{check_and_repair, riepilogo, Problema, TipoProblema};
use abitare::pipeline;
use abitare::project::Project;
use geo::{Area, Coord, LineString, MultiPolygon, Polygon, Validation};

fn ring(points: &[(f64, f64)]) -> LineString<f64> {
    LineString::new(points.iter().map(|&(x, y)| Coord { x, y }).collect())
}

fn poly(exterior: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> Polygon<f64> {
    Polygon::new(ring(exterior), holes.iter().map(|h| ring(h)).collect())
}

fn mp(polys: Vec<Polygon<f64>>) -> MultiPolygon<f64> {
    MultiPolygon::new(polys)
}

const SQUARE: [(f64, f64); 5] = [
    (0.0, 0.0),
    (10.0, 0.0),
    (10.0, 10.0),
    (0.0, 10.0),
    (0.0, 0.0),
];
const HOLE: [(f64, f64); 5] = [(2.0, 2.0), (2.0, 4.0), (4.0, 4.0), (4.0, 2.0), (2.0, 2.0)];

fn kinds(problems: &[Problema]) -> Vec<TipoProblema> {
    problems.iter().map(|p| p.tipo).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn valid_polygon_is_untouched() {
    let original = mp(vec![poly(&SQUARE, &[&HOLE])]);
    let mut g = original.clone();
    let problems = check_and_repair(&mut g);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(g, original);
    assert!(close(g.unsigned_area(), 96.0));
}

#[test]
fn unclosed_ring_is_closed() {
    // `Polygon::new` closes rings, so an unclosed ring only arrives through deserialisation.
    let json = r#"{"exterior":[{"x":0.0,"y":0.0},{"x":10.0,"y":0.0},{"x":10.0,"y":10.0},{"x":0.0,"y":10.0}],"interiors":[]}"#;
    let p: Polygon<f64> = serde_json::from_str(json).expect("polygon");
    assert!(!p.exterior().is_closed());
    let mut g = mp(vec![p]);
    let problems = check_and_repair(&mut g);
    assert_eq!(kinds(&problems), [TipoProblema::AnelloNonChiuso]);
    assert!(problems[0].riparato);
    assert!(
        problems[0]
            .messaggio
            .contains("anello non chiuso, chiuso automaticamente"),
        "{}",
        problems[0].messaggio
    );
    assert!(g.0[0].exterior().is_closed());
    assert!(close(g.unsigned_area(), 100.0));
}

#[test]
fn repeated_vertices_are_dropped() {
    let mut g = mp(vec![poly(
        &[
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (0.0, 10.0),
            (0.0, 10.0),
            (0.0, 0.0),
        ],
        &[],
    )]);
    let before = g.unsigned_area();
    let problems = check_and_repair(&mut g);
    assert_eq!(kinds(&problems), [TipoProblema::VerticiRipetuti]);
    assert!(problems[0].riparato && problems[0].messaggio.contains('2'));
    assert_eq!(g.0[0].exterior().0.len(), 5);
    assert!(close(before, 100.0) && close(g.unsigned_area(), 100.0));
}

#[test]
fn spike_is_removed() {
    // A spike going out from (10, 5) to (15, 5) and back.
    let mut g = mp(vec![poly(
        &[
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, 5.0),
            (15.0, 5.0),
            (10.0, 5.0),
            (10.0, 10.0),
            (0.0, 10.0),
            (0.0, 0.0),
        ],
        &[],
    )]);
    assert!(!g.is_valid());
    let problems = check_and_repair(&mut g);
    assert!(
        kinds(&problems).contains(&TipoProblema::Spike),
        "{problems:?}"
    );
    assert!(problems.iter().all(|p| p.riparato));
    assert!(g.is_valid(), "{g:?}");
    assert!(close(g.unsigned_area(), 100.0));
    assert!(g.0[0].exterior().0.iter().all(|c| c.x <= 10.0));
}

#[test]
fn degenerate_exterior_drops_the_polygon_and_degenerate_hole_the_hole() {
    // A flat exterior (all on one line) next to a good square.
    let mut g = mp(vec![
        poly(&[(20.0, 0.0), (25.0, 0.0), (30.0, 0.0), (20.0, 0.0)], &[]),
        poly(&SQUARE, &[]),
    ]);
    let problems = check_and_repair(&mut g);
    assert!(
        kinds(&problems).contains(&TipoProblema::AnelloDegenere),
        "{problems:?}"
    );
    assert!(problems.iter().all(|p| p.riparato));
    assert_eq!(g.0.len(), 1);
    assert!(close(g.unsigned_area(), 100.0));

    // A two-point hole.
    let mut g = mp(vec![poly(
        &SQUARE,
        &[&[(2.0, 2.0), (3.0, 3.0), (2.0, 2.0)]],
    )]);
    let problems = check_and_repair(&mut g);
    assert_eq!(kinds(&problems), [TipoProblema::AnelloDegenere]);
    assert!(problems[0].messaggio.contains("buco 1"));
    assert!(g.0[0].interiors().is_empty());
    assert!(close(g.unsigned_area(), 100.0));
}

#[test]
fn bow_tie_is_split_into_two_triangles() {
    let mut g = mp(vec![poly(
        &[
            (0.0, 0.0),
            (10.0, 10.0),
            (10.0, 0.0),
            (0.0, 10.0),
            (0.0, 0.0),
        ],
        &[],
    )]);
    // The shoelace area of a bow-tie cancels out; each lobe is 25.
    let problems = check_and_repair(&mut g);
    assert_eq!(kinds(&problems), [TipoProblema::Autointersezione]);
    assert!(problems[0].riparato, "{problems:?}");
    assert!(g.is_valid());
    assert_eq!(g.0.len(), 2);
    assert!(close(g.unsigned_area(), 50.0), "{}", g.unsigned_area());
}

#[test]
fn crossing_hole_is_subtracted() {
    // A hole sticking out of the shell on the right.
    let hole = [(8.0, 4.0), (12.0, 4.0), (12.0, 6.0), (8.0, 6.0), (8.0, 4.0)];
    let mut g = mp(vec![poly(&SQUARE, &[&hole])]);
    let problems = check_and_repair(&mut g);
    let k = kinds(&problems);
    assert!(
        k.contains(&TipoProblema::IncrocioAnelli) || k.contains(&TipoProblema::BucoFuoriGuscio),
        "{problems:?}"
    );
    assert!(g.is_valid(), "{g:?} {problems:?}");
    // 100 minus the 2×2 part of the hole inside the shell.
    assert!(close(g.unsigned_area(), 96.0), "{}", g.unsigned_area());
}

#[test]
fn hole_outside_its_shell_is_dropped() {
    let hole = [
        (20.0, 2.0),
        (20.0, 4.0),
        (22.0, 4.0),
        (22.0, 2.0),
        (20.0, 2.0),
    ];
    let mut g = mp(vec![poly(&SQUARE, &[&hole])]);
    let problems = check_and_repair(&mut g);
    assert_eq!(kinds(&problems), [TipoProblema::BucoFuoriGuscio]);
    assert!(problems[0].riparato);
    assert!(g.0[0].interiors().is_empty());
    assert!(close(g.unsigned_area(), 100.0));
}

#[test]
fn overlapping_parts_are_reported_not_repaired() {
    let other = [
        (5.0, 5.0),
        (15.0, 5.0),
        (15.0, 15.0),
        (5.0, 15.0),
        (5.0, 5.0),
    ];
    let mut g = mp(vec![poly(&SQUARE, &[]), poly(&other, &[])]);
    let original = g.clone();
    let problems = check_and_repair(&mut g);
    assert_eq!(kinds(&problems), [TipoProblema::PoligoniSovrapposti]);
    assert!(!problems[0].riparato);
    assert_eq!(g, original);
}

#[test]
fn non_finite_vertices_are_dropped() {
    let mut g = mp(vec![poly(
        &[
            (0.0, 0.0),
            (10.0, 0.0),
            (f64::NAN, 3.0),
            (10.0, 10.0),
            (0.0, 10.0),
            (0.0, 0.0),
        ],
        &[],
    )]);
    let problems = check_and_repair(&mut g);
    assert_eq!(kinds(&problems), [TipoProblema::CoordinataNonValida]);
    assert!(close(g.unsigned_area(), 100.0));
}

/// Deterministic generator for the junk test.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn coord(&mut self) -> Coord<f64> {
        let pick = |v: u64| match v % 23 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => 0.0,
            3 => 1e300,
            n => (n as f64) * 0.5,
        };
        Coord {
            x: pick(self.next()),
            y: pick(self.next()),
        }
    }
}

#[test]
fn random_junk_never_panics() {
    let mut rng = Lcg(42);
    for _ in 0..3000 {
        let polygons = (0..1 + rng.next() % 3)
            .map(|_| {
                let ring = |rng: &mut Lcg| {
                    let n = rng.next() % 9;
                    LineString::new((0..n).map(|_| rng.coord()).collect())
                };
                let exterior = ring(&mut rng);
                let holes: Vec<LineString<f64>> =
                    (0..rng.next() % 3).map(|_| ring(&mut rng)).collect();
                // Built field by field (not `Polygon::new`) so rings can stay unclosed.
                let json = serde_json::json!({ "exterior": exterior, "interiors": holes });
                serde_json::from_value::<Polygon<f64>>(json)
                    .unwrap_or_else(|_| Polygon::new(LineString::new(vec![]), vec![]))
            })
            .collect();
        let mut g = MultiPolygon::new(polygons);
        let problems = check_and_repair(&mut g);
        for p in &problems {
            assert!(!p.messaggio.is_empty());
        }
    }
}

#[test]
fn summary_lists_the_first_then_counts_by_kind() {
    let p = |tipo, riparato| Problema {
        tipo,
        messaggio: "anello non chiuso, chiuso automaticamente".into(),
        riparato,
    };
    let found: Vec<(String, Problema)> = (0..120)
        .map(|i| {
            let tipo = if i % 2 == 0 {
                TipoProblema::AnelloNonChiuso
            } else {
                TipoProblema::Spike
            };
            (format!("particella C800_001300.{i}"), p(tipo, true))
        })
        .collect();
    let lines = riepilogo(&found, 50);
    assert_eq!(lines.len(), 51);
    assert_eq!(
        lines[0],
        "particella C800_001300.0: anello non chiuso, chiuso automaticamente"
    );
    let last = &lines[50];
    assert!(last.contains("120") && last.contains("70"), "{last}");
    assert!(
        last.contains("anelli non chiusi 60 (riparati 60)"),
        "{last}"
    );
    assert!(last.contains("spike 60"), "{last}");
}

#[test]
fn demo_builds_with_no_geometry_problems() {
    let dir = tempfile::tempdir().expect("tempdir");
    let generated = abitare::demo::generate(&dir.path().join("demo")).expect("demo generation");
    let project = Project::load(&generated.project).expect("demo project");
    let pipeline::Ingested { model, avvisi, .. } = pipeline::ingest(&project).expect("ingest");
    let prefixes = [
        "comune ",
        "foglio ",
        "particella ",
        "fabbricato ",
        "zona PGT ",
        "vincolo ",
        "Geometrie:",
    ];
    let geometry: Vec<&String> = avvisi
        .iter()
        .filter(|a| prefixes.iter().any(|p| a.starts_with(p)))
        .collect();
    assert!(geometry.is_empty(), "{geometry:#?}");
    assert!(!model.particelle.is_empty());
}

/// (Here rather than in `tests/gdal_source.rs`, which only exists with the feature.)
#[cfg(not(feature = "gdal"))]
#[test]
fn input_gdal_without_the_feature_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("abitare.toml");
    let text = "[ambito]\nnome = \"Prova\"\nanno = 2026\n\n[[input.gdal]]\nsorgente = \"tavola.dxf\"\ncrs = \"EPSG:3003\"\n";
    std::fs::write(&path, text).expect("write");
    let project = Project::load(&path).expect("project");
    let e = pipeline::ingest(&project).expect_err("needs the feature");
    assert!(
        matches!(&e, pipeline::PipelineError::GdalUnavailable { path } if path == &project.path),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("input.gdal richiede abitare compilato con --features gdal")
            && msg.contains("abitare.toml"),
        "{msg}"
    );
}
