//! Downloads of the public layers: `/api/export/{layer}.{geojson|gpkg|parquet|csv|xlsx}`, and
//! `/api/export/tutto.{gpkg|xlsx}` with every public layer in one file,
//! `/api/export/pacchetto_pgt.{gpkg|xlsx}` the drafters' package. Every format takes
//! `?crs=` (one of [`crate::crs::OUTPUT`]: `32632`, `EPSG:6707`, an OGC URN or URI; default
//! 4326) and `?comune=ISTAT` (only that comune's rows; the file name gets the code); CSV also
//! `?geometry=wkt|lonlat` (lonlat only in degrees) and `?csv=excel` (BOM, `;`, decimal `,`).
//! Any other parameter is refused. Files are encoded off the async runtime, within the bound
//! of heavy work, once per (audience, layers, format, options, comune): see [`super::heavy`].

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use super::auth::{Auth, Resolved};
use super::heavy::Heavy;
use super::routes::{Access, Routes};
use super::{layer_for, ApiError, AppState, Caller};
use crate::auth::event;
use crate::output::export::{self, CsvDialect, CsvGeometry, Format, Options};
use crate::output::layers::LayerId;

/// The export routes, merged into the application router.
pub fn routes() -> Routes {
    Routes::new().get("/api/export/{file}", Access::Layer, download)
}

/// The query parameters of the export routes; any other is refused (`400`), not ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    geometry: Option<String>,
    crs: Option<String>,
    comune: Option<String>,
    csv: Option<String>,
}

/// The parameters the export routes accept, for the `400` of any other.
fn accepted() -> String {
    format!(
        "le esportazioni accettano solo crs (EPSG: {}), comune (codice ISTAT di un comune \
         dell'Ambito), e per il CSV geometry=wkt|lonlat e csv=excel|standard",
        export::output_crs_list()
    )
}

fn extensions() -> String {
    Format::ALL
        .iter()
        .map(|f| f.extension())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn download(
    State(s): State<AppState>,
    Caller(c): Caller,
    who: Resolved,
    Extension(auth): Extension<Auth>,
    Extension(heavy): Extension<Arc<Heavy>>,
    Path(file): Path<String>,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Some((layer, ext)) = file.rsplit_once('.') else {
        return Err(ApiError::bad_request(format!(
            "nome di file non valido: {file:?} (atteso layer.formato, formati: {})",
            extensions()
        )));
    };
    let Some(format) = Format::ALL.into_iter().find(|f| f.extension() == ext) else {
        return Err(ApiError::bad_request(format!(
            "formato di esportazione sconosciuto: {ext:?} (formati: {})",
            extensions()
        )));
    };
    let layers: Vec<String> = if layer == "tutto" || layer == "pacchetto_pgt" {
        if !format.multi_layer() {
            return Err(ApiError::bad_request(format!(
                "più layer (tutto, pacchetto_pgt) in un file solo in gpkg o xlsx, non in {ext}"
            )));
        }
        vec![layer.to_string()]
    } else {
        layer_for(c, layer)?;
        vec![layer.to_string()]
    };
    // Checked after the layer, so a reserved layer is 403 whatever the parameters.
    let Query(q) = query
        .map_err(|_| ApiError::bad_request(format!("parametri non validi: {}", accepted())))?;
    let bad = |param: &str, e: export::ExportError| {
        ApiError::bad_request(format!("parametro {param}: {e}"))
    };
    let csv_geometry = match q.geometry.as_deref() {
        None => CsvGeometry::default(),
        Some(g) => CsvGeometry::parse(g).map_err(|e| bad("geometry", e))?,
    };
    let csv_dialect = match q.csv.as_deref() {
        None => CsvDialect::default(),
        Some(d) => CsvDialect::parse(d).map_err(|e| bad("csv", e))?,
    };
    let crs = match q.crs.as_deref() {
        None => 4326,
        Some(v) => export::parse_crs(v).map_err(|e| bad("crs", e))?,
    };
    let options = Options {
        csv_geometry,
        csv_dialect,
        crs,
    };
    options
        .check(format)
        .map_err(|e| bad("geometry e crs", e))?;
    let comune = match q.comune.as_deref() {
        None => None,
        Some(istat) => Some(
            export::comune(&s, istat)
                .map_err(|e| bad("comune", e))?
                .istat
                .clone(),
        ),
    };
    let body = match heavy
        .export(&s, &layers, format, options, c, comune.as_deref())
        .await
    {
        Ok(b) => b,
        Err(e) => return Ok(e.into_response()),
    };
    auth.audit(&who, event::ESPORTAZIONE, &file);
    let private = crate::output::layers::info_of(LayerId::AlloggiPrivati);
    if private.visible_to(c) && (layer == "tutto" || layer == private.name) {
        auth.audit(
            &who,
            event::LETTURA_RISERVATA,
            &format!("{} ({file})", private.name),
        );
    }
    let stem = match &comune {
        Some(istat) => format!("{layer}_{istat}"),
        None => layer.to_string(),
    };
    let disposition = format!("attachment; filename=\"{stem}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
