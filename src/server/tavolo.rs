//! What the Tavolo Abitare reads in a meeting: the side panel of the web map and the printable
//! Piano Annuale.
//!
//! - `/api/sintesi/ambito`: key figures of the Ambito, per owner, and per comune the share of the
//!   Ambito's offer (the compensation idea of seed 000);
//! - `/api/sintesi/comuni/{istat}`: the same for one comune: units in the comune by state and
//!   owner, the Piano Annuale rows of the comune as owner ("Comune di X"), the candidate areas in
//!   hectares and dwellings, the private stock, the comune's share of the Ambito's offer;
//! - `/api/report/piano-annuale/stampa`: the printable HTML Piano Annuale with SVG charts and a
//!   small map of the comuni.
//!
//! Every figure is read from [`Analisi`] (vacancy, report, private stock, screening): nothing is
//! recomputed differently from the report, so the panel and the report agree by construction.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{ApiError, AppState};
use crate::analysis::piano_annuale::PianoAnnuale;
use crate::analysis::vacancy::Conteggi;
use crate::analysis::Analisi;
use crate::italiano::data_it;
use crate::output::report::{html_stampa, ComuneMappa, MappaComuni};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/sintesi/ambito", get(ambito))
        .route("/api/sintesi/comuni", get(comuni))
        .route("/api/sintesi/comuni/{istat}", get(comune))
        .route("/api/report/piano-annuale/stampa", get(stampa))
}

/// The owner name of a comune in the Piano Annuale.
pub fn ente_comune(nome: &str) -> String {
    format!("Comune di {nome}")
}

fn same_owner(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn share(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole)
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn conteggi_json(ente: &str, c: &Conteggi) -> Value {
    json!({
        "ente": ente,
        "alloggi": c.alloggi,
        "alloggi_sap": c.alloggi_sap,
        "occupati": c.occupati,
        "liberi": c.liberi,
        "sfitto_carenze_manutentive": c.sfitto_carenze_manutentive,
        "sfitto_ristrutturazione": c.sfitto_ristrutturazione,
        "inutilizzati": c.inutilizzati,
        "mesi_sfitto_medi": c.mesi_sfitto_medi,
        "sfitti_oltre_24_mesi": c.sfitti_oltre_24_mesi,
        "tasso_inutilizzo": c.tasso_inutilizzo(),
    })
}

/// Section counts of one owner (or the totals when `ente` is `None`).
fn sezioni(r: &PianoAnnuale, ente: Option<&str>) -> Value {
    let s = &r.sezioni;
    let v = |sec: &crate::analysis::piano_annuale::Sezione| -> u32 {
        match ente {
            None => sec.totale,
            Some(e) => sec
                .per_ente
                .iter()
                .filter(|x| same_owner(&x.ente, e))
                .map(|x| x.valore)
                .sum(),
        }
    };
    let g = match ente {
        None => json!({
            "dichiarati": s.g.totale,
            "somma_b_f": s.g.somma_b_f,
            "di_cui_turn_over": s.e.totale,
        }),
        Some(e) => {
            let row = s.g.per_ente.iter().find(|x| same_owner(&x.ente, e));
            json!({
                "dichiarati": row.map_or(0, |x| x.dichiarati),
                "somma_b_f": row.map_or(0, |x| x.somma_b_f),
                "di_cui_turn_over": row.map_or(0, |x| x.di_cui_turn_over),
            })
        }
    };
    json!({
        "b": v(&s.b), "c": v(&s.c), "d": v(&s.d), "e": v(&s.e), "f": v(&s.f),
        "g": g,
        "j": v(&s.j), "k": v(&s.k),
    })
}

/// The Piano Annuale rows of an owner: state table (SAP), section a), sections b–k.
fn piano_ente(r: &PianoAnnuale, ente: &str) -> Value {
    let stato = r.stato_per_ente.iter().find(|x| same_owner(&x.ente, ente));
    let consistenza = r.consistenza.iter().find(|x| same_owner(&x.ente, ente));
    json!({
        "ente": ente,
        "anno": r.anno,
        "stato": stato,
        "consistenza": consistenza,
        "sezioni": sezioni(r, Some(ente)),
    })
}

/// Units a comune makes available: SAP units declared available in the year by the comune as
/// owner (section g), and private units offered to the housing desk in the comune.
struct Offerta {
    disponibili_anno: u32,
    privati_offerti: u32,
}

impl Offerta {
    fn totale(&self) -> u32 {
        self.disponibili_anno + self.privati_offerti
    }
}

fn offerta_comune(s: &Analisi, istat: &str, nome: &str) -> Offerta {
    let ente = ente_comune(nome);
    Offerta {
        disponibili_anno: s
            .report
            .sezioni
            .g
            .per_ente
            .iter()
            .filter(|x| same_owner(&x.ente, &ente))
            .map(|x| x.dichiarati)
            .sum(),
        privati_offerti: s
            .privato
            .per_comune
            .iter()
            .find(|p| p.istat == istat)
            .map_or(0, |p| p.figure.privati_offerti),
    }
}

fn offerta_ambito(s: &Analisi) -> Offerta {
    Offerta {
        disponibili_anno: s.report.sezioni.g.totale,
        privati_offerti: s.privato.ambito.privati_offerti,
    }
}

fn offerta_json(o: &Offerta, ambito: &Offerta) -> Value {
    json!({
        "disponibili_anno": o.disponibili_anno,
        "quota_disponibili_anno": share(f64::from(o.disponibili_anno), f64::from(ambito.disponibili_anno)),
        "privati_offerti": o.privati_offerti,
        "quota_privati_offerti": share(f64::from(o.privati_offerti), f64::from(ambito.privati_offerti)),
        "totale": o.totale(),
        "quota_ambito": share(f64::from(o.totale()), f64::from(ambito.totale())),
    })
}

/// Candidate areas (of one comune, or all), in hectares and estimated dwellings, per source.
fn candidate_json(s: &Analisi, istat: Option<&str>) -> Value {
    let keep = |c: &Option<String>| istat.is_none() || c.as_deref() == istat;
    let mut per_fonte: BTreeMap<&'static str, (&'static str, usize, f64, u32)> = BTreeMap::new();
    let (mut n, mut ha, mut alloggi) = (0usize, 0.0f64, 0u32);
    for c in s
        .candidate
        .candidate
        .iter()
        .filter(|c| keep(&c.comune_istat))
    {
        n += 1;
        ha += c.area_ha;
        alloggi += c.alloggi_stimati;
        let e = per_fonte
            .entry(c.fonte.code())
            .or_insert((c.fonte.label_it(), 0, 0.0, 0));
        e.1 += 1;
        e.2 += c.area_ha;
        e.3 += c.alloggi_stimati;
    }
    let escluse = s
        .candidate
        .escluse
        .iter()
        .filter(|x| keep(&x.comune_istat))
        .count();
    let per_fonte: Vec<Value> = per_fonte
        .into_iter()
        .map(|(code, (label, n, ha, al))| {
            json!({"fonte": code, "fonte_label": label, "aree": n, "ettari": round2(ha), "alloggi_stimati": al})
        })
        .collect();
    json!({
        "aree": n,
        "ettari": round2(ha),
        "alloggi_stimati": alloggi,
        "escluse": escluse,
        "per_fonte": per_fonte,
    })
}

fn links(istat: Option<&str>) -> Value {
    let mut v = json!({
        "piano_annuale_html": "api/report/piano-annuale/stampa",
        "piano_annuale_csv": "api/report/piano-annuale?format=csv",
        "aree_candidate_html": "api/report/aree-candidate?format=html",
        "aree_candidate_csv": "api/report/aree-candidate?format=csv",
        "alloggi_csv": "api/export/alloggi_pubblici.csv",
        "alloggi_xlsx": "api/export/alloggi_pubblici.xlsx",
        "comuni_csv": "api/export/comuni.csv",
        "tutto_gpkg": "api/export/tutto.gpkg",
    });
    if let Some(i) = istat {
        v["stampa"] = json!(format!("stampa.html#comune={i}"));
    } else {
        v["stampa"] = json!("stampa.html");
    }
    v
}

/// The side-panel figures of one comune; `None` for an ISTAT code not in the Ambito.
pub fn sintesi_comune(s: &Analisi, istat: &str) -> Option<Value> {
    let stat = s.vacancy.per_comune.iter().find(|c| c.istat == istat)?;
    let reference = s.model.ambito.data_riferimento;
    let mut per_ente: BTreeMap<String, (String, Conteggi)> = BTreeMap::new();
    for u in s
        .model
        .alloggi_pubblici
        .iter()
        .filter(|u| u.comune_istat.as_deref() == Some(istat))
    {
        per_ente
            .entry(u.ente_proprietario.to_lowercase())
            .or_insert_with(|| (u.ente_proprietario.clone(), Conteggi::default()))
            .1
            .add(u, reference);
    }
    let mut per_ente: Vec<(String, Conteggi)> = per_ente.into_values().collect();
    per_ente.sort_by(|a, b| b.1.alloggi.cmp(&a.1.alloggi).then(a.0.cmp(&b.0)));
    let privato = s.privato.per_comune.iter().find(|p| p.istat == istat);
    let ente = ente_comune(&stat.nome);
    let a = &s.model.ambito;
    Some(json!({
        "livello": "comune",
        "istat": stat.istat,
        "belfiore": stat.belfiore,
        "nome": stat.nome,
        "sub_ambito": stat.sub_ambito,
        "popolazione": stat.popolazione,
        "area_km2": round2(stat.area_km2),
        "ambito": a.nome,
        "ambito_numero": a.numero,
        "anno": a.anno,
        "data_riferimento": a.data_riferimento.format("%Y-%m-%d").to_string(),
        "data_riferimento_it": data_it(a.data_riferimento),
        "dimostrativo": a.dimostrativo,
        "alloggi": {
            "alloggi": stat.conteggi.alloggi,
            "alloggi_sap": stat.conteggi.alloggi_sap,
            "occupati": stat.conteggi.occupati,
            "liberi": stat.conteggi.liberi,
            "sfitto_carenze_manutentive": stat.conteggi.sfitto_carenze_manutentive,
            "sfitto_ristrutturazione": stat.conteggi.sfitto_ristrutturazione,
            "inutilizzati": stat.conteggi.inutilizzati,
            "mesi_sfitto_medi": stat.conteggi.mesi_sfitto_medi,
            "sfitti_oltre_24_mesi": stat.conteggi.sfitti_oltre_24_mesi,
            "tasso_inutilizzo": stat.tasso_inutilizzo,
            "alloggi_per_1000_ab": stat.alloggi_per_1000_ab,
            "inutilizzati_per_1000_ab": stat.inutilizzati_per_1000_ab,
            "quota_inutilizzati_ambito": stat.quota_inutilizzati_ambito,
        },
        "per_ente": per_ente.iter().map(|(e, c)| conteggi_json(e, c)).collect::<Vec<_>>(),
        "piano_annuale": piano_ente(&s.report, &ente),
        "offerta": offerta_json(&offerta_comune(s, istat, &stat.nome), &offerta_ambito(s)),
        "candidate": candidate_json(s, Some(istat)),
        "privato": privato.map(|p| &p.figure),
        "link": links(Some(istat)),
    }))
}

/// The side-panel figures of the Ambito, with the offer of each comune.
pub fn sintesi_ambito(s: &Analisi) -> Value {
    let a = &s.model.ambito;
    let t = &s.vacancy.ambito;
    let tot = offerta_ambito(s);
    let comuni: Vec<Value> = s
        .vacancy
        .per_comune
        .iter()
        .map(|c| {
            let o = offerta_comune(s, &c.istat, &c.nome);
            json!({
                "istat": c.istat,
                "nome": c.nome,
                "popolazione": c.popolazione,
                "alloggi": c.conteggi.alloggi,
                "inutilizzati": c.conteggi.inutilizzati,
                "tasso_inutilizzo": c.tasso_inutilizzo,
                "alloggi_per_1000_ab": c.alloggi_per_1000_ab,
                "offerta": offerta_json(&o, &tot),
            })
        })
        .collect();
    json!({
        "livello": "ambito",
        "nome": a.nome,
        "numero": a.numero,
        "capofila": a.capofila,
        "anno": a.anno,
        "data_riferimento": a.data_riferimento.format("%Y-%m-%d").to_string(),
        "data_riferimento_it": data_it(a.data_riferimento),
        "dimostrativo": a.dimostrativo,
        "popolazione": t.popolazione,
        "comuni_n": s.model.comuni.len(),
        "alloggi": {
            "alloggi": t.conteggi.alloggi,
            "alloggi_sap": t.conteggi.alloggi_sap,
            "occupati": t.conteggi.occupati,
            "liberi": t.conteggi.liberi,
            "sfitto_carenze_manutentive": t.conteggi.sfitto_carenze_manutentive,
            "sfitto_ristrutturazione": t.conteggi.sfitto_ristrutturazione,
            "inutilizzati": t.conteggi.inutilizzati,
            "mesi_sfitto_medi": t.conteggi.mesi_sfitto_medi,
            "sfitti_oltre_24_mesi": t.conteggi.sfitti_oltre_24_mesi,
            "tasso_inutilizzo": t.tasso_inutilizzo,
            "alloggi_per_1000_ab": t.alloggi_per_1000_ab,
            "inutilizzati_per_1000_ab": t.inutilizzati_per_1000_ab,
            "quota_inutilizzati_ambito": 1.0,
        },
        "per_ente": s.vacancy.per_ente.iter().map(|e| conteggi_json(&e.ente, &e.conteggi)).collect::<Vec<_>>(),
        "piano_annuale": {
            "ente": "Totale",
            "anno": s.report.anno,
            "stato": s.report.totale,
            "consistenza": s.report.totale_consistenza,
            "sezioni": sezioni(&s.report, None),
        },
        "offerta": offerta_json(&tot, &tot),
        "candidate": candidate_json(s, None),
        "privato": s.privato.ambito,
        "comuni": comuni,
        "link": links(None),
    })
}

async fn ambito(State(s): State<AppState>) -> Json<Value> {
    Json(sintesi_ambito(&s))
}

async fn comuni(State(s): State<AppState>) -> Json<Value> {
    let list: Vec<Value> = s
        .vacancy
        .per_comune
        .iter()
        .filter_map(|c| sintesi_comune(&s, &c.istat))
        .collect();
    Json(json!({ "comuni": list }))
}

async fn comune(
    State(s): State<AppState>,
    Path(istat): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if istat.len() != 6 || !istat.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(format!(
            "codice ISTAT non valido: {istat:?} (atteso un codice di 6 cifre, es. 016077)"
        )));
    }
    sintesi_comune(&s, &istat).map(Json).ok_or_else(|| {
        ApiError::not_found(format!(
            "il comune {istat} non fa parte dell'Ambito {}",
            s.model.ambito.nome
        ))
    })
}

/// The small map of the printable report: every comune with its unused units.
pub fn mappa_comuni(s: &Analisi) -> MappaComuni {
    MappaComuni {
        comuni: s
            .model
            .comuni
            .iter()
            .map(|c| ComuneMappa {
                nome: c.nome.clone(),
                geometry: c.geometry.clone(),
                inutilizzati: s
                    .vacancy
                    .per_comune
                    .iter()
                    .find(|v| v.istat == c.istat)
                    .map_or(0, |v| v.conteggi.inutilizzati),
            })
            .collect(),
        data_riferimento: data_it(s.model.ambito.data_riferimento),
    }
}

async fn stampa(State(s): State<AppState>) -> Response {
    let body = html_stampa(&s.report, &s.privato, &mappa_comuni(&s));
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}
