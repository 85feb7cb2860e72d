//! OGC API - Features Part 2 (CRS by reference): the CRSs the OGC API answers in, the `crs`,
//! `bbox-crs` and `filter-crs` parameters, and the projection of rendered GeoJSON geometries.
//!
//! In the OGC API an EPSG code always means the EPSG CRS with its own axis order (latitude or
//! northing first for EPSG:4326, 6706 and 6707), whatever form names it (URI, URN, safe CURIE
//! `[EPSG:4326]`, `EPSG:4326`); lon/lat order is asked for as CRS84. So the URI of the
//! `Content-Crs` header always says how the coordinates were written.

use geo::Rect;

use super::super::ApiError;
use super::CRS84;
use crate::crs::{self, FromLonLat, ToLonLat};

/// A CRS an OGC API answer can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OgcCrs {
    /// WGS 84 longitude/latitude (the storage CRS).
    Crs84,
    /// An EPSG CRS of [`crs::OUTPUT`], in its EPSG axis order.
    Epsg(u16),
}

impl OgcCrs {
    /// The value of the parameter `param` (`crs`, `bbox-crs`, `filter-crs`).
    pub(super) fn parse(param: &str, value: &str) -> Result<OgcCrs, ApiError> {
        let v = value.trim();
        let v = v
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(v);
        let lower = v.to_ascii_lowercase();
        if lower.ends_with("/ogc/1.3/crs84") || lower == "crs84" || lower == "ogc:crs84" {
            return Ok(OgcCrs::Crs84);
        }
        match crs::parse_output(v) {
            Ok(d) => Ok(OgcCrs::Epsg(d.epsg)),
            Err(_) => Err(ApiError::bad_request(format!(
                "{param} non supportato: {value:?} (disponibili: {})",
                supported().join(", ")
            ))),
        }
    }

    pub(super) fn uri(self) -> String {
        match self {
            OgcCrs::Crs84 => CRS84.to_string(),
            OgcCrs::Epsg(code) => format!("http://www.opengis.net/def/crs/EPSG/0/{code}"),
        }
    }

    /// The EPSG code of the datum and projection (4326 for CRS84).
    pub(super) fn epsg(self) -> u16 {
        match self {
            OgcCrs::Crs84 => 4326,
            OgcCrs::Epsg(code) => code,
        }
    }

    /// Whether coordinates are written northing (latitude) first.
    pub(super) fn northing_first(self) -> bool {
        match self {
            OgcCrs::Crs84 => false,
            OgcCrs::Epsg(code) => crs::is_northing_first(code),
        }
    }

    /// The value of the `Content-Crs` header.
    pub(super) fn header(self) -> String {
        format!("<{}>", self.uri())
    }

    /// A rectangle given in this CRS, in its axis order (`[a0, a1, b0, b1]`: the first corner's
    /// two numbers, then the second's), as lon/lat bounds.
    pub(super) fn rect_to_lonlat(self, n: [f64; 4]) -> Result<Rect<f64>, crs::CrsError> {
        let [mut x0, mut y0, mut x1, mut y1] = n;
        if self.northing_first() {
            (x0, y0, x1, y1) = (y0, x0, y1, x1);
        }
        ToLonLat::new(self.epsg())?.rect(Rect::new((x0, y0), (x1, y1)))
    }

    /// A point given in this CRS, in its axis order, as lon/lat.
    pub(super) fn point_to_lonlat(
        self,
        to: &ToLonLat,
        a: f64,
        b: f64,
    ) -> Result<(f64, f64), crs::CrsError> {
        let (x, y) = if self.northing_first() {
            (b, a)
        } else {
            (a, b)
        };
        to.convert(x, y)
    }
}

/// The URIs of the CRSs every collection can be written in: CRS84 first, then [`crs::OUTPUT`].
pub(super) fn supported() -> Vec<String> {
    std::iter::once(OgcCrs::Crs84)
        .chain(crs::OUTPUT.iter().map(|c| OgcCrs::Epsg(*c)))
        .map(OgcCrs::uri)
        .collect()
}

/// Projects rendered (lon/lat) GeoJSON geometries into an output CRS.
pub(super) struct Writer {
    to: FromLonLat,
    swap: bool,
    /// Decimals kept: 7 for degrees (about 1 cm), 3 for metres.
    scale: f64,
}

impl Writer {
    /// `None` for CRS84, whose coordinates are the rendered ones.
    pub(super) fn new(target: OgcCrs) -> Result<Option<Writer>, ApiError> {
        if target == OgcCrs::Crs84 {
            return Ok(None);
        }
        let to = FromLonLat::new(target.epsg()).map_err(|e| ApiError::internal(e.to_string()))?;
        let scale = if crs::is_geographic(target.epsg()) {
            1e7
        } else {
            1e3
        };
        Ok(Some(Writer {
            to,
            swap: target.northing_first(),
            scale,
        }))
    }

    pub(super) fn project(&self, g: &mut geojson::Geometry) -> Result<(), crs::CrsError> {
        self.value(&mut g.value)
    }

    fn value(&self, v: &mut geojson::Value) -> Result<(), crs::CrsError> {
        use geojson::Value as V;
        match v {
            V::Point(p) => self.position(p),
            V::MultiPoint(ps) | V::LineString(ps) => {
                ps.iter_mut().try_for_each(|p| self.position(p))
            }
            V::MultiLineString(ls) | V::Polygon(ls) => {
                ls.iter_mut().flatten().try_for_each(|p| self.position(p))
            }
            V::MultiPolygon(pls) => pls
                .iter_mut()
                .flatten()
                .flatten()
                .try_for_each(|p| self.position(p)),
            V::GeometryCollection(gs) => gs.iter_mut().try_for_each(|g| self.value(&mut g.value)),
        }
    }

    fn position(&self, p: &mut [f64]) -> Result<(), crs::CrsError> {
        if p.len() < 2 {
            return Ok(());
        }
        let (x, y) = self.to.convert(p[0], p[1])?;
        let r = |v: f64| (v * self.scale).round() / self.scale;
        let (a, b) = if self.swap { (y, x) } else { (x, y) };
        p[0] = r(a);
        p[1] = r(b);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_an_epsg_code_means_its_epsg_axis_order() {
        for v in [
            "http://www.opengis.net/def/crs/EPSG/0/4326",
            "urn:ogc:def:crs:EPSG::4326",
            "[EPSG:4326]",
            "EPSG:4326",
        ] {
            let c = OgcCrs::parse("crs", v).expect(v);
            assert_eq!(c, OgcCrs::Epsg(4326), "{v}");
            assert!(c.northing_first(), "{v}");
        }
        let c = OgcCrs::parse("crs", CRS84).expect("crs84");
        assert_eq!(c, OgcCrs::Crs84);
        assert!(!c.northing_first());
        assert!(!OgcCrs::Epsg(32632).northing_first());
        assert!(OgcCrs::Epsg(6707).northing_first());
        assert!(!OgcCrs::Epsg(7791).northing_first());
        for bad in [
            "EPSG:3857",
            "http://www.opengis.net/def/crs/EPSG/0/9999",
            "pippo",
            "",
        ] {
            assert!(OgcCrs::parse("crs", bad).is_err(), "{bad}");
        }
        let list = supported();
        assert_eq!(list[0], CRS84);
        assert_eq!(list[1], "http://www.opengis.net/def/crs/EPSG/0/4326");
        assert_eq!(list.len(), 1 + crs::OUTPUT.len());
    }

    #[test]
    fn northing_first_output_is_swapped_and_rectangles_come_back() {
        let w = Writer::new(OgcCrs::Epsg(4326))
            .expect("writer")
            .expect("not CRS84");
        let mut g = geojson::Geometry::new(geojson::Value::Point(vec![9.9, 45.8]));
        w.project(&mut g).expect("project");
        assert_eq!(g.value, geojson::Value::Point(vec![45.8, 9.9]));

        let utm = Writer::new(OgcCrs::Epsg(32632))
            .expect("writer")
            .expect("not CRS84");
        let mut g = geojson::Geometry::new(geojson::Value::Point(vec![9.67, 45.69]));
        utm.project(&mut g).expect("project");
        let geojson::Value::Point(p) = &g.value else {
            panic!("a point")
        };
        assert!(
            (p[0] - 552168.584).abs() < 0.01 && (p[1] - 5059823.574).abs() < 0.01,
            "{p:?}"
        );
        let r = OgcCrs::Epsg(32632)
            .rect_to_lonlat([p[0] - 1.0, p[1] - 1.0, p[0] + 1.0, p[1] + 1.0])
            .expect("rect");
        assert!(r.min().x < 9.67 && 9.67 < r.max().x && r.min().y < 45.69 && 45.69 < r.max().y);
        // lat/lon order for EPSG:4326.
        let r = OgcCrs::Epsg(4326)
            .rect_to_lonlat([45.0, 9.0, 46.0, 10.0])
            .expect("rect");
        assert_eq!(
            (r.min().x, r.min().y, r.max().x, r.max().y),
            (9.0, 45.0, 10.0, 46.0)
        );
    }
}
