//! What the map draws besides the Ambito's layers: the glyph ranges of its labels
//! (`/fonts/{fontstack}/{range}.pbf`, the style's `glyphs`) and the neighbouring comuni drawn
//! as context (`/api/contesto/confinanti.geojson`). Both are public and the same for every
//! caller.

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::routes::{Access, Routes};
use super::ApiError;
use crate::output::contesto::CONFINANTI;
use crate::output::glyphs::{self, GlyphError};

pub fn routes() -> Routes {
    Routes::new()
        .get("/fonts/{fontstack}/{range}", Access::Public, glyph_range)
        .get(
            "/api/contesto/confinanti.geojson",
            Access::Public,
            confinanti,
        )
}

async fn glyph_range(Path((fontstack, file)): Path<(String, String)>) -> Response {
    let Some(range) = file.strip_suffix(".pbf") else {
        return ApiError::not_found(GlyphError::BadRange(file).to_string()).into_response();
    };
    let range = range.to_string();
    // The first request of a range renders it (tens of milliseconds): off the async workers.
    let answer = tokio::task::spawn_blocking(move || glyphs::glyph_range(&fontstack, &range)).await;
    match answer {
        Ok(Ok(bytes)) => {
            let mut r = ([(header::CONTENT_TYPE, "application/x-protobuf")], bytes).into_response();
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            );
            r
        }
        Ok(Err(e @ (GlyphError::UnknownFont(_) | GlyphError::BadRange(_)))) => {
            ApiError::not_found(e.to_string()).into_response()
        }
        Ok(Err(e)) => ApiError::internal(e).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

async fn confinanti() -> Response {
    let mut r = ([(header::CONTENT_TYPE, "application/geo+json")], CONFINANTI).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}
