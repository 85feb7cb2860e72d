//! The Italian HTML pages of the OGC API (landing page, collections, items).

use std::fmt::Write as _;

use serde_json::Value;

use crate::analysis::Analisi;

pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(true)) => "sì".into(),
        Some(Value::Bool(false)) => "no".into(),
        Some(other) => other.to_string(),
    }
}

pub(super) fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"it\"><head><meta charset=\"utf-8\"><title>{t} · abitare</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left}}\
         td.n{{text-align:right}}nav a{{margin-right:1em}}</style></head><body>\
         <nav><a href=\"/?f=html\">Inizio</a><a href=\"/collections?f=html\">Collezioni</a>\
         <a href=\"/api?f=html\">API</a><a href=\"/\">Mappa</a></nav><h1>{t}</h1>",
        t = esc(title)
    )
}

pub(super) fn page_end(mut body: String, json_href: &str) -> String {
    let _ = write!(
        body,
        "<footer><p><a href=\"{}\">Questa pagina in JSON</a></p></footer></body></html>",
        esc(json_href)
    );
    body
}

pub(super) fn landing_html(state: &Analisi) -> String {
    let a = &state.model.ambito;
    let mut b = page_start(&format!("abitare: {}", a.nome));
    if a.dimostrativo {
        b.push_str("<p><strong>Dati dimostrativi.</strong></p>");
    }
    b.push_str(
        "<p>Patrimonio abitativo pubblico dell'Ambito territoriale, secondo OGC API - Features.</p>\
         <ul><li><a href=\"/collections?f=html\">Collezioni</a></li>\
         <li><a href=\"/conformance?f=html\">Classi di conformità</a></li>\
         <li><a href=\"/api?f=html\">Descrizione dell'API</a> (<a href=\"/api\">OpenAPI 3.0</a>)</li>\
         <li><a href=\"/\">Mappa web</a></li></ul>",
    );
    page_end(b, "/?f=json")
}
