//! The query string: decoding, the reserved parameters, and the items query (`limit`,
//! `offset`, `bbox`, `datetime`, property filters).

use std::collections::BTreeMap;

use geo::Rect;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::super::ApiError;
use super::{CRS84, OGC_DEFAULT_LIMIT, OGC_MAX_LIMIT, RESERVED};

/// Characters left as they are in encoded values: RFC 3986 unreserved.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Decodes `application/x-www-form-urlencoded` (`+` is a space); `None` on bad UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// Encodes everything but RFC 3986 unreserved characters (for path segments and values).
pub(super) fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, VALUE).to_string()
}

/// Query parameters, each name at most once.
#[derive(Debug, Default)]
pub(super) struct Params(BTreeMap<String, String>);

impl Params {
    pub(super) fn parse(raw: Option<&str>) -> Result<Params, ApiError> {
        let mut map = BTreeMap::new();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let bad = || ApiError::bad_request("query string non valida (codifica UTF-8 errata)");
            let k = percent_decode(k).ok_or_else(bad)?;
            let v = percent_decode(v).ok_or_else(bad)?;
            if map.insert(k.clone(), v).is_some() {
                return Err(ApiError::bad_request(format!(
                    "parametro ripetuto: {k:?} (indicarlo una volta sola)"
                )));
            }
        }
        Ok(Params(map))
    }

    pub(super) fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    /// Rejects any parameter outside `allowed`.
    pub(super) fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) => Err(ApiError::bad_request(format!(
                "parametro sconosciuto: {k:?} (ammessi: {})",
                allowed.join(", ")
            ))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Items

#[derive(Debug, Clone)]
pub(super) struct ItemsQuery {
    pub(super) limit: usize,
    pub(super) offset: usize,
    /// One box, or two when the box crosses the antimeridian.
    pub(super) bbox: Vec<Rect<f64>>,
    pub(super) bbox_raw: Option<String>,
    pub(super) datetime: Option<String>,
    pub(super) filters: Vec<(String, String)>,
}

pub(super) fn parse_limit(s: &str) -> Result<usize, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "limit non valido: {s:?} (intero positivo; massimo {OGC_MAX_LIMIT})"
        ))
    };
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // All digits: a number too large for usize is above the maximum anyway.
    let n = s.parse::<usize>().unwrap_or(usize::MAX);
    if n == 0 {
        return Err(bad());
    }
    Ok(n.min(OGC_MAX_LIMIT))
}

pub(super) fn parse_offset(s: &str) -> Result<usize, ApiError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(format!(
            "offset non valido: {s:?} (intero non negativo)"
        )));
    }
    Ok(s.parse::<usize>().unwrap_or(usize::MAX))
}

pub(super) fn parse_bbox(s: &str) -> Result<Vec<Rect<f64>>, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "bbox non valido: {s:?} (atteso minlon,minlat,maxlon,maxlat in gradi, CRS84)"
        ))
    };
    let n: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let (x0, y0, x1, y1) = match n.len() {
        4 => (n[0], n[1], n[2], n[3]),
        6 => (n[0], n[1], n[3], n[4]),
        _ => return Err(bad()),
    };
    if n.iter().any(|v| !v.is_finite())
        || y0 > y1
        || !(-90.0..=90.0).contains(&y0)
        || !(-90.0..=90.0).contains(&y1)
        || !(-180.0..=180.0).contains(&x0)
        || !(-180.0..=180.0).contains(&x1)
    {
        return Err(bad());
    }
    Ok(if x0 <= x1 {
        vec![Rect::new((x0, y0), (x1, y1))]
    } else {
        // Across the antimeridian.
        vec![
            Rect::new((x0, y0), (180.0, y1)),
            Rect::new((-180.0, y0), (x1, y1)),
        ]
    })
}

/// An RFC 3339 instant (date-time or date), or an interval with `..`/empty open ends.
pub(super) fn parse_datetime(s: &str) -> Result<(), ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "datetime non valido: {s:?} (istante RFC 3339 o intervallo inizio/fine, con '..' per un estremo aperto)"
        ))
    };
    let instant = |t: &str| -> Option<chrono::NaiveDateTime> {
        if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
            return Some(d.naive_utc());
        }
        chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    };
    match s.split_once('/') {
        None => instant(s).map(|_| ()).ok_or_else(bad),
        Some((a, b)) => {
            let end = |t: &str| -> Result<Option<chrono::NaiveDateTime>, ApiError> {
                if t.is_empty() || t == ".." {
                    Ok(None)
                } else {
                    instant(t).map(Some).ok_or_else(bad)
                }
            };
            match (end(a)?, end(b)?) {
                (None, None) if a == b && a.is_empty() => Err(bad()),
                (Some(x), Some(y)) if x > y => Err(bad()),
                _ => Ok(()),
            }
        }
    }
}

pub(super) fn check_crs(params: &Params) -> Result<(), ApiError> {
    for k in ["crs", "bbox-crs"] {
        if let Some(v) = params.get(k) {
            let v = v.trim_start_matches('[').trim_end_matches(']');
            if v != CRS84 {
                return Err(ApiError::bad_request(format!(
                    "{k} non supportato: {v:?} (disponibile solo {CRS84})"
                )));
            }
        }
    }
    Ok(())
}

pub(super) fn parse_items_query(
    params: &Params,
    meta_properties: &[String],
) -> Result<ItemsQuery, ApiError> {
    check_crs(params)?;
    let mut filters = Vec::new();
    for (k, v) in &params.0 {
        if RESERVED.contains(&k.as_str()) {
            continue;
        }
        if !meta_properties.iter().any(|p| p == k) {
            return Err(ApiError::bad_request(format!(
                "parametro sconosciuto: {k:?} (ammessi: {} e le proprietà della collezione: {})",
                RESERVED.join(", "),
                meta_properties.join(", ")
            )));
        }
        filters.push((k.clone(), v.clone()));
    }
    if let Some(d) = params.get("datetime") {
        parse_datetime(d)?;
    }
    Ok(ItemsQuery {
        limit: params
            .get("limit")
            .map(parse_limit)
            .transpose()?
            .unwrap_or(OGC_DEFAULT_LIMIT),
        offset: params
            .get("offset")
            .map(parse_offset)
            .transpose()?
            .unwrap_or(0),
        bbox: params
            .get("bbox")
            .map(parse_bbox)
            .transpose()?
            .unwrap_or_default(),
        bbox_raw: params.get("bbox").map(str::to_string),
        datetime: params.get("datetime").map(str::to_string),
        filters,
    })
}
