//! CSV export (UTF-8, comma, header row): the layer's columns, then the geometry as a `wkt`
//! column or as `lon`/`lat` (the point itself, or the centroid of a polygon).
//!
//! A text cell that a spreadsheet would take for a formula (it begins with `=`, `+`, `@`, a
//! tab, a carriage return, or a `-` that does not start a number) is written with a leading
//! `'`, as OWASP advises against CSV injection: names and addresses come from the owner
//! bodies' files. Numbers are untouched.

use serde_json::Value;

use super::{lonlat, wkt, CsvGeometry, ExportError, Table};

/// A cell as text: empty for null, JSON text for anything that is not a scalar.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => crate::output::report::neutralised(s).into_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

pub fn to_bytes(t: &Table, geometry: CsvGeometry) -> Result<Vec<u8>, ExportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
    match geometry {
        CsvGeometry::Wkt => header.push("wkt"),
        CsvGeometry::LonLat => header.extend(["lon", "lat"]),
    }
    w.write_record(&header)?;
    for r in &t.rows {
        let mut rec: Vec<String> = r.values.iter().map(cell).collect();
        match geometry {
            CsvGeometry::Wkt => rec.push(r.geometry.as_ref().map(wkt).unwrap_or_default()),
            CsvGeometry::LonLat => {
                let ll = r.geometry.as_ref().and_then(lonlat);
                rec.push(ll.map(|p| p.0.to_string()).unwrap_or_default());
                rec.push(ll.map(|p| p.1.to_string()).unwrap_or_default());
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
    }
}
