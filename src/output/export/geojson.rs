//! GeoJSON export (RFC 7946: lon/lat, no `crs` member), one FeatureCollection per layer with
//! the layer name as a `name` member (GDAL and QGIS show it as the layer name).

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
    let fc = FeatureCollection {
        bbox: None,
        features,
        foreign_members: Some(fm),
    };
    Ok(serde_json::to_vec(&fc)?)
}
