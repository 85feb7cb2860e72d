//! Candidate social-housing standard areas: each rule alone, geometry edge cases, the rules
//! file read at run time, the demo's candidates against a committed snapshot, the outputs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use abitare::analysis::candidates::{screen, Regole, Screening};
use abitare::analysis::candidates::{AreaCandidata, FonteCandidata, VocePunteggio};
use abitare::analysis::Analisi;
use abitare::crs::ToLonLat;
use abitare::index::ModelIndex;
use abitare::model::*;
use abitare::pipeline;
use abitare::project::Project;
use axum::http::StatusCode;
use geo::{LineString, MultiPolygon, Polygon};

/// Origin of the test geometry in UTM 32N (near Clusone).
const X0: f64 = 575_000.0;
const Y0: f64 = 5_080_000.0;

fn ring(pts: &[(f64, f64)]) -> LineString<f64> {
    let to_ll = ToLonLat::new(32632).expect("utm");
    let mut v: Vec<(f64, f64)> = pts
        .iter()
        .map(|&(x, y)| to_ll.convert(X0 + x, Y0 + y).expect("to lon/lat"))
        .collect();
    v.push(v[0]);
    LineString::from(v)
}

fn rect_ring(x: f64, y: f64, w: f64, h: f64) -> LineString<f64> {
    ring(&[(x, y), (x + w, y), (x + w, y + h), (x, y + h)])
}

/// A rectangle given in metres from the origin, as lon/lat.
fn rect(x: f64, y: f64, w: f64, h: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![Polygon::new(rect_ring(x, y, w, h), vec![])])
}

fn zone(classe: ClasseZona, g: MultiPolygon<f64>) -> ZonaPgt {
    ZonaPgt {
        comune_istat: Some("016077".into()),
        comune_nome: Some("Clusone".into()),
        classe,
        legenda: Some(classe.label_it().into()),
        codice_destinazione: None,
        fonte: "TEST".into(),
        geometry: g,
    }
}

fn vincolo(codice: &str, g: MultiPolygon<f64>) -> Vincolo {
    Vincolo {
        comune_istat: Some("016077".into()),
        comune_nome: Some("Clusone".into()),
        codice: Some(codice.into()),
        nome: format!("Vincolo {codice}"),
        fonte: "VINCOLI".into(),
        geometry: g,
    }
}

fn model() -> Model {
    let mut m = Model::empty(common::ambito());
    m.comuni = vec![Comune {
        istat: "016077".into(),
        belfiore: "C800".into(),
        nome: "Clusone".into(),
        sub_ambito: None,
        popolazione: 8600,
        geometry: rect(-5000.0, -5000.0, 10_000.0, 10_000.0),
    }];
    m
}

/// A model with one planned service area of 100 × 100 m at the origin.
fn one_area() -> Model {
    let mut m = model();
    m.pgt_zone.push(zone(
        ClasseZona::ServiziPrevisti,
        rect(0.0, 0.0, 100.0, 100.0),
    ));
    m
}

fn run(m: &Model, rules: &Regole) -> Screening {
    screen(m, &ModelIndex::build(m), rules)
}

fn rules(extra: &str) -> Regole {
    Regole::del_progetto(extra, "test").expect("rules")
}

fn only(s: &Screening) -> &AreaCandidata {
    assert_eq!(s.candidate.len(), 1, "{s:#?}");
    &s.candidate[0]
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn voce<'a>(c: &'a AreaCandidata, regola: &str) -> &'a VocePunteggio {
    c.punteggio_voci
        .iter()
        .find(|v| v.regola == regola)
        .unwrap_or_else(|| panic!("no {regola} in {:#?}", c.punteggio_voci))
}

#[test]
fn planned_service_area_is_a_candidate_with_its_reasons() {
    let s = run(&one_area(), &Regole::predefinite());
    let c = only(&s);
    assert_eq!(c.fonte, FonteCandidata::ServiziPrevisti);
    assert_eq!(c.id, "SP-016077-01");
    assert!(close(c.area_ha, 1.0, 1e-3), "{}", c.area_ha);
    // 1 ha × 60 alloggi/ha × 30 % (a planned service area hosts its other services too).
    assert_eq!(c.alloggi_stimati, 18);
    assert!(c.motivi[0].contains("Piano dei Servizi"), "{:?}", c.motivi);
    assert!(c.esclusioni.is_empty());
    let sum: f64 = c.punteggio_voci.iter().map(|v| v.punti).sum();
    assert!(close(sum, c.punteggio, 0.05));
}

#[test]
fn a_vincolo_buffer_cuts_half_an_area() {
    let mut m = one_area();
    // A road strip just west of the area, touching it.
    m.vincoli
        .push(vincolo("stradale", rect(-10.0, -1000.0, 10.0, 2100.0)));
    let c = only(&run(&m, &Regole::predefinite())).clone();
    assert!(
        close(c.area_ha, 1.0, 1e-3) && c.esclusioni.is_empty(),
        "{c:#?}"
    );

    let r = rules("[esclusioni.vincoli.stradale]\nbuffer_m = 50.0\n");
    let c = only(&run(&m, &r)).clone();
    assert!(close(c.area_ha, 0.5, 1e-3), "{}", c.area_ha);
    assert_eq!(c.alloggi_stimati, 9);
    assert_eq!(c.esclusioni.len(), 1);
    assert_eq!(c.esclusioni[0].regola, "vincolo:stradale");
    assert!(close(c.esclusioni[0].ettari, 0.5, 1e-3));
    assert!(c.esclusioni[0].descrizione.contains("fascia di 50 m"));

    // A kind the rules ignore does not cut.
    let r = rules("[esclusioni.vincoli.stradale]\nbuffer_m = 50.0\nescludi = false\n");
    assert!(close(only(&run(&m, &r)).area_ha, 1.0, 1e-3));
}

#[test]
fn agricultural_land_is_excluded_unless_a_rule_allows_it() {
    let mut m = one_area();
    m.pgt_zone.push(zone(
        ClasseZona::Agricolo,
        rect(50.0, -500.0, 1000.0, 1000.0),
    ));
    let c = only(&run(&m, &Regole::predefinite())).clone();
    assert!(close(c.area_ha, 0.5, 1e-3), "{}", c.area_ha);
    assert_eq!(c.esclusioni[0].regola, "agricolo");
    let c = only(&run(&m, &rules("[esclusioni]\nagricolo = false\n"))).clone();
    assert!(close(c.area_ha, 1.0, 1e-3));

    // Wholly agricultural: excluded, with the rule.
    let mut m = one_area();
    m.pgt_zone.push(zone(
        ClasseZona::Agricolo,
        rect(-500.0, -500.0, 1000.0, 1000.0),
    ));
    let s = run(&m, &Regole::predefinite());
    assert!(s.candidate.is_empty());
    assert_eq!(s.escluse.len(), 1);
    assert!(
        s.escluse[0].motivo.contains("area agricola"),
        "{:?}",
        s.escluse[0]
    );
}

#[test]
fn minimum_area_flips_a_small_area() {
    let mut m = model();
    m.pgt_zone.push(zone(
        ClasseZona::ServiziPrevisti,
        rect(0.0, 0.0, 30.0, 30.0),
    ));
    let s = run(&m, &Regole::predefinite());
    assert!(s.candidate.is_empty());
    assert!(
        s.escluse[0]
            .motivo
            .contains("inferiore alla minima di 1.000 m²"),
        "{}",
        s.escluse[0].motivo
    );
    let s = run(&m, &rules("[generale]\narea_minima_mq = 500.0\n"));
    assert!(close(only(&s).area_ha, 0.09, 1e-4));
}

#[test]
fn distance_to_services_moves_the_score() {
    let at = |d: f64| {
        let mut m = one_area();
        m.pgt_zone.push(zone(
            ClasseZona::ServiziEsistenti,
            rect(100.0 + d, 0.0, 50.0, 50.0),
        ));
        only(&run(&m, &Regole::predefinite())).clone()
    };
    let near = at(420.0);
    let far = at(900.0);
    let v = voce(&near, "servizi");
    assert_eq!(v.punti, 15.0);
    assert_eq!(v.misura, "distanza dai servizi esistenti 420 m ≤ 800 m");
    assert!(near
        .motivi
        .iter()
        .any(|m| m.starts_with("distanza dai servizi esistenti 420 m ≤ 800 m")));
    let v = voce(&far, "servizi");
    assert_eq!(v.punti, 0.0);
    assert_eq!(v.misura, "distanza dai servizi esistenti 900 m > 800 m");
    assert!(close(near.punteggio - far.punteggio, 15.0, 1e-9));
    // The threshold is a rule.
    let mut m = one_area();
    m.pgt_zone.push(zone(
        ClasseZona::ServiziEsistenti,
        rect(1000.0, 0.0, 50.0, 50.0),
    ));
    let c = only(&run(
        &m,
        &rules("[preferenze.servizi]\ndistanza_max_m = 1000.0\n"),
    ))
    .clone();
    assert_eq!(voce(&c, "servizi").punti, 15.0);
}

#[test]
fn consolidated_fabric_gives_its_bonus() {
    let without = only(&run(&one_area(), &Regole::predefinite())).clone();
    let mut m = one_area();
    m.pgt_zone.push(zone(
        ClasseZona::TessutoUrbanoConsolidato,
        rect(-200.0, -200.0, 400.0, 400.0),
    ));
    let with = only(&run(&m, &Regole::predefinite())).clone();
    assert_eq!(voce(&with, "tessuto_consolidato").punti, 30.0);
    assert_eq!(voce(&without, "tessuto_consolidato").punti, 0.0);
    assert!(close(with.punteggio - without.punteggio, 30.0, 1e-9));
    assert!(voce(&with, "tessuto_consolidato")
        .misura
        .contains("100 % dell'area ≥ 50 %"));
    // Under the share: no bonus.
    let mut m = one_area();
    m.pgt_zone.push(zone(
        ClasseZona::TessutoUrbanoConsolidato,
        rect(0.0, 0.0, 40.0, 100.0),
    ));
    let c = only(&run(&m, &Regole::predefinite())).clone();
    assert_eq!(voce(&c, "tessuto_consolidato").punti, 0.0);
    assert!(voce(&c, "tessuto_consolidato").misura.contains("40 %"));
}

#[test]
fn nearby_unused_public_units_and_public_ownership() {
    let mut m = one_area();
    // A public parcel 200 m east with two unused and one occupied unit of the comune.
    m.particelle.push(Particella {
        riferimento: "C800_001300.125".into(),
        belfiore: "C800".into(),
        sezione: None,
        foglio: "13".into(),
        particella: "125".into(),
        geometry: rect(300.0, 0.0, 40.0, 40.0),
    });
    let to_ll = ToLonLat::new(32632).expect("utm");
    let p = to_ll.convert(X0 + 320.0, Y0 + 20.0).expect("point");
    for (code, stato) in [
        ("1", Stato::Libero),
        ("2", Stato::SfittoCarenzeManutentive),
        ("3", Stato::Occupato),
    ] {
        let mut u = common::unit("Comune di Clusone", code, "016077", Servizio::Sap, stato);
        u.belfiore = Some("C800".into());
        u.foglio = Some("13".into());
        u.particella = Some("125".into());
        u.posizione = Some(geo::Point::new(p.0, p.1));
        u.localizzazione = Localizzazione::Particella;
        m.alloggi_pubblici.push(u);
    }
    let s = run(&m, &Regole::predefinite());
    assert_eq!(s.candidate.len(), 2, "{s:#?}");
    let sp = s
        .candidate
        .iter()
        .find(|c| c.id == "SP-016077-01")
        .expect("SP");
    assert_eq!(voce(sp, "alloggi_pubblici_vicini").punti, 2.0);
    assert!(voce(sp, "alloggi_pubblici_vicini")
        .misura
        .starts_with("2 alloggi pubblici inutilizzati entro 500 m"));
    let pp = s
        .candidate
        .iter()
        .find(|c| c.id == "PP-C800_001300.125")
        .expect("public parcel");
    assert_eq!(pp.fonte, FonteCandidata::PatrimonioPubblico);
    assert_eq!(voce(pp, "proprieta_pubblica").punti, 5.0);
    // Its own units are its source, not "nearby"; they are the dwellings to reactivate.
    assert_eq!(voce(pp, "alloggi_pubblici_vicini").punti, 0.0);
    assert_eq!(pp.alloggi_stimati, 2);
    // A smaller radius: the planned area no longer sees them.
    let s = run(
        &m,
        &rules("[preferenze.alloggi_pubblici_vicini]\nraggio_m = 100.0\n"),
    );
    let sp = s
        .candidate
        .iter()
        .find(|c| c.id == "SP-016077-01")
        .expect("SP");
    assert_eq!(voce(sp, "alloggi_pubblici_vicini").punti, 0.0);
}

#[test]
fn sliver_left_by_the_difference_is_dropped() {
    let mut m = one_area();
    m.vincoli
        .push(vincolo("idrogeologico", rect(0.0, -10.0, 99.5, 200.0)));
    let s = run(&m, &Regole::predefinite());
    assert!(s.candidate.is_empty(), "{s:#?}");
    let e = &s.escluse[0];
    assert!(e.motivo.starts_with("interamente esclusa"), "{}", e.motivo);
    let regole: Vec<&str> = e.esclusioni.iter().map(|x| x.regola.as_str()).collect();
    assert_eq!(regole, ["vincolo:idrogeologico", "area_minima"]);
    assert!(close(e.esclusioni[1].ettari, 0.005, 1e-4));
}

#[test]
fn multipolygon_keeps_the_large_part_and_drops_the_small_one() {
    let mut m = model();
    let mut g = rect(0.0, 0.0, 100.0, 100.0);
    g.0.extend(rect(500.0, 0.0, 100.0, 100.0).0);
    m.pgt_zone.push(zone(ClasseZona::AmbitoTrasformazione, g));
    // The second square: a wood covers all but a 20 × 20 m corner.
    m.vincoli.push(vincolo(
        "bosco",
        MultiPolygon(vec![Polygon::new(
            ring(&[
                (520.0, -20.0),
                (620.0, -20.0),
                (620.0, 120.0),
                (480.0, 120.0),
                (480.0, 20.0),
                (520.0, 20.0),
            ]),
            vec![],
        )]),
    ));
    let c = only(&run(&m, &Regole::predefinite())).clone();
    assert_eq!(c.fonte, FonteCandidata::AmbitoTrasformazione);
    assert!(close(c.area_origine_ha, 2.0, 1e-3));
    assert!(close(c.area_ha, 1.0, 1e-3), "{}", c.area_ha);
    assert_eq!(c.geometry.0.len(), 1);
    // 1 ha × 60 × 30 % × 50 %.
    assert_eq!(c.alloggi_stimati, 9);
    let regole: Vec<&str> = c.esclusioni.iter().map(|x| x.regola.as_str()).collect();
    assert_eq!(regole, ["vincolo:bosco", "area_minima"]);
    assert!(close(c.esclusioni[1].ettari, 0.04, 1e-4));
}

#[test]
fn holes_are_kept_and_cut_through() {
    let donut = || {
        MultiPolygon(vec![Polygon::new(
            rect_ring(0.0, 0.0, 200.0, 200.0),
            vec![rect_ring(50.0, 50.0, 100.0, 100.0)],
        )])
    };
    let mut m = model();
    m.pgt_zone.push(zone(ClasseZona::Rigenerazione, donut()));
    // A constraint inside the hole cuts nothing.
    m.vincoli
        .push(vincolo("cimiteriale", rect(60.0, 60.0, 80.0, 80.0)));
    let c = only(&run(&m, &Regole::predefinite())).clone();
    assert!(close(c.area_ha, 3.0, 1e-3), "{}", c.area_ha);
    assert!(c.esclusioni.is_empty());
    assert_eq!(c.geometry.0[0].interiors().len(), 1);
    // Widened by 20 m it eats 10 m into the ring around the hole.
    let c = only(&run(
        &m,
        &rules("[esclusioni.vincoli.cimiteriale]\nbuffer_m = 20.0\n"),
    ))
    .clone();
    // The widened square has rounded corners: 80² + 4·80·20 + π·20², less the hole.
    let removed =
        (80.0 * 80.0 + 4.0 * 80.0 * 20.0 + std::f64::consts::PI * 400.0 - 100.0 * 100.0) / 10_000.0;
    assert!(close(c.esclusioni[0].ettari, removed, 2e-3), "{c:#?}");
    assert!(close(c.area_ha, 3.0 - removed, 2e-3));
}

#[test]
fn demand_and_pressure_are_scored_from_the_rules() {
    let c = only(&run(&one_area(), &Regole::predefinite())).clone();
    // 15 points × 8,600 inhabitants ÷ 10,000 (rounded to one decimal).
    assert!(close(voce(&c, "domanda_popolazione").punti, 12.9, 1e-9));
    assert!(c
        .punteggio_voci
        .iter()
        .all(|v| v.regola != "pressione_abitativa"));
    let c = only(&run(
        &one_area(),
        &rules("[preferenze.domanda.pressione]\n\"016077\" = 0.8\n"),
    ))
    .clone();
    assert!(close(voce(&c, "pressione_abitativa").punti, 8.0, 1e-9));
}

#[test]
fn a_changed_rules_file_changes_the_result_without_recompiling() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project_path = dir.path().join("abitare.toml");
    let rules_path = dir.path().join("regole.toml");
    std::fs::write(
        &project_path,
        "[ambito]\nnome = \"Prova\"\nanno = 2026\n\n[input]\nregole_candidate = \"regole.toml\"\n",
    )
    .expect("project");
    let mut m = one_area();
    m.pgt_zone.push(zone(
        ClasseZona::Agricolo,
        rect(50.0, -500.0, 1000.0, 1000.0),
    ));
    let screen_with_file = |text: &str| {
        std::fs::write(&rules_path, text).expect("rules");
        let project = Project::load(&project_path).expect("project");
        let r = pipeline::project_rules(&project).expect("rules");
        run(&m, &r)
    };
    let a = screen_with_file("# vuoto: le regole predefinite\n");
    assert!(close(only(&a).area_ha, 0.5, 1e-3));
    let b = screen_with_file(
        "[esclusioni]\nagricolo = false\n[generale]\ndensita_alloggi_ha = 100.0\n",
    );
    assert!(close(only(&b).area_ha, 1.0, 1e-3));
    assert_eq!(only(&b).alloggi_stimati, 30);
    let c = screen_with_file("modo = \"sostituisci\"\n[fonti.rigenerazione]\nattiva = true\n");
    assert!(c.candidate.is_empty() && c.escluse.is_empty());
    // A bad file is an error naming the key.
    std::fs::write(&rules_path, "[generale]\ndensita = 1\n").expect("rules");
    let project = Project::load(&project_path).expect("project");
    let e = pipeline::project_rules(&project).expect_err("unknown key");
    assert!(e.to_string().contains("densita"), "{e}");
    // A missing rules file is a project error.
    std::fs::remove_file(&rules_path).expect("rm");
    let e = Project::load(&project_path).expect_err("missing");
    assert!(e.to_string().contains("input.regole_candidate"), "{e}");
}

// ------------------------------------------------------------------------------------------
// The demo.

struct Demo {
    _demo: common::BuiltDemo,
    workspace: std::path::PathBuf,
}

fn demo() -> &'static Demo {
    static D: OnceLock<Demo> = OnceLock::new();
    D.get_or_init(|| {
        let demo = common::build_demo();
        Demo {
            workspace: demo.workspace(),
            _demo: demo,
        }
    })
}

fn snapshot(s: &Screening) -> serde_json::Value {
    let mut per_fonte = std::collections::BTreeMap::new();
    for c in &s.candidate {
        *per_fonte.entry(c.fonte.code()).or_insert(0) += 1;
    }
    serde_json::json!({
        "candidate": s.candidate.len(),
        "escluse": s.escluse.len(),
        "per_fonte": per_fonte,
        "alloggi_stimati": s.candidate.iter().map(|c| c.alloggi_stimati).sum::<u32>(),
        "aree": s.candidate.iter().map(|c| serde_json::json!([
            c.id, c.punteggio, (c.area_ha * 100.0).round() / 100.0, c.alloggi_stimati
        ])).collect::<Vec<_>>(),
        "aree_escluse": s.escluse.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
    })
}

#[test]
fn demo_candidates_match_the_snapshot() {
    let loaded = pipeline::load_workspace(&demo().workspace).expect("workspace");
    let got = snapshot(&loaded.candidate);
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aree_candidate_demo.json");
    if std::env::var_os("ABITARE_UPDATE_SNAPSHOT").is_some() {
        let text = serde_json::to_string_pretty(&got).expect("json");
        std::fs::write(&path, text + "\n").expect("write snapshot");
    }
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("snapshot")).expect("json");
    assert_eq!(
        got, want,
        "demo candidates changed: rerun with ABITARE_UPDATE_SNAPSHOT=1 if intended"
    );
    assert!(
        loaded.candidate.avvisi.is_empty(),
        "{:?}",
        loaded.candidate.avvisi
    );
    assert_eq!(loaded.candidate.punti_massimi, 100.0);
    // Every candidate carries its reasons and a score that adds up.
    for c in &loaded.candidate.candidate {
        assert!(c.motivi.len() >= 3, "{c:?}");
        let sum: f64 = c.punteggio_voci.iter().map(|v| v.punti).sum();
        assert!(close(sum, c.punteggio, 0.05), "{c:?}");
        // The page says "su 100": the built-in rules' scale is 100 and no score passes it.
        assert!((0.0..=100.0).contains(&c.punteggio), "{c:?}");
    }
    for e in &loaded.candidate.escluse {
        assert!(!e.motivo.is_empty());
    }
}

#[test]
fn demo_workspace_has_the_layer_and_the_report() {
    let ws = &demo().workspace;
    let layer: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.join("layers/aree_candidate.geojson")).expect("layer"),
    )
    .expect("json");
    let feats = layer["features"].as_array().expect("features");
    assert!(!feats.is_empty());
    for k in [
        "id",
        "comune",
        "fonte",
        "punteggio",
        "area_ha",
        "alloggi_stimati",
        "motivi",
        "esclusioni",
    ] {
        assert!(feats[0]["properties"].get(k).is_some(), "{k}");
    }
    let html = std::fs::read_to_string(ws.join("report/aree_candidate.html")).expect("html");
    assert!(html.contains("Aree candidate a standard di edilizia residenziale sociale"));
    assert!(html.contains("Dati dimostrativi"));
    let csv = std::fs::read_to_string(ws.join("report/aree_candidate.csv")).expect("csv");
    assert!(csv.starts_with("sezione,comune_istat,comune,rango,id,fonte"));
    assert!(csv.contains("\r\ncandidata,016077,Clusone,1,"));
    assert!(csv.contains("\r\nriepilogo,"));
    assert!(ws.join("regole_aree_candidate.toml").is_file());
}

/// A GET as a member of the Tavolo, who sees every candidate area.
async fn get(state: Arc<Analisi>, uri: &str) -> (StatusCode, String, String) {
    common::get_text_as(state, uri, Some(abitare::auth::Role::Tavolo)).await
}

#[tokio::test]
async fn report_route_and_public_layer() {
    let loaded = Arc::new(pipeline::load_workspace(&demo().workspace).expect("workspace"));
    let (st, ct, body) = get(loaded.clone(), "/api/report/aree-candidate?format=csv").await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.starts_with("text/csv"));
    let on_disk =
        std::fs::read_to_string(demo().workspace.join("report/aree_candidate.csv")).expect("csv");
    assert_eq!(body, on_disk);
    assert!(
        body.contains(",PP-"),
        "the Tavolo reads the areas from public parcels"
    );
    // The public's report: no area made from a public parcel with empty flats.
    let (st, _, public) =
        common::get_text(loaded.clone(), "/api/report/aree-candidate?format=csv").await;
    assert_eq!(st, StatusCode::OK);
    assert!(!public.contains("PP-"), "{public}");
    assert!(public.contains(",AT-"));
    let (st, ct, body) = get(loaded.clone(), "/api/report/aree-candidate").await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.starts_with("text/html") && body.contains("Aree escluse"));
    let (st, ct, _) = get(loaded.clone(), "/api/report/aree-candidate?format=pdf").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(ct, "application/problem+json");
    let (st, _, body) = get(loaded.clone(), "/api/layers/aree_candidate?limit=1").await;
    assert_eq!(st, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["numberMatched"], loaded.candidate.candidate.len());
    assert!(v["features"][0]["properties"]["motivi"]
        .as_str()
        .expect("motivi")
        .contains("superficie utile"));
}

// ---------------------------------------------------------------------------------------------
// Other public property and service points.

fn parcel_at(m: &mut Model, foglio: &str, particella: &str, g: MultiPolygon<f64>) {
    m.particelle.push(Particella {
        riferimento: format!("C800_{foglio:0>4}00.{particella}"),
        belfiore: "C800".into(),
        sezione: None,
        foglio: foglio.into(),
        particella: particella.into(),
        geometry: g,
    });
}

fn proprieta(foglio: &str, particella: &str, stato: StatoProprieta) -> ProprietaPubblica {
    ProprietaPubblica {
        codice: format!("PAT-{foglio}-{particella}"),
        comune_istat: Some("016077".into()),
        belfiore: Some("C800".into()),
        comune_nome: Some("Clusone".into()),
        sezione: None,
        foglio: foglio.into(),
        particella: particella.into(),
        ente: "Comune di Clusone".into(),
        uso: Some("Ex scuola".into()),
        stato,
        superficie_mq: Some(800.0),
        note: None,
        riga: 2,
    }
}

#[test]
fn other_public_property_is_a_candidate_only_in_the_states_the_rules_name() {
    let mut m = model();
    parcel_at(&mut m, "13", "125", rect(0.0, 0.0, 40.0, 50.0));
    parcel_at(&mut m, "13", "126", rect(100.0, 0.0, 40.0, 50.0));
    m.altra_proprieta_pubblica = vec![
        proprieta("13", "125", StatoProprieta::Dismesso),
        proprieta("0013", "0126", StatoProprieta::InUso),
    ];
    let s = run(&m, &Regole::predefinite());
    let c = only(&s);
    assert_eq!(c.fonte, FonteCandidata::AltraProprietaPubblica);
    assert_eq!(c.id, "AP-C800_001300.125");
    assert!(
        c.motivi[0].contains("Ex scuola (stato: dismesso)"),
        "{:?}",
        c.motivi
    );
    // 0.2 ha × 60 alloggi/ha × 50 % = 6; public ownership scores.
    assert_eq!(c.alloggi_stimati, 6);
    assert_eq!(voce(c, "proprieta_pubblica").punti, 5.0);

    // A rule naming `in_uso` too brings the town hall in (cadastral reference normalised).
    let s = run(
        &m,
        &rules("[fonti.altra_proprieta_pubblica]\nstati = [\"dismesso\", \"in_uso\"]\n"),
    );
    assert_eq!(s.candidate.len(), 2, "{s:#?}");
    // Switched off, the source proposes nothing.
    let s = run(
        &m,
        &rules("[fonti.altra_proprieta_pubblica]\nattiva = false\n"),
    );
    assert!(s.candidate.is_empty());
    // An unknown state in the rules is an error naming the key.
    let e = Regole::del_progetto(
        "[fonti.altra_proprieta_pubblica]\nstati = [\"chiuso\"]\n",
        "regole.toml",
    )
    .expect_err("unknown state");
    assert!(
        e.to_string()
            .contains("fonti.altra_proprieta_pubblica.stati")
            && e.to_string().contains("chiuso"),
        "{e}"
    );
}

fn punto(tipo: &str, nome: &str, x: f64, y: f64) -> ServizioPuntuale {
    let to_ll = ToLonLat::new(32632).expect("utm");
    let (lon, lat) = to_ll.convert(X0 + x, Y0 + y).expect("to lon/lat");
    ServizioPuntuale {
        tipo: tipo.into(),
        nome: Some(nome.into()),
        posizione: geo::Point::new(lon, lat),
    }
}

#[test]
fn service_points_score_by_kind_and_distance() {
    let mut m = one_area();
    // A school 420 m east of the area's east edge, a stop 1 km north, a kind no rule names.
    m.servizi_puntuali = vec![
        punto("scuola", "Scuola primaria Rodari", 520.0, 50.0),
        punto("fermata", "Fermata Viale Roma", 50.0, 1100.0),
        punto("biblioteca", "Biblioteca civica", 50.0, 50.0),
    ];
    let c = only(&run(&m, &Regole::predefinite())).clone();
    let scuola = voce(&c, "servizi_puntuali:scuola");
    assert_eq!(scuola.punti, 10.0);
    assert!(
        scuola
            .misura
            .contains("distanza scuola (Scuola primaria Rodari) 420 m ≤ 800 m"),
        "{}",
        scuola.misura
    );
    let fermata = voce(&c, "servizi_puntuali:fermata");
    assert_eq!(fermata.punti, 0.0);
    assert!(
        fermata.misura.contains("1.000 m > 400 m"),
        "{}",
        fermata.misura
    );
    // No health point at all: the reason says so.
    assert!(voce(&c, "servizi_puntuali:sanita")
        .misura
        .starts_with("nessun punto"));
    assert!(c
        .punteggio_voci
        .iter()
        .all(|v| !v.regola.contains("biblioteca")));

    // A tighter threshold takes the school's points away; naming the library scores it.
    let r = rules(
        "[preferenze.servizi_puntuali.scuola]\ndistanza_max_m = 400.0\n\
         [preferenze.servizi_puntuali.Biblioteca]\npunti = 3.0\ndistanza_max_m = 100.0\n",
    );
    let c2 = only(&run(&m, &r)).clone();
    assert_eq!(voce(&c2, "servizi_puntuali:scuola").punti, 0.0);
    let b = voce(&c2, "servizi_puntuali:biblioteca");
    assert_eq!(b.punti, 3.0);
    assert!(b.misura.contains("0 m ≤ 100 m"), "{}", b.misura);
    // The library's 3 points widen the scale to 103: the score stays a share of 100.
    assert_eq!(Regole::predefinite().preferenze.punti_massimi(), 100.0);
    assert_eq!(r.preferenze.punti_massimi(), 103.0);
    assert!(close(
        c2.punteggio,
        100.0 * (c.punteggio - 10.0 + 3.0) / 103.0,
        0.06
    ));
}

#[test]
fn scores_are_shares_of_the_most_the_rules_can_give() {
    // The built-in points add up to 100; doubling every rule leaves every score unchanged.
    let mut m = one_area();
    m.pgt_zone.push(zone(
        ClasseZona::TessutoUrbanoConsolidato,
        rect(-200.0, -200.0, 400.0, 400.0),
    ));
    m.pgt_zone.push(zone(
        ClasseZona::ServiziEsistenti,
        rect(300.0, 0.0, 50.0, 50.0),
    ));
    let base = only(&run(&m, &Regole::predefinite())).clone();
    let raw: f64 = base.punteggio_voci.iter().map(|v| v.punti).sum();
    assert!(close(base.punteggio, raw, 0.05), "{base:?}");
    assert!(base.punteggio > 40.0 && base.punteggio <= 100.0);
    let doubled = rules(
        "[preferenze.tessuto_consolidato]\npunti = 60.0\n[preferenze.servizi]\npunti = 30.0\n\
         [preferenze.servizi_puntuali.scuola]\npunti = 20.0\n[preferenze.servizi_puntuali.sanita]\npunti = 10.0\n\
         [preferenze.servizi_puntuali.commercio]\npunti = 10.0\n[preferenze.servizi_puntuali.fermata]\npunti = 20.0\n\
         [preferenze.alloggi_pubblici_vicini]\npunti_per_unita = 2.0\npunti_max = 10.0\n\
         [preferenze.proprieta_pubblica]\npunti = 10.0\n[preferenze.domanda]\npunti_popolazione = 30.0\n",
    );
    assert_eq!(doubled.preferenze.punti_massimi(), 200.0);
    let d = only(&run(&m, &doubled)).clone();
    assert!(
        close(d.punteggio, base.punteggio, 0.06),
        "{} vs {}",
        d.punteggio,
        base.punteggio
    );
    // A pressure index counts in the scale only once the rules give one.
    let pressed = rules("[preferenze.domanda.pressione]\n\"099999\" = 0.5\n");
    assert_eq!(pressed.preferenze.punti_massimi(), 105.0);
}

#[test]
fn property_list_and_service_points_are_read_with_clear_errors() {
    use abitare::ingest::inventory::InventoryOptions;
    use abitare::ingest::public_assets::{read_altra_proprieta_bytes, read_servizi_puntuali};
    use abitare::ingest::{ReadErrorKind, Record};
    let path = Path::new("immobili.csv");
    let ok = "Codice;Comune;Codice catastale;Foglio;Particella;Ente proprietario;Uso;Stato di utilizzo\n\
              PAT-1;Clusone;C800;13;125;Comune di Clusone;Ex scuola;Dismesso\n\
              PAT-2;Clusone;C800;13;126;Comune di Clusone;Municipio;in uso\n";
    let r = read_altra_proprieta_bytes(ok.as_bytes(), path, &InventoryOptions::default())
        .expect("read");
    assert_eq!(r.items.len(), 2);
    assert_eq!(r.items[0].stato, StatoProprieta::Dismesso);
    assert_eq!(r.items[1].stato, StatoProprieta::InUso);
    let bad = ok.replace("Dismesso", "chiuso per sempre");
    let e = read_altra_proprieta_bytes(bad.as_bytes(), path, &InventoryOptions::default())
        .expect_err("bad state");
    assert_eq!(e.record, Some(Record::Row(2)), "{e}");
    assert_eq!(e.field.as_deref(), Some("Stato di utilizzo"), "{e}");
    assert_eq!(e.value.as_deref(), Some("chiuso per sempre"), "{e}");
    assert!(matches!(e.kind, ReadErrorKind::UnknownCode(_)), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("immobili.csv") && msg.contains("riga 2") && msg.contains("stato"),
        "{msg}"
    );
    let missing = "Comune;Foglio;Particella;Stato\nClusone;13;125;dismesso\n";
    let e = read_altra_proprieta_bytes(missing.as_bytes(), path, &InventoryOptions::default())
        .expect_err("no owner column");
    assert!(
        matches!(&e.kind, ReadErrorKind::MissingColumn { expected, .. } if expected[..] == ["ente"]),
        "{e}"
    );

    let dir = tempfile::tempdir().expect("tmp");
    let gj = dir.path().join("servizi.geojson");
    std::fs::write(
        &gj,
        r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"tipo":"Sanità","nome":"ASST"},"geometry":{"type":"Point","coordinates":[9.95,45.88]}},
            {"type":"Feature","properties":{"nome":"senza tipo"},"geometry":{"type":"Point","coordinates":[9.95,45.88]}}]}"#,
    )
    .expect("write");
    let e = read_servizi_puntuali(&gj).expect_err("missing tipo");
    assert_eq!(e.record, Some(Record::Feature(2)), "{e}");
    assert_eq!(e.field.as_deref(), Some("tipo"), "{e}");
    assert!(matches!(e.kind, ReadErrorKind::MissingValue(_)), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("servizi.geojson") && msg.contains("feature n. 2") && msg.contains("tipo"),
        "{msg}"
    );
    let csv = dir.path().join("servizi.csv");
    std::fs::write(
        &csv,
        "tipo;nome;lon;lat\nSanità;ASST;9,95;45,88\nFermata;Bus;9.96;45.89\n",
    )
    .expect("write");
    let pts = read_servizi_puntuali(&csv).expect("csv services");
    assert_eq!(pts.len(), 2);
    assert_eq!(pts[0].tipo, "sanita");
    assert!(close(pts[1].posizione.x(), 9.96, 1e-9));
}

#[tokio::test]
async fn drafters_package_holds_candidates_beside_the_pgt_with_styles() {
    use abitare::output::export;
    let loaded = Arc::new(pipeline::load_workspace(&demo().workspace).expect("workspace"));
    let tables = export::tables(
        &loaded,
        &["pacchetto_pgt".to_string()],
        abitare::output::layers::Audience::Tavolo,
    )
    .expect("tables");
    let names: Vec<&str> = tables.iter().map(|t| t.layer).collect();
    assert_eq!(names, export::PACCHETTO_PGT);
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("pgt.gpkg");
    export::gpkg::write(&path, &tables).expect("gpkg");
    let db = rusqlite::Connection::open(&path).expect("open");
    let count = |t: &str| -> i64 {
        db.query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))
            .expect("count")
    };
    assert_eq!(
        count("aree_candidate") as usize,
        loaded.candidate.candidate.len()
    );
    assert_eq!(
        count("aree_escluse") as usize,
        loaded.candidate.escluse.len()
    );
    assert_eq!(count("pgt_zone") as usize, loaded.model.pgt_zone.len());
    // The best candidate keeps its score, source and reasons in the table.
    let best = &loaded.candidate.candidate[0];
    let (score, fonte, motivi): (f64, String, String) = db
        .query_row(
            "SELECT punteggio, fonte, motivi FROM aree_candidate WHERE id = ?1",
            [&best.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("best candidate row");
    assert_eq!(score, best.punteggio);
    assert_eq!(fonte, best.fonte.code());
    assert!(motivi.contains("superficie utile"), "{motivi}");
    // Each layer has its default QGIS style; candidates graduated by score.
    let qml: String = db
        .query_row(
            "SELECT styleQML FROM layer_styles WHERE f_table_name = 'aree_candidate' AND useAsDefault",
            [],
            |r| r.get(0),
        )
        .expect("style");
    assert!(
        qml.contains("graduatedSymbol") && qml.contains("punteggio"),
        "{qml}"
    );
    let styled: i64 = db
        .query_row("SELECT count(*) FROM layer_styles", [], |r| r.get(0))
        .expect("styles");
    assert_eq!(styled as usize, export::PACCHETTO_PGT.len());

    // Over HTTP: one GeoPackage; not as a single-layer format.
    let (st, ct, _) = get(loaded.clone(), "/api/export/pacchetto_pgt.gpkg").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ct, "application/geopackage+sqlite3");
    let (st, _, body) = get(loaded.clone(), "/api/export/pacchetto_pgt.csv").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(body.contains("pacchetto_pgt"), "{body}");
    // Excluded areas are a public layer with the rule that excluded them.
    let (st, _, body) = get(loaded.clone(), "/api/layers/aree_escluse").await;
    assert_eq!(st, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["numberMatched"], loaded.candidate.escluse.len());
    assert!(!v["features"][0]["properties"]["motivo"]
        .as_str()
        .expect("motivo")
        .is_empty());
}

#[tokio::test]
async fn candidate_layers_answer_bbox_queries_from_their_index() {
    let loaded = Arc::new(pipeline::load_workspace(&demo().workspace).expect("workspace"));
    let c = &loaded.candidate.candidate[0];
    let b = geo::BoundingRect::bounding_rect(&c.geometry).expect("bbox");
    let uri = format!(
        "/api/layers/aree_candidate?bbox={},{},{},{}",
        b.min().x,
        b.min().y,
        b.max().x,
        b.max().y
    );
    let (st, _, body) = get(loaded.clone(), &uri).await;
    assert_eq!(st, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let n = v["numberMatched"].as_u64().expect("matched") as usize;
    assert!(n >= 1 && n < loaded.candidate.candidate.len() / 2, "{n}");
    assert!(v["features"]
        .as_array()
        .expect("features")
        .iter()
        .any(|f| f["id"] == c.id.as_str()));
}
