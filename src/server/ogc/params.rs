//! The query string: decoding, the reserved parameters, and the items query (`limit`,
//! `offset`, `bbox` and `bbox-crs`, `datetime`, `crs`, `filter` with `filter-lang` and
//! `filter-crs`, property equality filters).

use std::collections::BTreeMap;

use geo::Rect;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::super::ApiError;
use super::cql2::{self, Expr};
use super::crs::OgcCrs;
use super::{OGC_DEFAULT_LIMIT, OGC_MAX_LIMIT, RESERVED};
use crate::output::layers::Layer;

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
    /// The CRS of the answer's geometries (`crs`).
    pub(super) crs: OgcCrs,
    /// The CQL2 filter (`filter`).
    pub(super) filter: Option<Expr>,
    /// `crs`, `bbox-crs`, `filter`, `filter-lang`, `filter-crs` as given, for the links.
    pub(super) carried: Vec<(&'static str, String)>,
}

/// The parameters an items page passes on to its `next`/`prev`/`alternate` links as given.
const CARRIED: [&str; 5] = ["crs", "bbox-crs", "filter", "filter-lang", "filter-crs"];

/// The values of `filter-lang` understood: CQL2 text, and its draft name, which GDAL 3.6 sends.
pub(super) const FILTER_LANGS: [&str; 2] = ["cql2-text", "cql-text"];

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

/// `bbox` given in `crs` (`bbox-crs`): its corners in the CRS's axis order, as lon/lat boxes.
pub(super) fn parse_bbox_in(s: &str, crs: OgcCrs) -> Result<Vec<Rect<f64>>, ApiError> {
    if crs == OgcCrs::Crs84 {
        return parse_bbox(s);
    }
    let order = if crs.northing_first() {
        "nord,est (minimi, poi massimi), nell'ordine degli assi del CRS"
    } else {
        "est,nord (minimi, poi massimi)"
    };
    let bad = |why: &str| {
        ApiError::bad_request(format!(
            "bbox non valido: {s:?} per bbox-crs {}: {why} (atteso {order})",
            crs.uri()
        ))
    };
    let n: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("numeri non validi"))?;
    let c = match n.len() {
        4 => [n[0], n[1], n[2], n[3]],
        6 => [n[0], n[1], n[3], n[4]],
        _ => return Err(bad("servono 4 o 6 numeri")),
    };
    if c.iter().any(|v| !v.is_finite()) || c[0] > c[2] || c[1] > c[3] {
        return Err(bad("i minimi vanno prima dei massimi"));
    }
    if crate::crs::is_geographic(crs.epsg()) {
        let (lat, lon) = if crs.northing_first() {
            ([c[0], c[2]], [c[1], c[3]])
        } else {
            ([c[1], c[3]], [c[0], c[2]])
        };
        if lat.iter().any(|v| v.abs() > 90.0) || lon.iter().any(|v| v.abs() > 180.0) {
            return Err(bad("gradi fuori dai limiti"));
        }
    }
    crs.rect_to_lonlat(c)
        .map(|r| vec![r])
        .map_err(|e| bad(&e.to_string()))
}

pub(super) fn parse_bbox(s: &str) -> Result<Vec<Rect<f64>>, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "bbox non valido: {s:?} (atteso minlon,minlat,maxlon,maxlat in gradi, CRS84; per altri CRS indicare bbox-crs)"
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

/// The CRS named by parameter `k` (CRS84 when absent).
pub(super) fn crs_param(params: &Params, k: &str) -> Result<OgcCrs, ApiError> {
    params
        .get(k)
        .map(|v| OgcCrs::parse(k, v))
        .transpose()
        .map(|c| c.unwrap_or(OgcCrs::Crs84))
}

/// The `filter` of an items request, parsed for `layer` (`None` without one).
pub(super) fn parse_filter(params: &Params, layer: Layer) -> Result<Option<Expr>, ApiError> {
    if let Some(lang) = params.get("filter-lang") {
        if !FILTER_LANGS.contains(&lang) {
            return Err(ApiError::bad_request(format!(
                "filter-lang non supportato: {lang:?} (disponibile: cql2-text)"
            )));
        }
    }
    let filter_crs = crs_param(params, "filter-crs")?;
    let Some(text) = params.get("filter") else {
        return Ok(None);
    };
    cql2::parse(text, layer.info(), filter_crs)
        .map(Some)
        .map_err(|e| ApiError::bad_request(format!("filter non valido, {e}")))
}

pub(super) fn parse_items_query(
    params: &Params,
    meta_properties: &[String],
    layer: Layer,
) -> Result<ItemsQuery, ApiError> {
    let crs = crs_param(params, "crs")?;
    let bbox_crs = crs_param(params, "bbox-crs")?;
    let filter = parse_filter(params, layer)?;
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
            .map(|b| parse_bbox_in(b, bbox_crs))
            .transpose()?
            .unwrap_or_default(),
        bbox_raw: params.get("bbox").map(str::to_string),
        datetime: params.get("datetime").map(str::to_string),
        filters,
        crs,
        filter,
        carried: CARRIED
            .iter()
            .filter_map(|k| params.get(k).map(|v| (*k, v.to_string())))
            .collect(),
    })
}
