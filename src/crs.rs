//! Coordinate reference systems: which ones abitare knows, their axis order, and the
//! transform of any of them to the model's lon/lat.
//!
//! Geographic CRSs on ETRS89 realisations (RDN2008 EPSG:6706, ETRS89 EPSG:4258) and WGS84
//! (EPSG:4326) differ by less than a metre in Lombardy and are treated as the same datum
//! (DOMAIN.md). Projected CRSs go through `proj4rs`, which applies the Gauss-Boaga datum
//! shift (`+towgs84`) of EPSG:3003/3004.

mod wkt;

use proj4rs::Proj;
use thiserror::Error;

use wkt::{CrsParams, Method};

#[derive(Debug, Error, PartialEq)]
pub enum CrsError {
    #[error("sistema di riferimento sconosciuto: {0:?} (supportati: {list})", list = supported_list())]
    Unknown(String),
    #[error("trasformazione da EPSG:{epsg} fallita per il punto ({x}, {y}): {reason}")]
    Transform {
        epsg: u16,
        x: f64,
        y: f64,
        reason: String,
    },
    /// A `.prj` whose text is not a WKT1 CRS that can be read.
    #[error("WKT del sistema di riferimento illeggibile: {0}")]
    Wkt(String),
    /// A `.prj` that names a supported CRS but whose parameters contradict it in a way that
    /// cannot be turned into a transform.
    #[error(transparent)]
    PrjMismatch(Box<PrjMismatch>),
}

/// A parameter of a `.prj` that contradicts the EPSG code its name gives, and why no
/// transform can honour it.
#[derive(Debug, Error, PartialEq)]
#[error(
    "il file dichiara EPSG:{epsg} ma il parametro {parameter} vale {found} invece di {expected}: \
     {reason}"
)]
pub struct PrjMismatch {
    pub epsg: u16,
    pub parameter: String,
    pub found: String,
    pub expected: String,
    pub reason: &'static str,
}

/// The EPSG codes abitare accepts, with a short name.
pub const SUPPORTED: [(u16, &str); 12] = [
    (6706, "RDN2008 geografico"),
    (6707, "RDN2008 / UTM 32N (N-E)"),
    (6708, "RDN2008 / UTM 33N (N-E)"),
    (7791, "RDN2008 / UTM 32N"),
    (32632, "WGS 84 / UTM 32N"),
    (32633, "WGS 84 / UTM 33N"),
    (25832, "ETRS89 / UTM 32N"),
    (3003, "Monte Mario / Gauss-Boaga Ovest"),
    (3004, "Monte Mario / Gauss-Boaga Est"),
    (4326, "WGS 84 geografico"),
    (4258, "ETRS89 geografico"),
    (3857, "WGS 84 / Pseudo-Mercator"),
];

/// The CRSs exports and OGC API answers can be written in (x = easting in every one; OGC API
/// writers apply the EPSG axis order where the URI form asks for it): the model's lon/lat and
/// the grids a PGT drafter in Lombardy works in.
pub const OUTPUT: [u16; 7] = [4326, 32632, 25832, 6707, 7791, 3003, 6706];

/// Parses a CRS named by a client (`32632`, `EPSG:32632`, `urn:ogc:def:crs:EPSG::32632`,
/// `http://www.opengis.net/def/crs/EPSG/0/32632`, `…/OGC/1.3/CRS84`) and checks that it is one
/// of [`OUTPUT`].
pub fn parse_output(s: &str) -> Result<Declared, CrsError> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let declared = if lower.ends_with("/ogc/1.3/crs84") || lower == "crs84" || lower == "ogc:crs84"
    {
        Declared {
            epsg: 4326,
            axis: AxisOrder::EastNorth,
        }
    } else if t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty() {
        let epsg: u16 = t.parse().map_err(|_| CrsError::Unknown(t.to_string()))?;
        Declared {
            epsg,
            axis: AxisOrder::EastNorth,
        }
    } else {
        parse_srs_name(t)?
    };
    if OUTPUT.contains(&declared.epsg) {
        Ok(declared)
    } else {
        Err(CrsError::Unknown(t.to_string()))
    }
}

fn supported_list() -> String {
    SUPPORTED
        .iter()
        .map(|(c, _)| format!("EPSG:{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Order of the two numbers in a coordinate as written in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AxisOrder {
    /// x = easting / longitude first.
    EastNorth,
    /// latitude / northing first (EPSG-authority order of geographic CRSs in GML 3.2).
    NorthEast,
}

/// A CRS as declared in a file: the EPSG code and the axis order of its coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    pub epsg: u16,
    pub axis: AxisOrder,
}

pub fn is_geographic(epsg: u16) -> bool {
    matches!(epsg, 6706 | 4326 | 4258)
}

/// Whether the EPSG definition puts northing (latitude) first: geographic CRSs and the
/// "(N-E)" RDN2008 grids EPSG:6707 and 6708 (their easting-first twins are 7791 and 7792).
pub fn is_northing_first(epsg: u16) -> bool {
    is_geographic(epsg) || matches!(epsg, 6707 | 6708)
}

/// Reads a GML `srsName` (`urn:ogc:def:crs:EPSG::6706`, `http://www.opengis.net/def/crs/EPSG/0/6706`,
/// `EPSG:4326`). URN and URI forms follow the EPSG axis order (lat/lon for geographic CRSs);
/// the legacy `EPSG:nnnn` form is lon/lat, as GML 2 and most software write it.
pub fn parse_srs_name(srs: &str) -> Result<Declared, CrsError> {
    let s = srs.trim();
    let lower = s.to_ascii_lowercase();
    let (code, authority_order) = if let Some(rest) = lower.strip_prefix("urn:ogc:def:crs:epsg:") {
        // `urn:ogc:def:crs:EPSG::6706` or `urn:ogc:def:crs:EPSG:6.6:4326`
        (rest.rsplit(':').next().unwrap_or(""), true)
    } else if lower.starts_with("http://www.opengis.net/def/crs/epsg/")
        || lower.starts_with("https://www.opengis.net/def/crs/epsg/")
    {
        (lower.rsplit('/').next().unwrap_or(""), true)
    } else if let Some(rest) = lower.strip_prefix("epsg:") {
        (rest, false)
    } else if lower.starts_with("http://www.opengis.net/gml/srs/epsg.xml#") {
        (lower.rsplit('#').next().unwrap_or(""), false)
    } else {
        return Err(CrsError::Unknown(s.to_string()));
    };
    let epsg: u16 = code.parse().map_err(|_| CrsError::Unknown(s.to_string()))?;
    check_supported(epsg, s)?;
    let axis = if authority_order && is_northing_first(epsg) {
        AxisOrder::NorthEast
    } else {
        AxisOrder::EastNorth
    };
    Ok(Declared { epsg, axis })
}

fn check_supported(epsg: u16, original: &str) -> Result<(), CrsError> {
    if SUPPORTED.iter().any(|(c, _)| *c == epsg) {
        Ok(())
    } else {
        Err(CrsError::Unknown(original.to_string()))
    }
}

/// Parses a user declaration such as `EPSG:32632` or `32632` (x = easting always).
pub fn parse_declared(s: &str) -> Result<u16, CrsError> {
    let t = s.trim();
    let code = t
        .strip_prefix("EPSG:")
        .or_else(|| t.strip_prefix("epsg:"))
        .unwrap_or(t);
    let epsg: u16 = code.parse().map_err(|_| CrsError::Unknown(t.to_string()))?;
    check_supported(epsg, t)?;
    Ok(epsg)
}

/// Recognises the CRS of an ESRI `.prj` (WKT1): by EPSG authority when present, else by name.
pub fn epsg_from_prj(wkt: &str) -> Result<u16, CrsError> {
    // The last AUTHORITY["EPSG","nnnn"] belongs to the outermost CRS.
    if let Some(pos) = wkt.rfind("AUTHORITY[\"EPSG\",\"") {
        let rest = &wkt[pos + 18..];
        if let Some(end) = rest.find('"') {
            if let Ok(code) = rest[..end].parse::<u16>() {
                if SUPPORTED.iter().any(|(c, _)| *c == code) {
                    return Ok(code);
                }
            }
        }
    }
    let name = wkt
        .split('"')
        .nth(1)
        .unwrap_or("")
        .to_ascii_lowercase()
        .replace([' ', '-', '/'], "_");
    let compact = name.replace("__", "_").replace("__", "_");
    let by_name = [
        ("wgs_1984_utm_zone_32n", 32632),
        ("wgs_84_utm_zone_32n", 32632),
        ("wgs_1984_utm_zone_33n", 32633),
        ("wgs_84_utm_zone_33n", 32633),
        // GDAL/ESRI names: `RDN2008_TM32` is EPSG:6707, `RDN2008_UTM_zone_32N` is 7791 (the
        // same projection, easting first); a `.prj` is always read easting first.
        ("rdn2008_tm32", 6707),
        ("rdn2008_tm33", 6708),
        ("rdn2008_utm_zone_32n", 7791),
        ("rdn2008_utm_zone_32n_n_e", 6707),
        ("rdn2008_utm_zone_33n", 6708),
        ("rdn2008_utm_zone_33n_n_e", 6708),
        ("etrs_1989_utm_zone_32n", 25832),
        ("etrs89_utm_zone_32n", 25832),
        ("etrf2000_utm_zone_32n", 6707),
        ("monte_mario_italy_1", 3003),
        ("monte_mario_italy_zone_1", 3003),
        ("monte_mario_italy_2", 3004),
        ("monte_mario_italy_zone_2", 3004),
        ("gcs_wgs_1984", 4326),
        ("wgs_84", 4326),
        ("rdn2008", 6706),
        ("gcs_rdn2008", 6706),
        ("gcs_etrs_1989", 4258),
        ("etrs89", 4258),
        ("wgs_1984_web_mercator_auxiliary_sphere", 3857),
    ];
    by_name
        .iter()
        .find(|(n, _)| *n == compact)
        .map(|(_, c)| *c)
        .ok_or_else(|| CrsError::Unknown(wkt.chars().take(80).collect()))
}

/// The WKT1 of a supported CRS, as written into a `.prj`.
pub fn prj_wkt(epsg: u16) -> Option<&'static str> {
    crs_definitions::from_code(epsg).map(|d| d.wkt)
}

/// A parameter of a `.prj` that differs from the definition of the EPSG code its name or
/// authority points to.
#[derive(Debug, Clone, PartialEq)]
pub struct PrjDifference {
    /// As written in the file (`False_Easting`), or the WKT element (`SPHEROID`, `TOWGS84`…).
    pub parameter: String,
    pub found: f64,
    pub expected: f64,
}

impl std::fmt::Display for PrjDifference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "parametro {} = {} invece di {}",
            self.parameter, self.found, self.expected
        )
    }
}

/// The CRS of a `.prj`: the EPSG code its name (or authority) gives and the parameters of the
/// file that contradict that code's definition. When there are any, the transform is built
/// from the parameters actually written ([`ToLonLat::from_prj`]): the name is a label, the
/// parameters are what the software that wrote the coordinates used.
#[derive(Debug, Clone, PartialEq)]
pub struct PrjCrs {
    pub epsg: u16,
    pub differences: Vec<PrjDifference>,
    /// The proj string assembled from the file's own parameters, when they differ.
    proj: Option<String>,
}

impl PrjCrs {
    /// A CRS given by its EPSG code alone (nothing to compare).
    pub fn from_epsg(epsg: u16) -> PrjCrs {
        PrjCrs {
            epsg,
            differences: Vec::new(),
            proj: None,
        }
    }

    /// The differences, in Italian, for a warning (`parametro False_Easting = 500300 invece
    /// di 500000; …`).
    pub fn differences_text(&self) -> String {
        self.differences
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The proj string of the file's own parameters, when they differ from the EPSG code's.
    pub fn proj_string(&self) -> Option<&str> {
        self.proj.as_deref()
    }
}

/// Tolerances of the comparison: well below a centimetre on the ground.
const TOL_DEGREES: f64 = 1e-7;
const TOL_METRES: f64 = 1e-3;
const TOL_SCALE: f64 = 1e-9;
const TOL_INV_FLATTENING: f64 = 1e-6;

fn parse_wkt(text: &str) -> Result<CrsParams, CrsError> {
    let text = text.trim_start_matches('\u{feff}').trim();
    wkt::parse(text)
        .and_then(|node| CrsParams::from_node(&node))
        .map_err(CrsError::Wkt)
}

/// Reads a `.prj` (WKT1, ESRI or OGC dialect): the EPSG code its authority or name gives
/// ([`epsg_from_prj`]), checked against the projection method, origin, central meridian,
/// scale factor, false easting/northing, ellipsoid, datum shift, prime meridian and unit of
/// that code's definition. Differences in a Transverse Mercator CRS (every Italian grid) are
/// kept and honoured; differences that no transform abitare has can express (another method,
/// a geographic CRS with another prime meridian or unit, a Mercator with other parameters)
/// are an error naming the parameter.
pub fn crs_from_prj(text: &str) -> Result<PrjCrs, CrsError> {
    let epsg = epsg_from_prj(text)?;
    let found = parse_wkt(text)?;
    let expected_wkt = prj_wkt(epsg).ok_or_else(|| CrsError::Unknown(format!("EPSG:{epsg}")))?;
    let expected = parse_wkt(expected_wkt)?;
    compare_prj(epsg, &found, &expected)
}

fn compare_prj(epsg: u16, found: &CrsParams, expected: &CrsParams) -> Result<PrjCrs, CrsError> {
    let kind = |p: &CrsParams| if p.projected { "PROJCS" } else { "GEOGCS" };
    if found.projected != expected.projected {
        return Err(CrsError::PrjMismatch(Box::new(PrjMismatch {
            epsg,
            parameter: "tipo di sistema".to_string(),
            found: kind(found).to_string(),
            expected: kind(expected).to_string(),
            reason:
                "un sistema geografico e uno proiettato non sono confrontabili: correggere il .prj",
        })));
    }
    if found.projected && (found.method != expected.method || found.method == Method::Other) {
        return Err(CrsError::PrjMismatch(Box::new(PrjMismatch {
            epsg,
            parameter: "PROJECTION".to_string(),
            found: found.method_name.clone(),
            expected: expected.method_name.clone(),
            reason: "il nome del sistema e il metodo di proiezione si contraddicono: correggere il .prj \
                     o riesportare il layer in uno dei sistemi supportati",
        })));
    }
    let mut differences = Vec::new();
    let mut check = |parameter: &str, found: f64, expected: f64, tolerance: f64| {
        if (found - expected).abs() > tolerance || !found.is_finite() {
            differences.push(PrjDifference {
                parameter: parameter.to_string(),
                found,
                expected,
            });
        }
    };
    // Angles of a WKT1 are in the GEOGCS unit, distances of a PROJCS in its linear unit.
    let found_degrees = found.angular_unit.to_degrees();
    let expected_degrees = expected.angular_unit.to_degrees();
    if !found.projected {
        check(
            "UNIT (unità angolare)",
            found.angular_unit,
            expected.angular_unit,
            1e-12,
        );
    }
    check(
        "PRIMEM",
        found.prime_meridian * found_degrees,
        expected.prime_meridian * expected_degrees,
        TOL_DEGREES,
    );
    check(
        "SPHEROID (semiasse maggiore)",
        found.semi_major,
        expected.semi_major,
        TOL_METRES,
    );
    check(
        "SPHEROID (inverso dello schiacciamento)",
        found.inverse_flattening,
        expected.inverse_flattening,
        TOL_INV_FLATTENING,
    );
    if let Some(shift) = &found.towgs84 {
        let none = vec![0.0; 7];
        let reference = expected.towgs84.as_ref().unwrap_or(&none);
        for (i, (f, e)) in shift
            .iter()
            .zip(reference.iter().chain(std::iter::repeat(&0.0)))
            .enumerate()
        {
            check(&format!("TOWGS84 (termine {})", i + 1), *f, *e, TOL_METRES);
        }
    }
    if found.projected {
        check(
            "UNIT (unità lineare)",
            found.linear_unit,
            expected.linear_unit,
            1e-9,
        );
        for (i, ((name, f), (_, e))) in found
            .parameters
            .iter()
            .zip(&expected.parameters)
            .enumerate()
        {
            let (f, e, tolerance) = match wkt::PARAMETERS[i].0 {
                "latitude_of_origin" | "central_meridian" => {
                    (f * found_degrees, e * expected_degrees, TOL_DEGREES)
                }
                "scale_factor" => (*f, *e, TOL_SCALE),
                _ => (f * found.linear_unit, e * expected.linear_unit, TOL_METRES),
            };
            check(name, f, e, tolerance);
        }
    }
    if differences.is_empty() {
        return Ok(PrjCrs {
            epsg,
            differences,
            proj: None,
        });
    }
    if !found.projected || found.method != Method::TransverseMercator {
        let first = &differences[0];
        return Err(CrsError::PrjMismatch(Box::new(PrjMismatch {
            epsg,
            parameter: first.parameter.clone(),
            found: first.found.to_string(),
            expected: first.expected.to_string(),
            reason: if found.projected {
                "per questa proiezione abitare usa solo la definizione EPSG: correggere il .prj o \
                 riesportare il layer"
            } else {
                "abitare legge le coordinate geografiche senza trasformarle: riesportare il layer in \
                 gradi da Greenwich o in uno dei sistemi supportati"
            },
        })));
    }
    let proj = Some(tmerc_proj_string(found, expected));
    Ok(PrjCrs {
        epsg,
        differences,
        proj,
    })
}

/// The proj string of a Transverse Mercator WKT1, from its own parameters. The datum shift is
/// the file's `TOWGS84`, else that of the EPSG definition (none: WGS84 itself).
fn tmerc_proj_string(found: &CrsParams, expected: &CrsParams) -> String {
    let degrees = found.angular_unit.to_degrees();
    let value = |name: &str| {
        wkt::PARAMETERS
            .iter()
            .position(|(n, _, _)| *n == name)
            .and_then(|i| found.parameters.get(i))
            .map(|(_, v)| *v)
            .unwrap_or(0.0)
    };
    let shift = found
        .towgs84
        .as_ref()
        .or(expected.towgs84.as_ref())
        .map(|t| t.iter().map(f64::to_string).collect::<Vec<_>>().join(","))
        .unwrap_or_else(|| "0,0,0,0,0,0,0".to_string());
    let mut s = format!(
        "+proj=tmerc +lat_0={} +lon_0={} +k_0={} +x_0={} +y_0={} +a={} +rf={} +towgs84={shift}",
        value("latitude_of_origin") * degrees,
        value("central_meridian") * degrees,
        value("scale_factor"),
        value("false_easting") * found.linear_unit,
        value("false_northing") * found.linear_unit,
        found.semi_major,
        found.inverse_flattening,
    );
    if found.prime_meridian != 0.0 {
        s.push_str(&format!(" +pm={}", found.prime_meridian * degrees));
    }
    s.push_str(&format!(" +to_meter={} +no_defs", found.linear_unit));
    s
}

/// The bounds of a rectangle's outline, 16 points a side, through `f`: a rectangle in one CRS
/// is not a rectangle in another, so its corners alone are not enough.
fn densified_bounds(
    r: geo::Rect<f64>,
    f: impl Fn(f64, f64) -> Result<(f64, f64), CrsError>,
) -> Result<geo::Rect<f64>, CrsError> {
    let (min, max) = (r.min(), r.max());
    let mut lo = (f64::INFINITY, f64::INFINITY);
    let mut hi = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    const STEPS: usize = 16;
    for i in 0..=STEPS {
        let t = i as f64 / STEPS as f64;
        let x = min.x + (max.x - min.x) * t;
        let y = min.y + (max.y - min.y) * t;
        for (a, b) in [(x, min.y), (x, max.y), (min.x, y), (max.x, y)] {
            let (px, py) = f(a, b)?;
            lo = (lo.0.min(px), lo.1.min(py));
            hi = (hi.0.max(px), hi.1.max(py));
        }
    }
    Ok(geo::Rect::new(
        geo::Coord { x: lo.0, y: lo.1 },
        geo::Coord { x: hi.0, y: hi.1 },
    ))
}

/// Converts coordinates of one CRS (x = easting/longitude) to model lon/lat degrees.
pub struct ToLonLat {
    epsg: u16,
    proj: Option<(Proj, Proj)>,
}

impl std::fmt::Debug for ToLonLat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ToLonLat(EPSG:{})", self.epsg)
    }
}

fn proj_for(epsg: u16) -> Result<Proj, CrsError> {
    // EPSG:7791 is EPSG:6707 with easting-first axes; readers settle the order, so the maths is 6707's.
    let code = if epsg == 7791 { 6707 } else { epsg };
    Proj::from_epsg_code(code).map_err(|e| CrsError::Transform {
        epsg,
        x: 0.0,
        y: 0.0,
        reason: e.to_string(),
    })
}

impl ToLonLat {
    pub fn new(epsg: u16) -> Result<ToLonLat, CrsError> {
        check_supported(epsg, &format!("EPSG:{epsg}"))?;
        if is_geographic(epsg) {
            return Ok(ToLonLat { epsg, proj: None });
        }
        let src = proj_for(epsg)?;
        let dst = proj_for(4326)?;
        Ok(ToLonLat {
            epsg,
            proj: Some((src, dst)),
        })
    }

    /// The transform of a `.prj`: the EPSG definition, or the file's own parameters when they
    /// differ from it.
    pub fn from_prj(prj: &PrjCrs) -> Result<ToLonLat, CrsError> {
        let Some(definition) = &prj.proj else {
            return ToLonLat::new(prj.epsg);
        };
        let src = Proj::from_proj_string(definition).map_err(|e| CrsError::Transform {
            epsg: prj.epsg,
            x: 0.0,
            y: 0.0,
            reason: format!("{definition}: {e}"),
        })?;
        Ok(ToLonLat {
            epsg: prj.epsg,
            proj: Some((src, proj_for(4326)?)),
        })
    }

    pub fn epsg(&self) -> u16 {
        self.epsg
    }

    /// A rectangle in this CRS (x = easting) as lon/lat bounds of its densified outline.
    pub fn rect(&self, r: geo::Rect<f64>) -> Result<geo::Rect<f64>, CrsError> {
        densified_bounds(r, |x, y| self.convert(x, y))
    }

    /// x = easting (or longitude), y = northing (or latitude).
    pub fn convert(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        match &self.proj {
            None => Ok((x, y)),
            Some((src, dst)) => {
                let mut p = (x, y, 0.0);
                proj4rs::transform::transform(src, dst, &mut p).map_err(|e| {
                    CrsError::Transform {
                        epsg: self.epsg,
                        x,
                        y,
                        reason: e.to_string(),
                    }
                })?;
                Ok((p.0.to_degrees(), p.1.to_degrees()))
            }
        }
    }
}

/// Converts model lon/lat degrees to a projected CRS (used by writers and metric computations).
pub struct FromLonLat {
    epsg: u16,
    proj: Option<(Proj, Proj)>,
}

impl FromLonLat {
    pub fn new(epsg: u16) -> Result<FromLonLat, CrsError> {
        check_supported(epsg, &format!("EPSG:{epsg}"))?;
        if is_geographic(epsg) {
            return Ok(FromLonLat { epsg, proj: None });
        }
        Ok(FromLonLat {
            epsg,
            proj: Some((proj_for(4326)?, proj_for(epsg)?)),
        })
    }

    pub fn epsg(&self) -> u16 {
        self.epsg
    }

    /// Every position of a model geometry (lon/lat) in this CRS, x = easting (or longitude).
    /// Writers that need another axis order swap afterwards.
    pub fn geometry(&self, g: &geo::Geometry<f64>) -> Result<geo::Geometry<f64>, CrsError> {
        use geo::MapCoords;
        if self.proj.is_none() {
            return Ok(g.clone());
        }
        g.try_map_coords(|c| {
            let (x, y) = self.convert(c.x, c.y)?;
            Ok(geo::Coord { x, y })
        })
    }

    /// A lon/lat rectangle in this CRS: the bounds of its densified outline (a projected
    /// rectangle is not a rectangle in lon/lat, so corners alone are not enough).
    pub fn rect(&self, r: geo::Rect<f64>) -> Result<geo::Rect<f64>, CrsError> {
        densified_bounds(r, |lon, lat| self.convert(lon, lat))
    }

    pub fn convert(&self, lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
        match &self.proj {
            None => Ok((lon, lat)),
            Some((src, dst)) => {
                let mut p = (lon.to_radians(), lat.to_radians(), 0.0);
                proj4rs::transform::transform(src, dst, &mut p).map_err(|e| {
                    CrsError::Transform {
                        epsg: self.epsg,
                        x: lon,
                        y: lat,
                        reason: e.to_string(),
                    }
                })?;
                Ok((p.0, p.1))
            }
        }
    }
}

/// Generous bounds of Lombardy in lon/lat, to catch swapped axes and wrong CRS declarations.
pub const LOMBARDY_BOUNDS: (f64, f64, f64, f64) = (8.2, 44.5, 11.6, 46.8);

/// Why a lon/lat position outside Lombardy probably is wrong, in Italian, for error messages.
pub fn diagnose_outside_lombardy(lon: f64, lat: f64) -> Option<String> {
    let (minx, miny, maxx, maxy) = LOMBARDY_BOUNDS;
    if (minx..=maxx).contains(&lon) && (miny..=maxy).contains(&lat) {
        return None;
    }
    let swapped = (minx..=maxx).contains(&lat) && (miny..=maxy).contains(&lon);
    let hint = if swapped {
        "le coordinate sembrano invertite (latitudine e longitudine scambiate): controllare l'ordine degli assi"
    } else if lon.abs() > 180.0 || lat.abs() > 90.0 {
        "valori in metri letti come gradi: il sistema di riferimento dichiarato è probabilmente sbagliato"
    } else {
        "il punto cade fuori dalla Lombardia: controllare il sistema di riferimento dichiarato"
    };
    Some(format!(
        "({lon:.5}, {lat:.5}) fuori dalla Lombardia: {hint}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_crs_names_and_geometry_projection() {
        let d = parse_output("http://www.opengis.net/def/crs/OGC/1.3/CRS84").expect("crs84");
        assert_eq!((d.epsg, d.axis), (4326, AxisOrder::EastNorth));
        let d = parse_output("http://www.opengis.net/def/crs/EPSG/0/4326").expect("4326");
        assert_eq!((d.epsg, d.axis), (4326, AxisOrder::NorthEast));
        assert_eq!(parse_output("32632").expect("code").epsg, 32632);
        assert_eq!(parse_output("EPSG:3003").expect("legacy").epsg, 3003);
        // Known to the readers but not offered as an output.
        assert!(parse_output("EPSG:3857").is_err());
        assert!(parse_output("").is_err());

        let to = FromLonLat::new(32632).expect("utm");
        let back = ToLonLat::new(32632).expect("utm");
        let square = geo::Geometry::Polygon(geo::Polygon::new(
            geo::LineString::from(vec![(9.9, 45.9), (10.0, 45.9), (10.0, 46.0), (9.9, 45.9)]),
            vec![],
        ));
        let projected = to.geometry(&square).expect("projects");
        let geo::Geometry::Polygon(p) = &projected else {
            panic!("still a polygon")
        };
        let first = p.exterior().0[0];
        assert_eq!((first.x, first.y), to.convert(9.9, 45.9).expect("point"));
        // The projected bounds hold every projected vertex; back in lon/lat they hold the input.
        let r = to
            .rect(geo::Rect::new((9.9, 45.9), (10.0, 46.0)))
            .expect("rect");
        for c in &p.exterior().0 {
            assert!(r.min().x <= c.x && c.x <= r.max().x && r.min().y <= c.y && c.y <= r.max().y);
        }
        let lonlat = back.rect(r).expect("back");
        assert!(lonlat.min().x <= 9.9 && lonlat.max().x >= 10.0);
        assert!(lonlat.min().y <= 45.9 && lonlat.max().y >= 46.0);
    }

    #[test]
    fn srs_names_give_code_and_axis_order() {
        let d = parse_srs_name("urn:ogc:def:crs:EPSG::6706").expect("known");
        assert_eq!(
            d,
            Declared {
                epsg: 6706,
                axis: AxisOrder::NorthEast
            }
        );
        let d = parse_srs_name("http://www.opengis.net/def/crs/EPSG/0/32632").expect("known");
        assert_eq!(
            d,
            Declared {
                epsg: 32632,
                axis: AxisOrder::EastNorth
            }
        );
        let d = parse_srs_name("EPSG:4326").expect("known");
        assert_eq!(d.axis, AxisOrder::EastNorth);
        assert!(matches!(
            parse_srs_name("urn:ogc:def:crs:EPSG::9999"),
            Err(CrsError::Unknown(_))
        ));
        assert!(parse_srs_name("pippo").is_err());
    }

    #[test]
    fn utm_and_gauss_boaga_match_proj() {
        // Reference: PROJ/PostGIS at Bergamo (9.67, 45.69).
        let to = FromLonLat::new(32632).expect("supported");
        let (x, y) = to.convert(9.67, 45.69).expect("transform");
        assert!(
            (x - 552168.584).abs() < 0.01 && (y - 5059823.574).abs() < 0.01,
            "{x} {y}"
        );
        let back = ToLonLat::new(32632).expect("supported");
        let (lon, lat) = back.convert(x, y).expect("transform");
        assert!((lon - 9.67).abs() < 1e-8 && (lat - 45.69).abs() < 1e-8);

        let gb = FromLonLat::new(3003).expect("supported");
        let (x, y) = gb.convert(9.67, 45.69).expect("transform");
        assert!(
            (x - 1552197.388).abs() < 0.05 && (y - 5059843.913).abs() < 0.05,
            "{x} {y}"
        );
    }

    #[test]
    fn prj_recognised_by_authority_and_name() {
        let wkt = prj_wkt(32632).expect("known");
        assert_eq!(epsg_from_prj(wkt), Ok(32632));
        let esri = r#"PROJCS["WGS_1984_UTM_Zone_32N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        assert_eq!(epsg_from_prj(esri), Ok(32632));
        assert!(epsg_from_prj(r#"PROJCS["Lambert_Pippo"]"#).is_err());
    }

    const ESRI_32632: &str = r#"PROJCS["WGS_1984_UTM_Zone_32N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    #[test]
    fn honest_prj_has_no_differences() {
        for code in SUPPORTED.map(|(c, _)| c) {
            let wkt = prj_wkt(code).expect("known");
            let prj = crs_from_prj(wkt).expect(wkt);
            assert_eq!(prj, PrjCrs::from_epsg(code), "{wkt}");
        }
        assert_eq!(crs_from_prj(ESRI_32632), Ok(PrjCrs::from_epsg(32632)));
    }

    #[test]
    fn own_parameters_of_an_honest_tmerc_give_the_epsg_transform() {
        for code in [32632, 3003, 6707, 25832] {
            let p = parse_wkt(prj_wkt(code).expect("known")).expect("wkt");
            let custom = PrjCrs {
                epsg: code,
                differences: Vec::new(),
                proj: Some(tmerc_proj_string(&p, &p)),
            };
            let a = ToLonLat::new(code).expect("epsg");
            let b = ToLonLat::from_prj(&custom).expect("custom");
            let x = if code == 3003 { 1_570_000.0 } else { 570_000.0 };
            let y = 5_080_000.0;
            let (l1, p1) = a.convert(x, y).expect("epsg");
            let (l2, p2) = b.convert(x, y).expect("custom");
            assert!(
                (l1 - l2).abs() < 1e-9 && (p1 - p2).abs() < 1e-9,
                "EPSG:{code}"
            );
        }
    }

    #[test]
    fn shifted_false_easting_is_honoured() {
        let lying = ESRI_32632.replace("500000.0", "500300.0");
        let prj = crs_from_prj(&lying).expect("readable");
        assert_eq!(prj.epsg, 32632);
        assert_eq!(
            prj.differences,
            vec![PrjDifference {
                parameter: "False_Easting".to_string(),
                found: 500300.0,
                expected: 500000.0
            }]
        );
        let honest = ToLonLat::new(32632).expect("epsg");
        let own = ToLonLat::from_prj(&prj).expect("own");
        let (a, b) = (
            own.convert(570_300.0, 5_080_000.0).expect("own"),
            honest.convert(570_000.0, 5_080_000.0).expect("epsg"),
        );
        assert!((a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9);
    }

    #[test]
    fn contradictions_without_a_transform_are_refused() {
        let lcc = ESRI_32632.replace("Transverse_Mercator", "Lambert_Conformal_Conic");
        let err = crs_from_prj(&lcc).expect_err("method");
        assert!(err.to_string().contains("PROJECTION"), "{err}");
        let geog = prj_wkt(4326)
            .expect("known")
            .replace(r#"PRIMEM["Greenwich",0"#, r#"PRIMEM["Roma",12.4523"#);
        let err = crs_from_prj(&geog).expect_err("prime meridian");
        let msg = err.to_string();
        assert!(msg.contains("PRIMEM") && msg.contains("12.4523"), "{msg}");
        assert!(matches!(
            crs_from_prj(r#"PROJCS["WGS_1984_UTM_Zone_32N""#),
            Err(CrsError::Wkt(_))
        ));
    }

    #[test]
    fn outside_lombardy_is_diagnosed() {
        assert!(diagnose_outside_lombardy(9.93, 45.87).is_none());
        let swapped = diagnose_outside_lombardy(45.87, 9.93).expect("outside");
        assert!(swapped.contains("invertite"), "{swapped}");
        let metres = diagnose_outside_lombardy(570000.0, 5080000.0).expect("outside");
        assert!(metres.contains("metri"), "{metres}");
    }
}
