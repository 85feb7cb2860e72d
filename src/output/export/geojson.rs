//! GeoJSON export, one FeatureCollection per layer with the layer name as a `name` member
//! (GDAL and QGIS show it as the layer name).
//!
//! RFC 7946 GeoJSON is lon/lat (EPSG:4326) only, with no `crs` member: that is the default. In
//! another CRS the file carries the legacy (2008) `crs` member,
//! `{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32632"}}`, which GDAL and
//! QGIS read, and positions easting first, as GDAL writes them (also for EPSG:6707, whose EPSG
//! axis order is northing first). Such a file is not RFC 7946 GeoJSON: web libraries expecting
//! lon/lat will misplace it.

use geojson::{Feature, FeatureCollection, Geometry, JsonObject};
use serde_json::json;

use super::{ExportError, Table};

pub fn to_bytes(t: &Table) -> Result<Vec<u8>, ExportError> {
    let features = t
        .rows
        .iter()
        .map(|r| {
            let props: JsonObject = t
                .columns
                .iter()
                .zip(&r.values)
                .map(|(c, v)| (c.name.to_string(), v.clone()))
                .collect();
            Feature {
                bbox: None,
                geometry: r.geometry.clone().map(Geometry::new),
                id: None,
                properties: Some(props),
                foreign_members: None,
            }
        })
        .collect();
    let mut fm = JsonObject::new();
    fm.insert("name".into(), json!(t.layer));
    if t.epsg != 4326 {
        fm.insert("crs".into(), crs_member(t.epsg));
    }
    let fc = FeatureCollection {
        bbox: None,
        features,
        foreign_members: Some(fm),
    };
    Ok(serde_json::to_vec(&fc)?)
}

/// The legacy GeoJSON `crs` member naming an EPSG CRS by its OGC URN.
pub fn crs_member(epsg: u16) -> serde_json::Value {
    json!({
        "type": "name",
        "properties": { "name": format!("urn:ogc:def:crs:EPSG::{epsg}") },
    })
}
