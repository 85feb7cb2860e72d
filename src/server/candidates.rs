//! The report of candidate social-housing standard areas:
//! `/api/report/aree-candidate?format=html|csv` (HTML when no format is given).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::routes::{Access, Routes};
use super::{report_query, ApiError, AppState, Caller, ReportQuery};
use crate::output::candidates_report::{self, FormatoCandidate};
use crate::output::protect::screening_for;

pub fn routes() -> Routes {
    Routes::new().get("/api/report/aree-candidate", Access::Public, report)
}

async fn report(
    State(s): State<AppState>,
    Caller(c): Caller,
    q: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = report_query(q)?;
    let l = q.lingua()?;
    let f = match q.format.as_deref() {
        None => FormatoCandidate::Html,
        Some(x) => FormatoCandidate::parse(x).ok_or_else(|| {
            ApiError::bad_request(format!("formato non valido: {x:?} (html, csv)"))
        })?,
    };
    let screening = screening_for(&s, c);
    let body = candidates_report::render_in(&s.model.ambito, &s.model.comuni, &screening, f, l);
    Ok(([(header::CONTENT_TYPE, f.content_type())], body).into_response())
}
