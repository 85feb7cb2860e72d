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
//! The figures come from [`crate::analysis::sintesi`]; the handlers read the parameters, add
//! the links to the other endpoints and serialise.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::routes::{Access, Routes};
use super::{ApiError, AppState, Caller};
use crate::analysis::sintesi;
use crate::output::layers::Audience;
use crate::output::protect::protect_panel;
use crate::output::report::{html_stampa_in, MappaComuni};

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/sintesi/ambito", Access::Public, ambito)
        .get("/api/sintesi/comuni", Access::Public, comuni)
        .get("/api/sintesi/comuni/{istat}", Access::Public, comune)
        .get("/api/report/piano-annuale/stampa", Access::Public, stampa)
}

/// The links of a panel to the reports and exports (and to the printable page).
fn links(istat: Option<&str>) -> Value {
    let mut v = json!({
        "piano_annuale_html": "api/report/piano-annuale/stampa",
        "piano_annuale_csv": "api/report/piano-annuale?format=csv",
        "aree_candidate_html": "api/report/aree-candidate?format=html",
        "aree_candidate_csv": "api/report/aree-candidate?format=csv",
        "alloggi_csv": "api/export/alloggi_pubblici.csv",
        "alloggi_xlsx": "api/export/alloggi_pubblici.xlsx",
        "comuni_csv": "api/export/comuni.csv",
        "comuni_xlsx": "api/export/comuni.xlsx",
        "tutto_gpkg": "api/export/tutto.gpkg",
        "pacchetto_pgt_gpkg": "api/export/pacchetto_pgt.gpkg",
    });
    if let Some(i) = istat {
        v["stampa"] = json!(format!("stampa.html#comune={i}"));
        v["pacchetto_pgt_gpkg"] = json!(format!("api/export/pacchetto_pgt.gpkg?comune={i}"));
    } else {
        v["stampa"] = json!("stampa.html");
    }
    v
}

/// A panel as JSON with its links. Through [`Value`], so keys are sorted as in every JSON
/// answer of the API.
fn panel(
    figures: &impl Serialize,
    istat: Option<&str>,
    caller: Audience,
) -> Result<Value, ApiError> {
    let mut v = serde_json::to_value(figures).map_err(ApiError::internal)?;
    protect_panel(&mut v, caller);
    if let Value::Object(m) = &mut v {
        let mut l = links(istat);
        if let Value::Object(lm) = &mut l {
            // Only links the caller may follow.
            lm.retain(|_, url| {
                let file = url.as_str().and_then(|u| u.strip_prefix("api/export/"));
                let layer = file.and_then(|f| f.split('.').next());
                layer.is_none_or(|n| {
                    // The whole Ambito and the package hold what the caller may see.
                    n == "tutto"
                        || n == "pacchetto_pgt"
                        || crate::output::layers::info(n).is_some_and(|i| i.visible_to(caller))
                })
            });
        }
        m.insert("link".into(), l);
    }
    Ok(v)
}

async fn ambito(
    State(s): State<AppState>,
    Caller(caller): Caller,
) -> Result<Json<Value>, ApiError> {
    panel(&sintesi::ambito(&s), None, caller).map(Json)
}

async fn comuni(
    State(s): State<AppState>,
    Caller(caller): Caller,
) -> Result<Json<Value>, ApiError> {
    let list = sintesi::comuni(&s)
        .iter()
        .map(|c| panel(c, Some(&c.istat), caller))
        .collect::<Result<Vec<Value>, ApiError>>()?;
    Ok(Json(json!({ "comuni": list })))
}

async fn comune(
    State(s): State<AppState>,
    Caller(caller): Caller,
    Path(istat): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if istat.len() != 6 || !istat.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(format!(
            "codice ISTAT non valido: {istat:?} (atteso un codice di 6 cifre, es. 016077)"
        )));
    }
    let figures = sintesi::comune(&s, &istat).ok_or_else(|| {
        ApiError::not_found(format!(
            "il comune {istat} non fa parte dell'Ambito {}",
            s.model.ambito.nome
        ))
    })?;
    panel(&figures, Some(&istat), caller).map(Json)
}

/// The one parameter of the printable report: `lang=it|en`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StampaQuery {
    lang: Option<String>,
}

async fn stampa(
    State(s): State<AppState>,
    q: Result<axum::extract::Query<StampaQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let axum::extract::Query(q) = q.map_err(|_| {
        ApiError::bad_request("parametri non validi: la stampa accetta solo lang (it, en)")
    })?;
    let l = super::lingua(q.lang.as_deref())?;
    let body = html_stampa_in(&s.report, &s.privato, &MappaComuni::of(&s), l);
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response())
}
