//! The Tavolo Abitare endpoints on the demo: the side-panel figures of each comune and of the
//! Ambito against the Piano Annuale report and the comuni layer, the share of the offer, the
//! candidate areas, the printable report with charts and a small map, the style's candidate
//! layers, and errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use abitare::auth::Role;
use axum::http::StatusCode;
use serde_json::Value;

fn demo() -> &'static common::LoadedDemo {
    common::loaded_demo()
}

async fn get(uri: &str) -> (StatusCode, String, Vec<u8>) {
    common::get_raw(demo().loaded.clone(), uri).await
}

async fn get_json(uri: &str) -> Value {
    get_json_as(uri, None).await
}

/// [`get_json`] as the account of `role` (the public when `None`).
async fn get_json_as(uri: &str, role: Option<Role>) -> Value {
    let (status, _, body) = common::get_raw_as(demo().loaded.clone(), uri, role).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).expect("json")
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

#[tokio::test]
async fn every_comune_panel_has_the_report_figures_of_the_comune() {
    let report = get_json("/api/report/piano-annuale?format=json").await;
    // The exact figures, as the Tavolo reads them.
    let tavolo = Some(Role::Tavolo);
    let comuni = get_json_as("/api/layers/comuni", tavolo).await;
    let features = comuni["features"].as_array().expect("features");
    assert_eq!(features.len(), 24);
    let mut compared = 0;
    for f in features {
        let p = &f["properties"];
        let istat = p["istat"].as_str().expect("istat");
        let nome = p["nome"].as_str().expect("nome");
        let s = get_json_as(&format!("/api/sintesi/comuni/{istat}"), tavolo).await;
        assert_eq!(s["nome"], nome);
        // Units located in the comune: the same as the comuni layer (vacancy).
        for k in [
            "alloggi",
            "occupati",
            "liberi",
            "sfitto_carenze_manutentive",
            "sfitto_ristrutturazione",
            "inutilizzati",
        ] {
            assert_eq!(s["alloggi"][k], p[k], "{nome}: {k}");
        }
        assert_eq!(s["popolazione"], p["popolazione"], "{nome}");
        // Per owner in the comune: sums to the comune's units.
        let per_ente: u64 = s["per_ente"]
            .as_array()
            .expect("per_ente")
            .iter()
            .map(|e| u(&e["alloggi"]))
            .sum();
        assert_eq!(per_ente, u(&p["alloggi"]), "{nome}: per owner");
        // The comune as owner in the Piano Annuale: the report's row, field by field.
        let ente = format!("Comune di {nome}");
        assert_eq!(s["piano_annuale"]["ente"], ente.as_str());
        let row = report["stato_per_ente"]
            .as_array()
            .expect("stato_per_ente")
            .iter()
            .find(|r| r["ente"] == ente.as_str())
            .unwrap_or_else(|| panic!("{ente} in the report"));
        assert_eq!(&s["piano_annuale"]["stato"], row, "{ente}");
        let cons = report["consistenza"]
            .as_array()
            .expect("consistenza")
            .iter()
            .find(|r| r["ente"] == ente.as_str())
            .expect("consistenza row");
        assert_eq!(&s["piano_annuale"]["consistenza"], cons, "{ente}");
        let g = report["sezioni"]["g"]["per_ente"]
            .as_array()
            .expect("g")
            .iter()
            .find(|r| r["ente"] == ente.as_str());
        assert_eq!(
            u(&s["piano_annuale"]["sezioni"]["g"]["dichiarati"]),
            g.map_or(0, |r| u(&r["dichiarati"])),
            "{ente}: g"
        );
        assert_eq!(
            u(&s["offerta"]["disponibili_anno"]),
            g.map_or(0, |r| u(&r["dichiarati"])),
            "{ente}: offer"
        );
        assert_eq!(
            s["privato"]["privati_offerti"], p["privati_offerti"],
            "{nome}"
        );
        compared += 1;
    }
    assert_eq!(compared, 24);

    // The public's panel withholds what the public's comuni layer withholds ("< 3" where the
    // layer has null), shows the rest as the Tavolo sees it, and keeps the published plan.
    let public_layer = get_json("/api/layers/comuni").await;
    let mut withheld = 0;
    for (f, exact) in public_layer["features"]
        .as_array()
        .expect("features")
        .iter()
        .zip(features)
    {
        let (p, e) = (&f["properties"], &exact["properties"]);
        let istat = p["istat"].as_str().expect("istat");
        let nome = p["nome"].as_str().expect("nome");
        assert_eq!(e["istat"], istat);
        let s = get_json(&format!("/api/sintesi/comuni/{istat}")).await;
        let names = p["valori_protetti"].as_str().unwrap_or("");
        let small: Vec<&str> = p["valori_inferiori_a_3"]
            .as_str()
            .unwrap_or("")
            .split(',')
            .collect();
        for k in [
            "alloggi",
            "occupati",
            "liberi",
            "sfitto_carenze_manutentive",
            "sfitto_ristrutturazione",
            "inutilizzati",
        ] {
            if p[k].is_null() {
                assert!(names.split(',').any(|n| n == k), "{nome}: {k} not named");
                assert!(u(&e[k]) > 0, "{nome}: {k} withheld as 0");
                let mark = if small.contains(&k) { "< 3" } else { "n.p." };
                assert_eq!(s["alloggi"][k], mark, "{nome}: {k}");
                assert_eq!(small.contains(&k), u(&e[k]) < 3, "{nome}: {k}");
                withheld += 1;
            } else {
                assert_eq!(p[k], e[k], "{nome}: {k}");
                assert_eq!(s["alloggi"][k], p[k], "{nome}: {k}");
            }
        }
        if p["privati_offerti"].is_null() {
            let mark = if small.contains(&"privati_offerti") {
                "< 3"
            } else {
                "n.p."
            };
            assert_eq!(s["privato"]["privati_offerti"], mark, "{nome}");
        } else {
            assert_eq!(
                s["privato"]["privati_offerti"], p["privati_offerti"],
                "{nome}"
            );
        }
        // No exact count of 1 or 2 is left anywhere in the panel's unit figures.
        for e in s["per_ente"].as_array().expect("per_ente") {
            assert!(
                !matches!(e["alloggi"].as_u64(), Some(1 | 2)),
                "{nome}: {}",
                e["alloggi"]
            );
        }
        let ente = format!("Comune di {nome}");
        let row = report["stato_per_ente"]
            .as_array()
            .expect("stato_per_ente")
            .iter()
            .find(|r| r["ente"] == ente.as_str())
            .unwrap_or_else(|| panic!("{ente} in the report"));
        assert_eq!(&s["piano_annuale"]["stato"], row, "{ente}: published plan");
    }
    assert!(withheld > 0, "the demo has small counts");
}

#[tokio::test]
async fn clusone_matches_the_seed_figures() {
    let s = get_json("/api/sintesi/comuni/016077").await;
    assert_eq!(s["nome"], "Clusone");
    assert_eq!(s["data_riferimento_it"], "27 ottobre 2025");
    // Seed 003: Clusone owns 61 SAP units, 2 turnover, 3 available in the year.
    let st = &s["piano_annuale"]["stato"];
    assert_eq!(u(&st["di_proprieta"]), 61);
    assert_eq!(u(&st["disponibili_anno"]), 3);
    assert_eq!(u(&s["piano_annuale"]["sezioni"]["e"]), 2);
    assert_eq!(u(&s["offerta"]["disponibili_anno"]), 3);
    let q = s["offerta"]["quota_disponibili_anno"]
        .as_f64()
        .expect("share");
    assert!((q - 0.6).abs() < 1e-9, "3 of 5: {q}");
    assert!(s["link"]["piano_annuale_html"]
        .as_str()
        .is_some_and(|l| l.contains("piano-annuale")));
    // The comune's links: the spreadsheet the panel offers, and the comune's package.
    for (key, ct) in [
        (
            "comuni_xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("pacchetto_pgt_gpkg", "application/geopackage+sqlite3"),
    ] {
        let link = s["link"][key].as_str().expect(key);
        let (status, got, _) = common::get_raw(demo().loaded.clone(), &format!("/{link}")).await;
        assert_eq!((status.as_u16(), got.as_str()), (200, ct), "{link}");
    }
    assert_eq!(
        s["link"]["pacchetto_pgt_gpkg"],
        "api/export/pacchetto_pgt.gpkg?comune=016077"
    );
}

#[tokio::test]
async fn ambito_totals_and_shares_add_up() {
    let tavolo = Some(Role::Tavolo);
    let s = get_json_as("/api/sintesi/ambito", tavolo).await;
    let report = get_json("/api/report/piano-annuale?format=json").await;
    let ambito = get_json_as("/api/ambito", tavolo).await;
    assert_eq!(s["piano_annuale"]["stato"], report["totale"]);
    assert_eq!(
        s["piano_annuale"]["consistenza"],
        report["totale_consistenza"]
    );
    assert_eq!(
        u(&s["piano_annuale"]["sezioni"]["g"]["dichiarati"]),
        u(&report["sezioni"]["g"]["totale"])
    );
    for k in ["alloggi", "inutilizzati", "liberi", "occupati"] {
        assert_eq!(s["alloggi"][k], ambito["totali"][k], "{k}");
    }
    let comuni = s["comuni"].as_array().expect("comuni");
    assert_eq!(comuni.len(), 24);
    // Every comune's offer, summed, is the Ambito's (units of comuni as owners + private).
    let tot = u(&s["offerta"]["totale"]);
    let sum: u64 = comuni.iter().map(|c| u(&c["offerta"]["totale"])).sum();
    let aler_available: u64 = report["sezioni"]["g"]["per_ente"]
        .as_array()
        .expect("g")
        .iter()
        .filter(|r| !r["ente"].as_str().unwrap_or("").starts_with("Comune di "))
        .map(|r| u(&r["dichiarati"]))
        .sum();
    // Today's offer: the plan year's SAP units + the private units still on offer; the desk's
    // record (offers received, of which let and withdrawn) travels beside it, with its years.
    let o = &s["offerta"];
    let privato = &demo().loaded.privato.ambito;
    assert_eq!(o["anno"], report["anno"]);
    assert_eq!(
        tot,
        u(&o["disponibili_anno"]) + u(&o["privati_in_offerta"]),
        "{o}"
    );
    assert_eq!(
        u(&o["privati_in_offerta"]),
        u64::from(privato.privati_in_offerta)
    );
    assert!(
        u(&o["privati_in_offerta"]) < u(&o["privati_offerti"]),
        "{o}"
    );
    assert_eq!(
        u(&o["privati_offerti"]),
        u(&o["privati_in_offerta"])
            + u(&o["privati_locati_concordato"])
            + u(&o["privati_ritirati"])
    );
    let (dal, al) = (u(&o["offerte_dal"]), u(&o["offerte_al"]));
    assert!(2000 < dal && dal <= al && al <= u(&o["anno"]), "{o}");
    let outside = u64::from(demo().loaded.privato.privati_senza_comune);
    assert_eq!(sum + aler_available + outside, tot, "offer adds up");
    let shares: f64 = comuni
        .iter()
        .filter_map(|c| c["offerta"]["quota_ambito"].as_f64())
        .sum();
    assert!(shares <= 1.0 + 1e-9, "{shares}");
    // Candidates: the per-comune figures sum to the Ambito's.
    let mut ha = 0.0;
    let mut alloggi = 0;
    for c in comuni {
        let istat = c["istat"].as_str().expect("istat");
        let d = get_json_as(&format!("/api/sintesi/comuni/{istat}"), tavolo).await;
        ha += d["candidate"]["ettari"].as_f64().expect("ha");
        alloggi += u(&d["candidate"]["alloggi_stimati"]);
    }
    let cand = &s["candidate"];
    assert!(u(&cand["aree"]) > 0);
    assert_eq!(
        u(&cand["aree"]) as usize,
        demo().loaded.candidate.candidate.len()
    );
    assert_eq!(alloggi, u(&cand["alloggi_stimati"]));
    assert!((ha - cand["ettari"].as_f64().expect("ha")).abs() < 0.005 * 25.0);

    // The public's Ambito panel and summary agree with each other, keep the published plan,
    // and show no exact count of 1 or 2 of a comune.
    let public = get_json("/api/sintesi/ambito").await;
    let public_ambito = get_json("/api/ambito").await;
    assert_eq!(public["piano_annuale"]["stato"], report["totale"]);
    for k in ["alloggi", "inutilizzati", "liberi", "occupati"] {
        assert_eq!(public["alloggi"][k], public_ambito["totali"][k], "{k}");
    }
    let public_comuni = public["comuni"].as_array().expect("comuni");
    assert_eq!(public_comuni.len(), 24);
    let mut marked = 0;
    for (p, e) in public_comuni.iter().zip(comuni) {
        assert_eq!(p["istat"], e["istat"]);
        marked += compare_protected(&p["istat"].to_string(), p, e);
    }
    assert!(marked > 0, "the demo's comuni have small counts");
}

/// Compares the public's panel object `public` with the Tavolo's `exact`, member by member:
/// a small withheld count reads "< 3" and is 1 or 2, a cell withheld with it (one more cell
/// of its sum) reads "n.p." and is not 0, a withheld derived value is null, no count of 1 or 2
/// is shown, and everything else is the same. Returns how many counts are withheld.
fn compare_protected(at: &str, public: &Value, exact: &Value) -> usize {
    use abitare::output::layers::Protection;
    use abitare::output::protect::{panel_protection, MARK, MARK_OTHER};
    match (public, exact) {
        (Value::Object(p), Value::Object(e)) => {
            assert_eq!(
                p.keys().collect::<Vec<_>>(),
                e.keys().collect::<Vec<_>>(),
                "{at}"
            );
            let mut marked = 0;
            for (k, v) in p {
                let x = &e[k];
                let at = format!("{at}.{k}");
                match panel_protection(k) {
                    _ if v == MARK => {
                        assert!(matches!(x.as_u64(), Some(1 | 2)), "{at}: {x} marked small");
                        marked += 1;
                    }
                    // The cell of a sum withheld with a small one.
                    _ if v == MARK_OTHER => {
                        assert!(u(x) > 0, "{at}: 0 withheld");
                        marked += 1;
                    }
                    Protection::SmallCount => {
                        assert!(!matches!(v.as_u64(), Some(1 | 2)), "{at} = {v}");
                        assert_eq!(v, x, "{at}");
                    }
                    Protection::DerivedFrom(_) if v.is_null() => {}
                    _ => marked += compare_protected(&at, v, x),
                }
            }
            marked
        }
        (Value::Array(p), Value::Array(e)) => {
            assert_eq!(p.len(), e.len(), "{at}");
            p.iter()
                .zip(e)
                .enumerate()
                .map(|(i, (p, e))| compare_protected(&format!("{at}[{i}]"), p, e))
                .sum()
        }
        _ => {
            assert_eq!(public, exact, "{at}");
            0
        }
    }
}

#[tokio::test]
async fn bad_or_unknown_comune_is_a_problem() {
    let (status, ct, _) = get("/api/sintesi/comuni/16077x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ct, "application/problem+json");
    let (status, _, body) = get("/api/sintesi/comuni/099999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains("non fa parte dell'Ambito"));
}

#[tokio::test]
async fn printable_report_has_charts_and_a_small_map() {
    let (status, ct, body) = get("/api/report/piano-annuale/stampa").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/html"));
    let html = String::from_utf8(body).expect("utf-8");
    assert!(html.contains("id=\"grafico-stati\""));
    assert!(html.contains("id=\"grafico-sezioni\""));
    assert!(html.contains("id=\"mappa-comuni\""));
    assert_eq!(
        html.matches("<path d=\"M").count(),
        24,
        "one path per comune"
    );
    assert!(html.contains("10 km"), "scale bar");
    assert!(html.contains("Dati al 27 ottobre 2025"));
    assert!(html.contains("@media print"));
    // The tables are still all there, and the plain HTML report has the charts too.
    let (_, _, plain) = get("/api/report/piano-annuale?format=html").await;
    let plain = String::from_utf8(plain).expect("utf-8");
    assert_eq!(
        html.matches("<table>").count(),
        plain.matches("<table>").count()
    );
    assert!(plain.contains("id=\"grafico-stati\"") && !plain.contains("id=\"mappa-comuni\""));
}

#[tokio::test]
async fn style_has_candidate_and_excluded_layers() {
    let style = get_json("/style.json").await;
    let layers = style["layers"].as_array().expect("layers");
    let find = |id: &str| layers.iter().find(|l| l["id"] == id);
    let fill = find("aree-candidate-fill").expect("candidate fill");
    assert_eq!(fill["source-layer"], "aree_candidate");
    assert_eq!(fill["layout"]["visibility"], "none");
    let expr = fill["paint"]["fill-color"].to_string();
    assert!(
        expr.contains("punteggio") && expr.contains("#440154"),
        "{expr}"
    );
    // The excluded areas are styled exactly when the tiles carry them.
    let tj = get_json("/tiles.json").await;
    let in_tiles = tj["vector_layers"]
        .as_array()
        .expect("vector_layers")
        .iter()
        .any(|l| l["id"] == "aree_escluse");
    match find("aree-escluse-fill") {
        Some(excl) => {
            assert!(in_tiles);
            assert_eq!(excl["source-layer"], "aree_escluse");
            assert_eq!(excl["layout"]["visibility"], "none");
        }
        None => assert!(!in_tiles),
    }
    // The page's assets for the Tavolo are embedded.
    let (status, _, page) = get("/index.html").await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8(page).expect("utf-8");
    for id in [
        "gruppo-pubblico",
        "gruppo-privato",
        "gruppo-pgt",
        "gruppo-candidate",
        "sel-ente",
        "sel-mesi",
        "cerca",
        "scheda",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
}

#[tokio::test]
async fn each_comune_carries_a_point_inside_it_for_its_symbols() {
    use geo::Contains;
    let loaded = demo().loaded.clone();
    let (status, _, body) = get("/api/layers/comuni").await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&body).expect("json");
    let feats = v["features"].as_array().expect("features");
    assert_eq!(feats.len(), loaded.model.comuni.len());
    for f in feats {
        let istat = f["properties"]["istat"].as_str().expect("istat");
        let lon = f["properties"]["lon_interno"]
            .as_f64()
            .expect("lon_interno");
        let lat = f["properties"]["lat_interno"]
            .as_f64()
            .expect("lat_interno");
        let c = loaded.model.comune_by_istat(istat).expect("comune");
        assert!(
            c.geometry.contains(&geo::Point::new(lon, lat)),
            "{istat}: ({lon}, {lat}) outside the comune"
        );
    }
}

#[tokio::test]
async fn the_units_layer_carries_the_plans_flags() {
    // What the plan counts per section, the map can show unit by unit: the SAP units flagged
    // in the layer are the plan's sections c), e), k) and the declared available units of g).
    let report = get_json("/api/report/piano-annuale?format=json").await;
    let units = get_json_as("/api/layers/alloggi_pubblici", Some(Role::Tavolo)).await;
    let features = units["features"].as_array().expect("features");
    let flagged = |k: &str| {
        features
            .iter()
            .filter(|f| f["properties"]["servizio"] == "SAP" && f["properties"][k] == true)
            .count() as u64
    };
    let sezioni = &report["sezioni"];
    assert_eq!(
        flagged("in_programma_ristrutturazione"),
        u(&sezioni["c"]["totale"])
    );
    assert_eq!(flagged("turn_over"), u(&sezioni["e"]["totale"]));
    assert_eq!(
        flagged("assegnata_anno_precedente"),
        u(&sezioni["k"]["totale"])
    );
    assert_eq!(flagged("disponibile_anno"), u(&sezioni["g"]["totale"]));
    assert!(flagged("turn_over") > 0 && flagged("assegnata_anno_precedente") > 0);
    // The public sees no unit, hence no flag.
    let (status, _, _) = get("/api/layers/alloggi_pubblici").await;
    assert!(status.is_client_error(), "{status}");
}
