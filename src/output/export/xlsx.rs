//! XLSX export for the Ambito's officers: a sheet of information, the per-comune vacancy
//! table, then one sheet per layer with Italian headers and no geometry (longitude and
//! latitude columns for point layers). Dates are real dates, shares are percentages.

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use serde_json::Value;

use super::{lonlat, ExportError, Interrupt, Kind, Table};
use crate::analysis::Analisi;
use crate::output::layers::{self, Audience, Display, LayerId, Protection};
use crate::output::protect;

/// Name of the sheet with the per-comune vacancy table.
pub const SHEET_VACANCY: &str = "Sfitto per comune";
/// Name of the information sheet.
pub const SHEET_INFO: &str = "Informazioni";

/// Columns of the per-comune vacancy table: a selection of the `comuni` layer's columns,
/// labelled and formatted as the registry says.
const VACANCY_COLUMNS: [&str; 16] = [
    "nome",
    "istat",
    "sub_ambito",
    "popolazione",
    "alloggi",
    "alloggi_sap",
    "occupati",
    "liberi",
    "sfitto_carenze_manutentive",
    "sfitto_ristrutturazione",
    "inutilizzati",
    "tasso_inutilizzo",
    "alloggi_per_1000_ab",
    "inutilizzati_per_1000_ab",
    "mesi_sfitto_medi",
    "sfitti_oltre_24_mesi",
];

/// Whether a column of the `comuni` layer is a share (written as a percentage).
fn comuni_share(column: &str) -> bool {
    layers::info_of(LayerId::Comuni)
        .column(column)
        .is_some_and(|c| c.display == Display::Percent)
}

fn comuni_label(column: &str) -> &'static str {
    layers::info_of(LayerId::Comuni)
        .column(column)
        .map_or("", |c| c.label)
}

struct Formats {
    header: Format,
    percent: Format,
    decimal: Format,
    date: Format,
    bold: Format,
}

fn write_value(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    v: &Value,
    kind: Kind,
    share: bool,
    f: &Formats,
) -> Result<(), XlsxError> {
    match v {
        Value::Null => {}
        Value::Bool(b) => {
            ws.write_string(row, col, if *b { "sì" } else { "no" })?;
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if share {
                ws.write_number_with_format(row, col, x, &f.percent)?;
            } else if kind == Kind::Real {
                ws.write_number_with_format(row, col, x, &f.decimal)?;
            } else {
                ws.write_number(row, col, x)?;
            }
        }
        Value::String(s) => {
            let date = (kind == Kind::Date)
                .then(|| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .flatten()
                .and_then(|d| {
                    use chrono::Datelike;
                    ExcelDateTime::from_ymd(
                        u16::try_from(d.year()).ok()?,
                        d.month() as u8,
                        d.day() as u8,
                    )
                    .ok()
                });
            match date {
                Some(d) => {
                    ws.write_datetime_with_format(row, col, &d, &f.date)?;
                }
                None => {
                    ws.write_string(row, col, s)?;
                }
            }
        }
        other => {
            ws.write_string(row, col, other.to_string())?;
        }
    }
    Ok(())
}

fn finish_table(ws: &mut Worksheet, rows: u32, cols: u16) -> Result<(), XlsxError> {
    ws.set_freeze_panes(1, 0)?;
    if cols > 0 {
        ws.autofilter(0, 0, rows, cols - 1)?;
    }
    ws.autofit();
    Ok(())
}

fn info_sheet(
    wb: &mut Workbook,
    a: &Analisi,
    tables: &[Table],
    f: &Formats,
) -> Result<(), XlsxError> {
    let ambito = &a.model.ambito;
    let ws = wb.add_worksheet();
    ws.set_name(SHEET_INFO)?;
    let numero = ambito.numero.map(|n| format!("{n} – ")).unwrap_or_default();
    let mut lines: Vec<(String, String)> = vec![
        (
            "Ambito territoriale".into(),
            format!("{numero}{}", ambito.nome),
        ),
        ("Anno del Piano".into(), ambito.anno.to_string()),
        (
            "Data di riferimento".into(),
            ambito.data_riferimento.format("%d/%m/%Y").to_string(),
        ),
        (
            "Esportato il".into(),
            chrono::Local::now().format("%d/%m/%Y %H:%M").to_string(),
        ),
        (
            "Coordinate".into(),
            "gradi decimali WGS 84 (EPSG:4326): longitudine, latitudine".into(),
        ),
    ];
    if ambito.dimostrativo {
        lines.push((
            "Attenzione".into(),
            "DATI DIMOSTRATIVI: non descrivono il patrimonio reale".into(),
        ));
    }
    lines.push(("Fogli".into(), SHEET_VACANCY.into()));
    for t in tables {
        lines.push((
            String::new(),
            format!("{} ({} righe)", t.info.short_title, t.rows.len()),
        ));
    }
    for (i, (k, v)) in lines.iter().enumerate() {
        ws.write_string_with_format(i as u32, 0, k, &f.bold)?;
        ws.write_string(i as u32, 1, v)?;
    }
    ws.autofit();
    Ok(())
}

/// The per-comune vacancy table, with the small counts withheld as in the `comuni` layer
/// when `caller` is the public (empty cells).
fn vacancy_sheet(
    wb: &mut Workbook,
    a: &Analisi,
    caller: Audience,
    f: &Formats,
) -> Result<(), ExportError> {
    let ws = wb.add_worksheet();
    ws.set_name(SHEET_VACANCY)?;
    for (c, name) in VACANCY_COLUMNS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, comuni_label(name), &f.header)?;
    }
    let mut rows: Vec<Value> = a
        .vacancy
        .per_comune
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()?;
    let mut total = serde_json::to_value(&a.vacancy.ambito)?;
    if let Some(o) = total.as_object_mut() {
        o.insert("nome".into(), Value::from("Totale Ambito"));
    }
    rows.push(total);
    if !protect::sees_all(caller) {
        let info = layers::info_of(LayerId::Comuni);
        let protection = |k: &str| info.column(k).map_or(Protection::Open, |c| c.protection);
        for row in &mut rows {
            if let Value::Object(cells) = row {
                protect::withhold(cells, &protection, info.sums, &Value::Null);
            }
        }
    }
    let last = rows.len();
    for (r, row) in rows.iter().enumerate() {
        let r32 = (r + 1) as u32;
        for (c, name) in VACANCY_COLUMNS.iter().enumerate() {
            let v = row.get(*name).unwrap_or(&Value::Null);
            let kind = if v.is_f64() {
                Kind::Real
            } else {
                Kind::Integer
            };
            if r + 1 == last && *name == "nome" {
                ws.write_string_with_format(r32, c as u16, "Totale Ambito", &f.bold)?;
                continue;
            }
            write_value(ws, r32, c as u16, v, kind, comuni_share(name), f)?;
        }
    }
    finish_table(ws, (last - 1) as u32, VACANCY_COLUMNS.len() as u16)?;
    Ok(())
}

fn layer_sheet(wb: &mut Workbook, t: &Table, f: &Formats) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    let name: String = t.info.short_title.chars().take(31).collect();
    ws.set_name(name)?;
    let points = t.is_point_layer();
    let mut headers: Vec<&str> = t.columns.iter().map(|c| c.label).collect();
    if points {
        headers.push("Longitudine");
        headers.push("Latitudine");
    }
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &f.header)?;
    }
    let n = t.columns.len();
    for (r, row) in t.rows.iter().enumerate() {
        let r32 = (r + 1) as u32;
        for (c, (col, v)) in t.columns.iter().zip(&row.values).enumerate() {
            write_value(
                ws,
                r32,
                c as u16,
                v,
                col.kind,
                col.display == Display::Percent,
                f,
            )?;
        }
        if points {
            if let Some((lon, lat)) = row.geometry.as_ref().and_then(lonlat) {
                ws.write_number(r32, n as u16, lon)?;
                ws.write_number(r32, n as u16 + 1, lat)?;
            }
        }
    }
    finish_table(ws, t.rows.len() as u32, headers.len() as u16)
}

pub fn to_bytes(a: &Analisi, tables: &[Table]) -> Result<Vec<u8>, ExportError> {
    to_bytes_until(a, tables, &|| false)
}

/// [`to_bytes`], asking `stop` before each sheet and before the workbook is compressed.
pub fn to_bytes_until(
    a: &Analisi,
    tables: &[Table],
    stop: Interrupt<'_>,
) -> Result<Vec<u8>, ExportError> {
    let f = Formats {
        header: Format::new()
            .set_bold()
            .set_background_color("#D9E2F3")
            .set_border_bottom(rust_xlsxwriter::FormatBorder::Thin),
        percent: Format::new().set_num_format("0.0%"),
        decimal: Format::new().set_num_format("#,##0.0##"),
        date: Format::new().set_num_format("dd/mm/yyyy"),
        bold: Format::new().set_bold(),
    };
    let mut wb = Workbook::new();
    info_sheet(&mut wb, a, tables, &f)?;
    // The tables of one export share their audience; with none, the narrowest view.
    let caller = tables
        .iter()
        .map(|t| t.caller)
        .min()
        .unwrap_or(Audience::Pubblico);
    vacancy_sheet(&mut wb, a, caller, &f)?;
    for t in tables {
        if stop() {
            return Err(ExportError::Interrupted);
        }
        layer_sheet(&mut wb, t, &f)?;
    }
    if stop() {
        return Err(ExportError::Interrupted);
    }
    Ok(wb.save_to_buffer()?)
}
