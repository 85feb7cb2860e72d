//! abitare's coordinate transforms (`proj4rs`) against PROJ 9.1.1 / GDAL 3.6.2.
//!
//! The reference values were computed with (lon/lat input, x = easting output):
//!
//! ```text
//! printf '9.93806 45.87345\n9.19000 45.46420\n10.79120 45.15640\n9.87190 46.16990\n' \
//!   | gdaltransform -s_srs EPSG:4326 -t_srs EPSG:<code> -output_xy
//! ```
//!
//! for every code below. `gdaltransform` picks the same operations as `cs2cs EPSG:4326 EPSG:<code>`
//! (`cs2cs` follows the EPSG axis order: `echo "45.87345 9.93806" | cs2cs EPSG:4326 EPSG:6707 -f %.4f`
//! prints `5080414.8778 572801.4777`, northing first, because EPSG:6707 is "RDN2008 / UTM zone 32N
//! (N-E)"; EPSG:7791 is the easting-first twin). For EPSG:3003/3004 PROJ uses "Monte Mario to
//! WGS 84 (4)", the 7-parameter Helmert of the `+towgs84` in abitare's definitions (4 m accuracy).
//!
//! `live_gdaltransform_agrees` repeats the comparison on pseudo-random points in Lombardy when
//! `gdaltransform` is on the PATH.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use abitare::crs::{self, AxisOrder, FromLonLat, ToLonLat};

/// Clusone, Milano, Mantova, Sondrio (lon, lat).
const PLACES: [(&str, f64, f64); 4] = [
    ("Clusone", 9.93806, 45.87345),
    ("Milano", 9.19000, 45.46420),
    ("Mantova", 10.79120, 45.15640),
    ("Sondrio", 9.87190, 46.16990),
];

/// (EPSG code, tolerance in metres (the brief allowed 1 m, 3 m for Gauss-Boaga; measured < 1 mm), reference x/y of each place in `PLACES` order).
type Reference = (u16, f64, [(f64, f64); 4]);

const REFERENCE: [Reference; 7] = [
    (
        6707,
        0.01,
        [
            (572801.4777, 5080414.8778),
            (514853.4959, 5034536.7961),
            (640789.2718, 5001885.3241),
            (567306.1946, 5113294.2823),
        ],
    ),
    (
        7791,
        0.01,
        [
            (572801.4777, 5080414.8778),
            (514853.4959, 5034536.7961),
            (640789.2718, 5001885.3241),
            (567306.1946, 5113294.2823),
        ],
    ),
    (
        32632,
        0.01,
        [
            (572801.4777, 5080414.8779),
            (514853.4959, 5034536.7962),
            (640789.2718, 5001885.3242),
            (567306.1946, 5113294.2825),
        ],
    ),
    (
        32633,
        0.01,
        [
            (107165.0488, 5092459.1888),
            (45808.2910, 5050962.2411),
            (169187.2445, 5008947.4733),
            (104157.8777, 5125720.7459),
        ],
    ),
    (
        3003,
        0.01,
        [
            (1572830.7567, 5080435.5199),
            (1514881.4906, 5034556.8124),
            (1640819.5096, 5001904.2018),
            (1567335.5064, 5113315.5678),
        ],
    ),
    (
        3004,
        0.01,
        [
            (2127166.9008, 5092478.5194),
            (2065808.8622, 5050980.9981),
            (2189189.9819, 5008965.0425),
            (2124159.7827, 5125740.7069),
        ],
    ),
    (
        3857,
        0.01,
        [
            (1106299.7787, 5760092.6341),
            (1023026.1204, 5694898.7276),
            (1201270.8890, 5646177.1625),
            (1098934.8812, 5807617.7422),
        ],
    ),
];

/// Distance in metres between two lon/lat positions a few metres apart (local plane).
fn lonlat_distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let lat = a.1.to_radians();
    let dx = (a.0 - b.0) * 111_320.0 * lat.cos();
    let dy = (a.1 - b.1) * 110_574.0;
    dx.hypot(dy)
}

/// Scale of 3857 at a latitude: its "metres" are 1/cos(lat) ground metres.
fn ground_factor(epsg: u16, lat: f64) -> f64 {
    if epsg == 3857 {
        lat.to_radians().cos()
    } else {
        1.0
    }
}

#[test]
fn every_reference_code_is_supported() {
    for code in [6706, 6707, 7791, 32632, 32633, 3003, 3004, 4326, 3857] {
        assert!(
            crs::SUPPORTED.iter().any(|(c, _)| *c == code),
            "EPSG:{code} missing"
        );
        assert!(ToLonLat::new(code).is_ok(), "EPSG:{code}");
        assert!(FromLonLat::new(code).is_ok(), "EPSG:{code}");
    }
}

#[test]
fn geographic_codes_are_identity() {
    // `gdaltransform -s_srs EPSG:4326 -t_srs EPSG:6706` leaves the values unchanged (to 1e-9°).
    for code in [6706, 4326] {
        let to = ToLonLat::new(code).expect("supported");
        let from = FromLonLat::new(code).expect("supported");
        for (_, lon, lat) in PLACES {
            assert_eq!(to.convert(lon, lat).expect("identity"), (lon, lat));
            assert_eq!(from.convert(lon, lat).expect("identity"), (lon, lat));
        }
    }
}

#[test]
fn projected_codes_match_proj() {
    let mut report = Vec::new();
    for (code, tolerance, refs) in REFERENCE {
        let from = FromLonLat::new(code).expect("supported");
        let to = ToLonLat::new(code).expect("supported");
        let mut worst_forward: f64 = 0.0;
        let mut worst_inverse: f64 = 0.0;
        for ((name, lon, lat), (rx, ry)) in PLACES.into_iter().zip(refs) {
            let (x, y) = from.convert(lon, lat).expect("forward");
            let forward = (x - rx).hypot(y - ry) * ground_factor(code, lat);
            let back = to.convert(rx, ry).expect("inverse");
            let inverse = lonlat_distance_m(back, (lon, lat));
            assert!(
                forward < tolerance && inverse < tolerance,
                "EPSG:{code} {name}: forward ({x:.4}, {y:.4}) vs ({rx}, {ry}) = {forward:.4} m, \
                 inverse {inverse:.4} m"
            );
            worst_forward = worst_forward.max(forward);
            worst_inverse = worst_inverse.max(inverse);
        }
        report.push(format!(
            "EPSG:{code}: max forward {:.2} mm, max inverse {:.2} mm",
            worst_forward * 1000.0,
            worst_inverse * 1000.0
        ));
    }
    // Printed with `cargo test --test crs_reference -- --nocapture`.
    println!("{}", report.join("\n"));
}

#[test]
fn axis_order_of_urn_srs_names_follows_epsg() {
    // EPSG:6707 and 6708 are "(N-E)": northing first in URN/URI srsNames; 7791 is easting first.
    for (srs, axis) in [
        ("urn:ogc:def:crs:EPSG::6707", AxisOrder::NorthEast),
        ("urn:ogc:def:crs:EPSG::6708", AxisOrder::NorthEast),
        ("urn:ogc:def:crs:EPSG::7791", AxisOrder::EastNorth),
        (
            "http://www.opengis.net/def/crs/EPSG/0/7791",
            AxisOrder::EastNorth,
        ),
        ("urn:ogc:def:crs:EPSG::32632", AxisOrder::EastNorth),
        ("urn:ogc:def:crs:EPSG::3003", AxisOrder::EastNorth),
        ("urn:ogc:def:crs:EPSG::6706", AxisOrder::NorthEast),
        ("urn:ogc:def:crs:EPSG::4326", AxisOrder::NorthEast),
        ("EPSG:6707", AxisOrder::EastNorth),
    ] {
        assert_eq!(crs::parse_srs_name(srs).expect(srs).axis, axis, "{srs}");
    }
}

/// `.prj` files written by GDAL 3.6 (`ogr2ogr -t_srs EPSG:<code> out.shp in.geojson`, the same
/// text as `gdalsrsinfo -o wkt_esri EPSG:<code>`), as QGIS writes them through GDAL.
const ESRI_PRJ: [(u16, &str); 9] = [
    (
        6706,
        r#"GEOGCS["GCS_RDN2008",DATUM["D_Rete_Dinamica_Nazionale_2008",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#,
    ),
    (
        6707,
        r#"PROJCS["RDN2008_TM32",GEOGCS["GCS_RDN2008",DATUM["D_Rete_Dinamica_Nazionale_2008",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#,
    ),
    (
        7791,
        r#"PROJCS["RDN2008_UTM_zone_32N",GEOGCS["GCS_RDN2008",DATUM["D_Rete_Dinamica_Nazionale_2008",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#,
    ),
    (
        32632,
        r#"PROJCS["WGS_1984_UTM_Zone_32N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#,
    ),
    (
        32633,
        r#"PROJCS["WGS_1984_UTM_Zone_33N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",15.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#,
    ),
    (
        3003,
        r#"PROJCS["Monte_Mario_Italy_1",GEOGCS["GCS_Monte_Mario",DATUM["D_Monte_Mario",SPHEROID["International_1924",6378388.0,297.0]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",1500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#,
    ),
    (
        3004,
        r#"PROJCS["Monte_Mario_Italy_2",GEOGCS["GCS_Monte_Mario",DATUM["D_Monte_Mario",SPHEROID["International_1924",6378388.0,297.0]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",2520000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",15.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#,
    ),
    (
        4326,
        r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#,
    ),
    (
        3857,
        r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]"#,
    ),
];

#[test]
fn esri_prj_written_by_gdal_is_recognised() {
    for (code, wkt) in ESRI_PRJ {
        assert_eq!(crs::epsg_from_prj(wkt), Ok(code), "{wkt}");
        // Their parameters are those of the EPSG definition: no warning, the EPSG transform.
        assert_eq!(
            crs::crs_from_prj(wkt),
            Ok(crs::PrjCrs::from_epsg(code)),
            "{wkt}"
        );
    }
}

#[test]
fn wkt1_with_authority_is_recognised() {
    for code in [6706, 6707, 7791, 32632, 32633, 3003, 3004, 4326, 3857] {
        let wkt = crs::prj_wkt(code).expect("known");
        assert_eq!(crs::epsg_from_prj(wkt), Ok(code), "{wkt}");
    }
}

#[test]
fn gml_axis_swap_is_diagnosed() {
    // A 6706 posList read as lon/lat instead of lat/lon puts Clusone at (45.87, 9.94).
    let (lon, lat) = (9.93806, 45.87345);
    assert!(crs::diagnose_outside_lombardy(lon, lat).is_none());
    let msg = crs::diagnose_outside_lombardy(lat, lon).expect("outside");
    assert!(msg.contains("invertite"), "{msg}");
    assert!(msg.contains("45.87345"), "{msg}");
}

#[test]
fn metres_declared_as_degrees_are_diagnosed() {
    // UTM metres of Clusone in a file declared EPSG:4326 / 6706.
    for (x, y) in [
        (572801.4777, 5080414.8778),
        (1572830.7567, 5080435.5199),
        (5080414.8778, 572801.4777),
    ] {
        let msg = crs::diagnose_outside_lombardy(x, y).expect("outside");
        assert!(msg.contains("metri"), "{msg}");
    }
    // Degrees of a place outside Lombardy (Roma) get the generic hint.
    let msg = crs::diagnose_outside_lombardy(12.49, 41.89).expect("outside");
    assert!(msg.contains("sistema di riferimento"), "{msg}");
}

/// A small deterministic generator (no dependency needed).
struct Lcg(u64);

impl Lcg {
    fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn gdaltransform(code: u16, points: &[(f64, f64)]) -> Option<Vec<(f64, f64)>> {
    let mut child = Command::new("gdaltransform")
        .args(["-s_srs", "EPSG:4326", "-t_srs"])
        .arg(format!("EPSG:{code}"))
        .arg("-output_xy")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let input: String = points
        .iter()
        .map(|(lon, lat)| format!("{lon:.9} {lat:.9}\n"))
        .collect();
    child.stdin.take()?.write_all(input.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let parsed: Vec<(f64, f64)> = text
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace().map(|v| v.parse::<f64>());
            match (it.next(), it.next()) {
                (Some(Ok(x)), Some(Ok(y))) => Some((x, y)),
                _ => None,
            }
        })
        .collect();
    (parsed.len() == points.len()).then_some(parsed)
}

#[test]
fn live_gdaltransform_agrees() {
    let found = Command::new("gdaltransform")
        .arg("--version")
        .output()
        .is_ok();
    if !common::available_or_skip(found, "gdaltransform not on the PATH") {
        return;
    }
    let (minx, miny, maxx, maxy) = (8.5, 44.7, 11.4, 46.6);
    let mut rng = Lcg(0x05ee_dab1_7a4e);
    let points: Vec<(f64, f64)> = (0..200)
        .map(|_| {
            (
                minx + (maxx - minx) * rng.next_f64(),
                miny + (maxy - miny) * rng.next_f64(),
            )
        })
        .collect();
    for (code, tolerance) in [
        (6707, 0.01),
        (7791, 0.01),
        (32632, 0.01),
        (32633, 0.01),
        (3003, 0.01),
        (3004, 0.01),
        (3857, 0.01),
    ] {
        let reference = gdaltransform(code, &points)
            .unwrap_or_else(|| panic!("gdaltransform EPSG:{code} non ha risposto"));
        let from = FromLonLat::new(code).expect("supported");
        let to = ToLonLat::new(code).expect("supported");
        let mut worst: f64 = 0.0;
        for (&(lon, lat), &(rx, ry)) in points.iter().zip(&reference) {
            let (x, y) = from.convert(lon, lat).expect("forward");
            let forward = (x - rx).hypot(y - ry) * ground_factor(code, lat);
            let inverse = lonlat_distance_m(to.convert(rx, ry).expect("inverse"), (lon, lat));
            worst = worst.max(forward).max(inverse);
        }
        println!("EPSG:{code}: max difference {:.2} mm", worst * 1000.0);
        assert!(worst < tolerance, "EPSG:{code}: {worst} m");
    }
}
