//! Content negotiation (`f` and `Accept`), response headers and links.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use serde_json::{json, Value};

use super::super::ApiError;
use super::params::Params;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Repr {
    Json,
    Html,
}

/// q-value of the most specific media range of `accept` matching one of `types`.
pub(super) fn accept_q(accept: &str, types: &[&str]) -> f32 {
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let specificity = if types.iter().any(|t| *t == media) {
            3
        } else if media.ends_with("/*")
            && types
                .iter()
                .any(|t| t.starts_with(&media[..media.len() - 1]))
        {
            2
        } else if media == "*/*" {
            1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map(|(_, q)| q).unwrap_or(0.0)
}

pub(super) const HTML_TYPES: [&str; 2] = ["text/html", "application/xhtml+xml"];
pub(super) const JSON_TYPES: [&str; 6] = [
    "application/json",
    "application/geo+json",
    "application/problem+json",
    "application/vnd.oai.openapi+json",
    "application/openapi+json",
    "application/schema+json",
];

/// `f` wins; then `Accept`; `None` when neither expresses a preference.
pub(super) fn preference(params: &Params, headers: &HeaderMap) -> Result<Option<Repr>, ApiError> {
    if let Some(f) = params.get("f") {
        return match f {
            "json" | "geojson" => Ok(Some(Repr::Json)),
            "html" => Ok(Some(Repr::Html)),
            other => Err(ApiError::bad_request(format!(
                "formato non valido: f={other:?} (json, html)"
            ))),
        };
    }
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let (h, j) = (accept_q(accept, &HTML_TYPES), accept_q(accept, &JSON_TYPES));
    Ok(if h > j {
        Some(Repr::Html)
    } else if j > h {
        Some(Repr::Json)
    } else {
        None
    })
}

pub(super) fn representation(params: &Params, headers: &HeaderMap) -> Result<Repr, ApiError> {
    Ok(preference(params, headers)?.unwrap_or(Repr::Json))
}

pub(super) fn respond(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    let mut r = Response::new(body.into());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    r
}

pub(super) fn json_response(content_type: &'static str, v: &Value) -> Response {
    respond(content_type, v.to_string())
}

pub(super) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

pub(super) fn link(
    base: &str,
    href: impl Into<String>,
    rel: &str,
    kind: &str,
    title: &str,
) -> Value {
    json!({"href": format!("{base}{}", href.into()), "rel": rel, "type": kind, "title": title})
}
