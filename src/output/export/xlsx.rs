//! XLSX export for the Ambito's officers: a sheet of information, the per-comune vacancy
//! table, then one sheet per layer with Italian headers and no geometry (longitude and
//! latitude columns for point layers, or easting and northing in a projected CRS). Dates are
//! real dates, shares are percentages, the year of the plan a number. A layer with no rows
//! keeps its sheet, with the headers and a note saying it is empty, so the workbook of every
//! Ambito (and every comune) has the same sheets.

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
    datetime: Format,
    bold: Format,
    note: Format,
    metres: Format,
}

/// Text of the note row of a layer with no rows.
pub const NOTE_EMPTY: &str = "Nessun elemento in questo layer per i dati esportati.";

/// The CRS of the coordinates, in words, for the information sheet.
fn crs_words(epsg: u16) -> String {
    let name = crate::crs::SUPPORTED
        .iter()
        .find(|(c, _)| *c == epsg)
        .map_or("", |(_, n)| n);
    if crate::crs::is_geographic(epsg) {
        format!("{name} (EPSG:{epsg}), gradi decimali: longitudine, latitudine")
    } else {
        format!("{name} (EPSG:{epsg}), metri: est, nord")
    }
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

/// A value of the information sheet: text, a number, a date or a date and time.
enum Info {
    Text(String),
    Number(f64),
    Date(ExcelDateTime),
    DateTime(ExcelDateTime),
}

fn excel_date(d: chrono::NaiveDate) -> Option<ExcelDateTime> {
    use chrono::Datelike;
    ExcelDateTime::from_ymd(
        u16::try_from(d.year()).ok()?,
        u8::try_from(d.month()).ok()?,
        u8::try_from(d.day()).ok()?,
    )
    .ok()
}

fn excel_datetime(t: chrono::NaiveDateTime) -> Option<ExcelDateTime> {
    use chrono::Timelike;
    excel_date(t.date())?
        .and_hms(
            u16::try_from(t.hour()).ok()?,
            u8::try_from(t.minute()).ok()?,
            t.second(),
        )
        .ok()
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
    let text = |s: &str| Info::Text(s.to_string());
    let date = |d: chrono::NaiveDate| {
        excel_date(d).map_or_else(|| Info::Text(d.format("%d/%m/%Y").to_string()), Info::Date)
    };
    let now = chrono::Local::now().naive_local();
    let exported = excel_datetime(now).map_or_else(
        || Info::Text(now.format("%d/%m/%Y %H:%M").to_string()),
        Info::DateTime,
    );
    let epsg = tables.first().map_or(4326, |t| t.epsg);
    let mut lines: Vec<(&str, Info)> = vec![
        (
            "Ambito territoriale",
            Info::Text(format!("{numero}{}", ambito.nome)),
        ),
        ("Anno del Piano", Info::Number(f64::from(ambito.anno))),
        ("Data di riferimento", date(ambito.data_riferimento)),
        ("Esportato il", exported),
        ("Coordinate", Info::Text(crs_words(epsg))),
    ];
    let comune = tables
        .iter()
        .find_map(|t| t.comune.as_deref())
        .and_then(|istat| a.model.comuni.iter().find(|c| c.istat == istat));
    if let Some(c) = comune {
        lines.push((
            "Comune",
            Info::Text(format!(
                "{} (ISTAT {}): solo le righe di questo comune",
                c.nome, c.istat
            )),
        ));
    }
    if ambito.dimostrativo {
        lines.push((
            "Attenzione",
            text("DATI DIMOSTRATIVI: non descrivono il patrimonio reale"),
        ));
    }
    lines.push(("Fogli", text(SHEET_VACANCY)));
    for t in tables {
        let rows = match t.rows.len() {
            0 => "nessuna riga".to_string(),
            1 => "1 riga".to_string(),
            n => format!("{n} righe"),
        };
        lines.push(("", Info::Text(format!("{} ({rows})", t.info.short_title))));
    }
    for (i, (k, v)) in lines.iter().enumerate() {
        let r = u32::try_from(i).unwrap_or(u32::MAX);
        ws.write_string_with_format(r, 0, *k, &f.bold)?;
        match v {
            Info::Text(s) => ws.write_string(r, 1, s)?,
            Info::Number(x) => ws.write_number(r, 1, *x)?,
            Info::Date(d) => ws.write_datetime_with_format(r, 1, d, &f.date)?,
            Info::DateTime(d) => ws.write_datetime_with_format(r, 1, d, &f.datetime)?,
        };
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
    comune: Option<&str>,
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
        .filter(|c| comune.is_none_or(|istat| c.istat == istat))
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
    let mut headers: Vec<String> = t.columns.iter().map(|c| c.label.to_string()).collect();
    if points && t.is_geographic() {
        headers.push("Longitudine".into());
        headers.push("Latitudine".into());
    } else if points {
        headers.push(format!("Est (m, EPSG:{})", t.epsg));
        headers.push(format!("Nord (m, EPSG:{})", t.epsg));
    }
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &f.header)?;
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
            if let Some((x, y)) = row.geometry.as_ref().and_then(lonlat) {
                if t.is_geographic() {
                    ws.write_number(r32, n as u16, x)?;
                    ws.write_number(r32, n as u16 + 1, y)?;
                } else {
                    ws.write_number_with_format(r32, n as u16, x, &f.metres)?;
                    ws.write_number_with_format(r32, n as u16 + 1, y, &f.metres)?;
                }
            }
        }
    }
    if t.rows.is_empty() {
        ws.write_string_with_format(1, 0, NOTE_EMPTY, &f.note)?;
        ws.set_freeze_panes(1, 0)?;
        ws.autofit();
        return Ok(());
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
        datetime: Format::new().set_num_format("dd/mm/yyyy hh:mm"),
        bold: Format::new().set_bold(),
        note: Format::new().set_italic().set_font_color("#595959"),
        metres: Format::new().set_num_format("0.000"),
    };
    let mut wb = Workbook::new();
    info_sheet(&mut wb, a, tables, &f)?;
    // The tables of one export share their audience; with none, the narrowest view.
    let caller = tables
        .iter()
        .map(|t| t.caller)
        .min()
        .unwrap_or(Audience::Pubblico);
    let comune = tables.iter().find_map(|t| t.comune.as_deref());
    vacancy_sheet(&mut wb, a, caller, comune, &f)?;
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
