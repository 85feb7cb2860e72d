//! Geometry encoders shared by the writers: OGC type names, bounding boxes, a representative
//! point, ISO WKB and WKT, all from GeoJSON values in lon/lat.

use geo::Centroid;

/// OGC name of a GeoJSON geometry's type.
pub fn type_name(v: &::geojson::Value) -> &'static str {
    use ::geojson::Value as G;
    match v {
        G::Point(_) => "Point",
        G::MultiPoint(_) => "MultiPoint",
        G::LineString(_) => "LineString",
        G::MultiLineString(_) => "MultiLineString",
        G::Polygon(_) => "Polygon",
        G::MultiPolygon(_) => "MultiPolygon",
        G::GeometryCollection(_) => "GeometryCollection",
    }
}

fn for_each_position(v: &::geojson::Value, f: &mut impl FnMut(&[f64])) {
    use ::geojson::Value as G;
    match v {
        G::Point(p) => f(p),
        G::MultiPoint(ps) | G::LineString(ps) => ps.iter().for_each(|p| f(p)),
        G::MultiLineString(ls) | G::Polygon(ls) => ls.iter().flatten().for_each(|p| f(p)),
        G::MultiPolygon(polys) => polys.iter().flatten().flatten().for_each(|p| f(p)),
        G::GeometryCollection(gs) => gs.iter().for_each(|g| for_each_position(&g.value, f)),
    }
}

/// `[minx, miny, maxx, maxy]`, `None` for an empty geometry.
pub fn bbox(v: &::geojson::Value) -> Option<[f64; 4]> {
    let mut b: Option<[f64; 4]> = None;
    for_each_position(v, &mut |p| {
        if let [x, y, ..] = *p {
            b = Some(match b {
                None => [x, y, x, y],
                Some(b) => [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)],
            });
        }
    });
    b
}

/// The point itself, or the centroid of any other geometry, rounded to 7 decimals.
pub fn lonlat(v: &::geojson::Value) -> Option<(f64, f64)> {
    if let ::geojson::Value::Point(p) = v {
        return match p.as_slice() {
            [x, y, ..] => Some((*x, *y)),
            _ => None,
        };
    }
    let g: geo::Geometry<f64> = v.clone().try_into().ok()?;
    let c = g.centroid()?;
    let r = |v: f64| (v * 1e7).round() / 1e7;
    Some((r(c.x()), r(c.y())))
}

/// ISO WKB (little endian, 2D).
pub fn wkb(v: &::geojson::Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    write_wkb(v, &mut out);
    out
}

fn write_wkb(v: &::geojson::Value, out: &mut Vec<u8>) {
    use ::geojson::Value as G;
    fn header(out: &mut Vec<u8>, code: u32) {
        out.push(1);
        out.extend_from_slice(&code.to_le_bytes());
    }
    fn count(out: &mut Vec<u8>, n: usize) {
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    fn pos(out: &mut Vec<u8>, p: &[f64]) {
        let x = p.first().copied().unwrap_or(f64::NAN);
        let y = p.get(1).copied().unwrap_or(f64::NAN);
        out.extend_from_slice(&x.to_le_bytes());
        out.extend_from_slice(&y.to_le_bytes());
    }
    fn line(out: &mut Vec<u8>, ps: &[Vec<f64>]) {
        count(out, ps.len());
        ps.iter().for_each(|p| pos(out, p));
    }
    fn polygon(out: &mut Vec<u8>, rings: &[Vec<Vec<f64>>]) {
        header(out, 3);
        count(out, rings.len());
        rings.iter().for_each(|r| line(out, r));
    }
    match v {
        G::Point(p) => {
            header(out, 1);
            pos(out, p);
        }
        G::LineString(ps) => {
            header(out, 2);
            line(out, ps);
        }
        G::Polygon(rings) => polygon(out, rings),
        G::MultiPoint(ps) => {
            header(out, 4);
            count(out, ps.len());
            for p in ps {
                header(out, 1);
                pos(out, p);
            }
        }
        G::MultiLineString(ls) => {
            header(out, 5);
            count(out, ls.len());
            for l in ls {
                header(out, 2);
                line(out, l);
            }
        }
        G::MultiPolygon(polys) => {
            header(out, 6);
            count(out, polys.len());
            polys.iter().for_each(|p| polygon(out, p));
        }
        G::GeometryCollection(gs) => {
            header(out, 7);
            count(out, gs.len());
            gs.iter().for_each(|g| write_wkb(&g.value, out));
        }
    }
}

/// WKT (`POINT (9.9 45.9)`, `MULTIPOLYGON (((…)))`).
pub fn wkt(v: &::geojson::Value) -> String {
    use ::geojson::Value as G;
    use std::fmt::Write;
    fn pos(p: &[f64]) -> String {
        match p {
            [x, y, ..] => format!("{x} {y}"),
            _ => String::new(),
        }
    }
    fn line(ps: &[Vec<f64>]) -> String {
        let inner: Vec<String> = ps.iter().map(|p| pos(p)).collect();
        format!("({})", inner.join(", "))
    }
    fn polygon(rings: &[Vec<Vec<f64>>]) -> String {
        let inner: Vec<String> = rings.iter().map(|r| line(r)).collect();
        format!("({})", inner.join(", "))
    }
    let mut s = String::new();
    let _ = match v {
        G::Point(p) => write!(s, "POINT ({})", pos(p)),
        G::MultiPoint(ps) => write!(s, "MULTIPOINT {}", line(ps)),
        G::LineString(ps) => write!(s, "LINESTRING {}", line(ps)),
        G::MultiLineString(ls) => write!(s, "MULTILINESTRING {}", polygon(ls)),
        G::Polygon(rings) => write!(s, "POLYGON {}", polygon(rings)),
        G::MultiPolygon(polys) => {
            let inner: Vec<String> = polys.iter().map(|p| polygon(p)).collect();
            write!(s, "MULTIPOLYGON ({})", inner.join(", "))
        }
        G::GeometryCollection(gs) => {
            let inner: Vec<String> = gs.iter().map(|g| wkt(&g.value)).collect();
            write!(s, "GEOMETRYCOLLECTION ({})", inner.join(", "))
        }
    };
    s
}
