//! Coordinate reference systems: which ones abitare knows, their axis order, and the
//! transform of any of them to the model's lon/lat.
//!
//! Geographic CRSs on ETRS89 realisations (RDN2008 EPSG:6706, ETRS89 EPSG:4258) and WGS84
//! (EPSG:4326) differ by less than a metre in Lombardy and are treated as the same datum
//! (DOMAIN.md). Projected CRSs go through `proj4rs`, which applies the Gauss-Boaga datum
//! shift (`+towgs84`) of EPSG:3003/3004.

use proj4rs::Proj;
use thiserror::Error;

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

    pub fn epsg(&self) -> u16 {
        self.epsg
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

    #[test]
    fn outside_lombardy_is_diagnosed() {
        assert!(diagnose_outside_lombardy(9.93, 45.87).is_none());
        let swapped = diagnose_outside_lombardy(45.87, 9.93).expect("outside");
        assert!(swapped.contains("invertite"), "{swapped}");
        let metres = diagnose_outside_lombardy(570000.0, 5080000.0).expect("outside");
        assert!(metres.contains("metri"), "{metres}");
    }
}
