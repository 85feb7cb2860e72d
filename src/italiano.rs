//! Italian formats of numbers and dates (`1.234,5`, `27 ottobre 2025`). A leaf module like
//! [`crate::crs`]: it depends on nothing in the crate, so the analyses (whose reasons are
//! Italian sentences with measured values) and the renderers format numbers the same way.

use chrono::{Datelike, NaiveDate};

/// Italian number: `1.234,5` with `decimals` decimals.
pub fn numero_it(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (s.clone(), None),
    };
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    let sign = if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    match frac {
        Some(f) => format!("{sign}{grouped},{f}"),
        None => format!("{sign}{grouped}"),
    }
}

const MESI: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];

/// `2025-10-27` → `27 ottobre 2025`.
pub fn data_it(d: NaiveDate) -> String {
    let mese = MESI.get(d.month0() as usize).copied().unwrap_or("gennaio");
    format!("{} {} {}", d.day(), mese, d.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn italian_numbers() {
        assert_eq!(numero_it(1234.5, 1), "1.234,5");
        assert_eq!(numero_it(420.0, 0), "420");
        assert_eq!(numero_it(1_000_000.0, 0), "1.000.000");
        assert_eq!(numero_it(0.25, 2), "0,25");
        assert_eq!(numero_it(-0.001, 2), "0,00");
    }

    #[test]
    fn italian_dates() {
        let d = NaiveDate::from_ymd_opt(2025, 10, 27).expect("date");
        assert_eq!(data_it(d), "27 ottobre 2025");
    }
}
