//! `/collections/{id}/queryables` (OGC API - Features Part 3): the properties a filter may
//! name, as a JSON Schema — one per registry column of the layer, with its type and Italian
//! label, and the geometry.

use std::fmt::Write as _;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::super::base::BaseUrl;
use super::super::{ApiError, AppState, Caller};
use super::cql2::GEOMETRY;
use super::html::{esc, page_end, page_start};
use super::params::{percent_encode, Params};
use super::response::{json_response, representation, respond, Repr};
use super::{served, MT_HTML, MT_SCHEMA};
use crate::output::layers::{GeometryKind, Kind, Layer};

/// The JSON Schema of one column's values.
fn column_schema(kind: Kind, label: &str) -> Value {
    match kind {
        Kind::Text => json!({"type": "string", "title": label}),
        Kind::Integer => json!({"type": "integer", "title": label}),
        Kind::Real => json!({"type": "number", "title": label}),
        Kind::Boolean => json!({"type": "boolean", "title": label}),
        Kind::Date => json!({"type": "string", "format": "date", "title": label}),
    }
}

fn geometry_format(g: GeometryKind) -> &'static str {
    match g {
        GeometryKind::Point => "geometry-point",
        GeometryKind::MultiPolygon => "geometry-multipolygon",
    }
}

/// The queryables of `layer` as a JSON Schema (draft 2020-12).
pub(super) fn schema(base: &str, layer: Layer) -> Value {
    let info = layer.info();
    let mut props = Map::new();
    props.insert(
        GEOMETRY.into(),
        json!({
            "title": "Geometria",
            "format": geometry_format(info.geometry),
            "x-ogc-role": "primary-geometry",
        }),
    );
    for c in info.columns {
        let mut s = column_schema(c.kind, c.label);
        if info.id_property == Some(c.name) {
            s["x-ogc-role"] = json!("id");
        }
        props.insert(c.name.into(), s);
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{base}/collections/{}/queryables", percent_encode(info.name)),
        "type": "object",
        "title": info.title,
        "description": format!(
            "Proprietà interrogabili di {} con il parametro filter (CQL2 testo) o per uguaglianza (nome=valore).",
            info.name
        ),
        "properties": props,
        "additionalProperties": false,
    })
}

fn kind_it(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "testo",
        Kind::Integer => "intero",
        Kind::Real => "numero",
        Kind::Boolean => "booleano",
        Kind::Date => "data (AAAA-MM-GG)",
    }
}

pub(super) async fn queryables(
    State(s): State<AppState>,
    Caller(caller): Caller,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    BaseUrl(base_url): BaseUrl,
) -> Result<Response, ApiError> {
    let Path(id) = path.map_err(|e| ApiError::bad_request(format!("percorso non valido: {e}")))?;
    let (layer, _) = served(&s, &id, caller)?;
    let params = Params::parse(q.as_deref())?;
    params.only(&["f"])?;
    let enc = percent_encode(&id);
    Ok(match representation(&params, &headers)? {
        Repr::Json => json_response(MT_SCHEMA, &schema(&base_url, layer)),
        Repr::Html => {
            let info = layer.info();
            let mut b = page_start(&format!("{}: proprietà interrogabili", info.title));
            let _ = write!(
                b,
                "<p>Filtri sugli elementi: <code>filter</code> in CQL2 testo (es. \
                 <code>/collections/{enc}/items?filter=…</code>), o uguaglianza \
                 <code>nome=valore</code>.</p><table><tr><th>Proprietà</th><th>Tipo</th><th>Descrizione</th></tr>\
                 <tr><td><code>{GEOMETRY}</code></td><td>geometria ({})</td><td>Geometria \
                 (con <code>S_INTERSECTS</code>)</td></tr>",
                esc(geometry_format(info.geometry))
            );
            for c in info.columns {
                let _ = write!(
                    b,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    esc(c.name),
                    kind_it(c.kind),
                    esc(c.label)
                );
            }
            b.push_str("</table>");
            respond(
                MT_HTML,
                page_end(b, &format!("/collections/{enc}/queryables?f=json")),
            )
        }
    })
}
