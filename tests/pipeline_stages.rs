//! The pipeline's stages on small projects: the Lombardy check of `checks` names the file and
//! the feature whatever reader the feature came from, and each stage's warnings reach
//! `ingest`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use abitare::pipeline::{self, checks, read, PipelineError};
use abitare::project::Project;

const CLUSONE: &str = r#"
[ambito]
nome = "Ambito di prova"
anno = 2026

[[comuni]]
istat = "016077"
belfiore = "C800"
nome = "Clusone"
popolazione = 8700
"#;

fn project(dir: &Path, input: &str) -> Project {
    let path = dir.join("abitare.toml");
    std::fs::write(&path, format!("{CLUSONE}\n[input]\n{input}\n")).expect("project");
    Project::load(&path).expect("project")
}

fn square(x: f64, y: f64) -> String {
    format!(
        r#"{{"type":"Polygon","coordinates":[[[{x},{y}],[{x1},{y}],[{x1},{y1}],[{x},{y1}],[{x},{y}]]]}}"#,
        x1 = x + 0.01,
        y1 = y + 0.01
    )
}

fn outside(e: &PipelineError) -> (&Path, &str) {
    match e {
        PipelineError::OutsideLombardy { path, feature, .. } => (path.as_path(), feature),
        other => panic!("outside Lombardy expected, got {other:?}"),
    }
}

#[test]
fn a_boundary_outside_lombardy_names_file_and_comune() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("confini.geojson"),
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"com_istat_code":"016077","com_catasto_code":"C800","name":"Clusone"}},"geometry":{}}}]}}"#,
            square(12.49, 41.89)
        ),
    )
    .expect("write");
    let project = project(dir.path(), "confini = \"confini.geojson\"");

    // Read: no check yet; the comune's source is the boundaries file.
    let inputs = read::read_inputs(&project).expect("read");
    assert_eq!(inputs.model.comuni.len(), 1);
    assert_eq!(inputs.sources.len(), 1);
    assert_eq!(inputs.sources[0].layer, read::Layer::Comuni);
    assert_eq!(inputs.sources[0].range, 0..1);
    assert!(inputs.files[0].ends_with("confini.geojson"));

    let e = checks::check(inputs.model, &inputs.sources, inputs.gml_cadastre)
        .expect_err("Rome is not in Lombardy");
    let (path, feature) = outside(&e);
    assert!(path.ends_with("confini.geojson"), "{e}");
    assert_eq!(feature, "016077");
    let e = pipeline::ingest(&project).expect_err("same through ingest");
    assert_eq!(outside(&e).1, "016077");
}

#[test]
fn service_points_outside_lombardy_are_named_or_numbered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("servizi.geojson");
    let point = |props: &str, x: f64, y: f64| {
        format!(
            r#"{{"type":"Feature","properties":{{{props}}},"geometry":{{"type":"Point","coordinates":[{x},{y}]}}}}"#
        )
    };
    let write = |features: &[String]| {
        std::fs::write(
            &file,
            format!(
                r#"{{"type":"FeatureCollection","features":[{}]}}"#,
                features.join(",")
            ),
        )
        .expect("write")
    };
    let project = project(dir.path(), "servizi_puntuali = \"servizi.geojson\"");

    write(&[
        point(r#""tipo":"scuola","nome":"Rodari""#, 9.95, 45.88),
        point(r#""tipo":"sanita","nome":"Colosseo""#, 12.49, 41.89),
    ]);
    let e = pipeline::ingest(&project).expect_err("Rome");
    let (path, feature) = outside(&e);
    assert!(path.ends_with("servizi.geojson"), "{e}");
    assert_eq!(feature, "Colosseo");

    write(&[
        point(r#""tipo":"scuola","nome":"Rodari""#, 9.95, 45.88),
        point(r#""tipo":"sanita""#, 12.49, 41.89),
    ]);
    let e = pipeline::ingest(&project).expect_err("Rome");
    assert_eq!(outside(&e).1, "n. 2");

    write(&[point(r#""tipo":"scuola","nome":"Rodari""#, 9.95, 45.88)]);
    let ingested = pipeline::ingest(&project).expect("in Lombardy");
    assert_eq!(ingested.model.servizi_puntuali.len(), 1);
    assert!(ingested
        .inputs
        .iter()
        .any(|i| i.path.ends_with("servizi.geojson") && i.sha256.len() == 64));
    // The read stage warns that the comuni have no boundaries.
    assert!(
        ingested
            .avvisi
            .iter()
            .any(|a| a.contains("Confini comunali")),
        "{:?}",
        ingested.avvisi
    );
}

#[test]
fn a_cxf_sheet_in_the_wrong_crs_names_the_sheet_and_feature() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("cxf")).expect("cxf dir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cxf/C800_001300.CXF"),
        dir.path().join("cxf/C800_001300.CXF"),
    )
    .expect("copy sheet");
    // Gauss-Boaga west coordinates read as UTM 33N land far east of Lombardy.
    let project = project(
        dir.path(),
        "\n[[input.cxf]]\npercorso = \"cxf/\"\ncrs = \"EPSG:32633\"",
    );
    let inputs = read::read_inputs(&project).expect("read");
    assert!(inputs
        .sources
        .iter()
        .any(|s| s.layer == read::Layer::Particelle && s.name.ends_with("C800_001300.CXF")));
    let e = pipeline::ingest(&project).expect_err("wrong CRS");
    let (path, feature) = outside(&e);
    assert!(path.ends_with("C800_001300.CXF"), "{e}");
    assert!(feature.starts_with("C800"), "{e}");
}
