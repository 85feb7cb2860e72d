//! The reports in English (`lang=en`): the Piano Annuale (text, HTML, printable) and the
//! candidate areas, rendered from the demo Ambito; no Italian left but names and terms of art.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;

fn demo() -> &'static common::LoadedDemo {
    common::loaded_demo()
}

async fn get(uri: &str) -> (StatusCode, String) {
    let (status, _, body) = common::get_raw(demo().loaded.clone(), uri).await;
    (status, String::from_utf8(body).expect("utf-8"))
}

/// The text a person reads: tags dropped, entities of the escaper undone.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut in_style = false;
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < bytes.len() {
        if !in_tag && lower[i..].starts_with("<style") {
            in_style = true;
        }
        if in_style && lower[i..].starts_with("</style>") {
            in_style = false;
        }
        let c = html[i..].chars().next().expect("char");
        if c == '<' {
            in_tag = true;
            out.push(' ');
        } else if c == '>' {
            in_tag = false;
        } else if !in_tag && !in_style {
            out.push(c);
        }
        i += c.len_utf8();
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
}

/// Everything that is a name, not a word to translate: owner bodies, comuni, the Ambito, the
/// areas' ids and what the sources call them (zone legends), the constraints' names.
fn names() -> Vec<String> {
    let a = &demo().loaded;
    let mut v: Vec<String> = Vec::new();
    v.push(a.model.ambito.nome.clone());
    v.extend(a.report.stato_per_ente.iter().map(|r| r.ente.clone()));
    v.extend(a.report.consistenza.iter().map(|r| r.ente.clone()));
    v.extend(a.model.comuni.iter().map(|c| c.nome.clone()));
    for c in &a.candidate.candidate {
        v.push(c.id.clone());
        v.extend(c.denominazione.clone());
    }
    for e in &a.candidate.escluse {
        v.push(e.id.clone());
        v.extend(e.denominazione.clone());
    }
    v.extend(a.model.vincoli.iter().map(|x| x.nome.clone()));
    v.extend(
        a.model
            .servizi_puntuali
            .iter()
            .filter_map(|x| x.nome.clone()),
    );
    v.extend(
        a.model
            .altra_proprieta_pubblica
            .iter()
            .filter_map(|x| x.uso.clone()),
    );
    // Longest first, so that "Comune di Clusone" goes before "Clusone".
    v.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
    v.dedup();
    v
}

/// Italian words and phrases none of which an English report may still hold, once names
/// are taken out. (Terms of art stay Italian on purpose: Piano Annuale, Ambito, comune, SAP,
/// PGT, Piano dei Servizi, canone concordato in quotes, the laws' names.)
const ITALIAN: &[&str] = &[
    "alloggi",
    "Alloggi",
    "alloggio",
    "unità",
    "Unità",
    "Totale",
    "totale",
    "dell'",
    "nell'",
    "all'",
    "Ente ",
    "ente proprietario",
    "proprietari",
    "Sfitt",
    "sfitt",
    "Occupat",
    "occupat",
    "Disponibil",
    "disponibil",
    "Nessun",
    "nessun",
    "stima",
    "Patrimonio",
    "patrimonio",
    "punteggio",
    "Punteggio",
    "punti",
    "distanza",
    "superficie",
    "Superficie",
    " della ",
    " degli ",
    " delle ",
    " con ",
    " sono ",
    " non ",
    " nel ",
    " dal ",
    " alla ",
    " anno",
    "Anno",
    "Avvisi",
    "Fonte",
    "Aree ",
    " aree",
    "Motivi",
    "escluse",
    "Escluse",
    "liberi",
    "Liberi",
    "ristrutturazione",
    "manutentiv",
    "assegnat",
    "Assegnat",
    "offerti",
    "Offerti",
    "ritirati",
    "Ritirati",
    "locati",
    "Locati",
    "ettari",
    "Ettari",
    "abitazioni",
    "Abitazioni",
    "sezioni",
    "Sezione",
    "Dati ",
    "dati ",
    "comuni dell",
    "In sintesi",
    "Mappa",
    "scuola",
    "fermata",
    "negozio",
    "sanitario",
    "tessuto",
    "consolidato",
    "proprietà",
    "agricol",
    "fascia",
    "vincol",
    "inferiore",
    "minima",
    "interamente",
    "riattivare",
    "inutilizzat",
    "stato:",
];

fn italian_left(text: &str) -> Vec<String> {
    let mut t = text.to_string();
    for n in names() {
        t = t.replace(&n, " ");
    }
    // Terms of art kept on purpose.
    for keep in [
        "Piano Annuale",
        "Piano dei Servizi",
        "Ambito territoriale",
        "L.R. 16/2016",
        "Agenzia delle Entrate",
        "D.M. 22 April 2008",
    ] {
        t = t.replace(keep, " ");
    }
    let mut found: Vec<String> = Vec::new();
    for w in ITALIAN {
        // A word, not a part of one: "stima" in "estimated" is English.
        let hit = t.match_indices(w).map(|(i, _)| i).find(|&i| {
            !w.starts_with(char::is_alphabetic)
                || !t[..i].chars().next_back().is_some_and(char::is_alphabetic)
        });
        if let Some(i) = hit {
            let start = t[..i].char_indices().rev().nth(40).map_or(0, |(j, _)| j);
            let end = t[i..]
                .char_indices()
                .nth(60)
                .map_or(t.len(), |(j, _)| i + j);
            found.push(format!("{w:?} in …{}…", t[start..end].replace('\n', " ")));
        }
    }
    found
}

#[tokio::test]
async fn the_piano_annuale_reads_in_english() {
    for uri in [
        "/api/report/piano-annuale?format=html&lang=en",
        "/api/report/piano-annuale/stampa?lang=en",
    ] {
        let (status, body) = get(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        assert!(body.contains("<html lang=\"en\">"), "{uri}");
        assert!(body.contains("Annual housing supply plan 2026"), "{uri}");
        assert!(
            body.contains("SAP dwellings by owner body and state"),
            "{uri}"
        );
        assert!(body.contains("Owner body"), "{uri}");
        let left = italian_left(&visible_text(&body));
        assert!(left.is_empty(), "{uri}: Italian left:\n{}", left.join("\n"));
    }
    let (status, text) = get("/api/report/piano-annuale?format=testo&lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.starts_with("Annual housing supply plan 2026"),
        "{text}"
    );
    let left = italian_left(&text);
    assert!(left.is_empty(), "text: Italian left:\n{}", left.join("\n"));
    // Figures keep their values, with English separators: the Ambito's estimated dwellings.
    let total = demo().loaded.privato.ambito.abitazioni_stimate;
    let en = abitare::output::lingua::Lingua::En.numero(f64::from(total), 0);
    assert!(total >= 1_000 && en.contains(','), "{total} → {en}");
    assert!(text.contains(&en), "{en} in the English text");
}

#[tokio::test]
async fn the_candidates_report_reads_in_english() {
    let (status, body) = get("/api/report/aree-candidate?lang=en").await;
    if let Some(dir) = std::env::var_os("ABITARE_DUMP") {
        std::fs::write(std::path::Path::new(&dir).join("aree_en.html"), &body).expect("dump");
        let (_, p) = get("/api/report/piano-annuale/stampa?lang=en").await;
        std::fs::write(std::path::Path::new(&dir).join("piano_en.html"), &p).expect("dump");
    }
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<html lang=\"en\">"));
    assert!(body.contains("How the score is computed"));
    let left = italian_left(&visible_text(&body));
    assert!(left.is_empty(), "Italian left:\n{}", left.join("\n"));
}

#[tokio::test]
async fn italian_stays_the_default_and_data_formats_ignore_the_language() {
    let (_, it) = get("/api/report/piano-annuale?format=html").await;
    let (_, it2) = get("/api/report/piano-annuale?format=html&lang=it").await;
    assert_eq!(it, it2);
    assert!(it.contains("<html lang=\"it\">") && it.contains("Ente proprietario"));
    for f in ["json", "csv"] {
        let (_, a) = get(&format!("/api/report/piano-annuale?format={f}")).await;
        let (_, b) = get(&format!("/api/report/piano-annuale?format={f}&lang=en")).await;
        assert_eq!(a, b, "{f} is data: the same in every language");
    }
    for uri in [
        "/api/report/piano-annuale?lang=fr",
        "/api/report/piano-annuale?formato=html",
        "/api/report/piano-annuale/stampa?lang=de",
        "/api/report/piano-annuale/stampa?x=1",
        "/api/report/aree-candidate?lang=xx",
    ] {
        let (status, body) = get(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(
            body.contains("lang") || body.contains("parametri"),
            "{uri}: {body}"
        );
    }
}
