//! CSV export (UTF-8, comma, header row): the layer's columns, then the geometry as a `wkt`
//! column (in the table's CRS) or as `lon`/`lat` (the point itself, or the centroid of a
//! polygon; only in a geographic CRS, [`super::Options::check`]).
//!
//! [`CsvDialect::Excel`] is the file Italian Excel opens as a table with a double click: a
//! UTF-8 BOM, `;` between fields and `,` as the decimal separator of every number (the number
//! columns and `lon`/`lat`); the WKT keeps `.`, as its syntax requires.
//!
//! A text cell that a spreadsheet would take for a formula (it begins with `=`, `+`, `@`, a
//! tab, a carriage return, or a `-` that does not start a number) is written with a leading
//! `'`, as OWASP advises against CSV injection: names and addresses come from the owner
//! bodies' files. Numbers are untouched.

use serde_json::Value;

use super::{lonlat, wkt, CsvDialect, CsvGeometry, ExportError, Table};

/// The UTF-8 byte order mark that tells Excel the file is UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A cell as text: empty for null, JSON text for anything that is not a scalar.
pub fn cell(v: &Value) -> String {
    cell_as(v, CsvDialect::Standard)
}

/// A number as the dialect writes it: `,` as the decimal separator for Excel.
fn number(x: String, dialect: CsvDialect) -> String {
    match dialect {
        CsvDialect::Standard => x,
        CsvDialect::Excel => x.replace('.', ","),
    }
}

/// [`cell`] in a dialect: numbers with the dialect's decimal separator.
pub fn cell_as(v: &Value, dialect: CsvDialect) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => crate::output::report::neutralised(s).into_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n.to_string(), dialect),
        other => other.to_string(),
    }
}

pub fn to_bytes(t: &Table, geometry: CsvGeometry) -> Result<Vec<u8>, ExportError> {
    to_bytes_as(t, geometry, CsvDialect::Standard)
}

/// The CSV of a table in a dialect.
pub fn to_bytes_as(
    t: &Table,
    geometry: CsvGeometry,
    dialect: CsvDialect,
) -> Result<Vec<u8>, ExportError> {
    let (start, delimiter) = match dialect {
        CsvDialect::Standard => (Vec::new(), b','),
        CsvDialect::Excel => (BOM.to_vec(), b';'),
    };
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(start);
    let mut header: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
    match geometry {
        CsvGeometry::Wkt => header.push("wkt"),
        CsvGeometry::LonLat => header.extend(["lon", "lat"]),
    }
    w.write_record(&header)?;
    for r in &t.rows {
        let mut rec: Vec<String> = r.values.iter().map(|v| cell_as(v, dialect)).collect();
        match geometry {
            CsvGeometry::Wkt => rec.push(r.geometry.as_ref().map(wkt).unwrap_or_default()),
            CsvGeometry::LonLat => {
                let ll = r.geometry.as_ref().and_then(lonlat);
                rec.push(
                    ll.map(|p| number(p.0.to_string(), dialect))
                        .unwrap_or_default(),
                );
                rec.push(
                    ll.map(|p| number(p.1.to_string(), dialect))
                        .unwrap_or_default(),
                );
            }
        }
        w.write_record(&rec)?;
    }
    w.into_inner()
        .map_err(|e| ExportError::Csv(csv::Error::from(e.into_error())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_are_not() {
        assert_eq!(
            cell(&Value::from("=HYPERLINK(\"x\")")),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(cell(&Value::from("@SUM(A1)")), "'@SUM(A1)");
        assert_eq!(cell(&Value::from("+39 035")), "'+39 035");
        assert_eq!(cell(&Value::from("-1")), "-1");
        assert_eq!(cell(&Value::from("-2+3")), "'-2+3");
        assert_eq!(cell(&Value::from("Via Roma 1")), "Via Roma 1");
        assert_eq!(cell(&Value::from(-1.5)), "-1.5");
        assert_eq!(cell_as(&Value::from(-1.5), CsvDialect::Excel), "-1,5");
        assert_eq!(cell_as(&Value::from(1200), CsvDialect::Excel), "1200");
        assert_eq!(cell_as(&Value::from("1.5"), CsvDialect::Excel), "1.5");
        assert_eq!(
            cell_as(&Value::from("=1+2"), CsvDialect::Excel),
            "'=1+2",
            "neutralised in both dialects"
        );
    }
}
