//! PGT layers as GeoJSON: lon/lat (RFC 7946), or the CRS a legacy `crs` member names
//! (`{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32632"}}`). Coordinates
//! are always easting/longitude first, whatever the axis order of the named CRS.

use geo::Coord;
use geojson::{GeoJson, Value};
use serde_json::Value as Json;

use super::geometry::{project_polygons, RawPolygon, Ring};
use super::mapping::Mappatura;
use super::{
    empty_layer, number_text, read_bytes, unknown_layer, Attributes, LayerSink, PgtError, PgtRead,
    Schema, Source,
};
use crate::crs::{self, ToLonLat};

fn epsg_of(crs: &Json) -> Option<Result<u16, String>> {
    let name = crs.get("properties")?.get("name")?.as_str()?;
    let lower = name.to_ascii_lowercase();
    if lower.ends_with("crs84") || lower.ends_with("crs:84") {
        return Some(Ok(4326));
    }
    Some(
        crs::parse_srs_name(name)
            .map(|d| d.epsg)
            .map_err(|e| e.to_string()),
    )
}

fn ring(points: &[Vec<f64>]) -> Ring {
    points
        .iter()
        .filter(|p| p.len() >= 2)
        .map(|p| Coord { x: p[0], y: p[1] })
        .collect()
}

fn polygon(rings: &[Vec<Vec<f64>>]) -> Option<RawPolygon> {
    let mut it = rings.iter().map(|r| ring(r));
    it.next().map(|outer| (outer, it.collect()))
}

pub(super) fn read(
    source: &Source,
    mappatura: &Mappatura,
    out: &mut PgtRead,
) -> Result<(), PgtError> {
    let path = &source.path;
    let label = &source.label;
    let invalid = |message: String| PgtError::Invalid {
        path: path.clone(),
        message,
    };
    let bytes = read_bytes(path)?;
    let json: Json =
        serde_json::from_slice(&bytes).map_err(|e| invalid(format!("GeoJSON non valido: {e}")))?;
    let layer_name = json.get("name").and_then(Json::as_str).map(str::to_string);
    let epsg = match json.get("crs").and_then(epsg_of) {
        None => 4326,
        Some(Ok(e)) => e,
        Some(Err(message)) => {
            return Err(invalid(format!(
                "sistema di riferimento del membro «crs» non riconosciuto: {message}"
            )))
        }
    };
    let mut names = vec![source.stem.as_str()];
    if let Some(n) = layer_name.as_deref() {
        names.push(n);
    }
    let Some((rule, name)) = mappatura.rule_for(&names) else {
        out.avvisi
            .push(unknown_layer(label, &source.stem, mappatura));
        return Ok(());
    };
    let to_lonlat = ToLonLat::new(epsg).map_err(|e| PgtError::Crs {
        path: path.clone(),
        source: e,
    })?;
    let features = match GeoJson::from_json_value(json)
        .map_err(|e| invalid(format!("GeoJSON non valido: {e}")))?
    {
        GeoJson::FeatureCollection(fc) => fc.features,
        GeoJson::Feature(f) => vec![f],
        GeoJson::Geometry(_) => {
            return Err(invalid(
                "GeoJSON senza attributi (una geometria sola): attesa una FeatureCollection"
                    .to_string(),
            ))
        }
    };
    if features.is_empty() {
        out.avvisi.push(empty_layer(label, name));
        return Ok(());
    }
    let schema = Schema::new(
        features
            .iter()
            .filter_map(|f| f.properties.as_ref())
            .flat_map(|p| p.keys().map(String::as_str)),
    );
    let mut sink = LayerSink::new(
        rule,
        mappatura,
        label.clone(),
        name.to_string(),
        source.comune_istat.clone(),
    );
    if !sink.check_fields(&schema, out) {
        return Ok(());
    }
    let mut other_kinds: Vec<usize> = Vec::new();
    for (index, feature) in features.iter().enumerate() {
        let n = index + 1;
        let polygons: Vec<RawPolygon> = match feature.geometry.as_ref().map(|g| &g.value) {
            None => {
                sink.null(n);
                continue;
            }
            Some(Value::Polygon(p)) => polygon(p).into_iter().collect(),
            Some(Value::MultiPolygon(mp)) => mp.iter().filter_map(|p| polygon(p)).collect(),
            Some(_) => {
                other_kinds.push(n);
                continue;
            }
        };
        let mut attrs = Attributes::default();
        for (k, v) in feature.properties.iter().flatten() {
            let text = match v {
                Json::Null => None,
                Json::String(s) => Some(s.clone()),
                Json::Number(x) => x.as_f64().map(number_text),
                Json::Bool(b) => Some(b.to_string()),
                other => Some(other.to_string()),
            };
            attrs.insert(k, text);
        }
        let geometry =
            project_polygons(polygons, &to_lonlat).map_err(|message| PgtError::Geometry {
                path: path.clone(),
                record: n,
                message,
            })?;
        if geometry.0.is_empty() {
            sink.null(n);
            continue;
        }
        sink.add(n, &attrs, geometry, out);
    }
    if !other_kinds.is_empty() {
        out.avvisi.push(format!(
            "PGT {label}: {} geometrie non poligonali ignorate ({})",
            other_kinds.len(),
            super::record_list(&other_kinds)
        ));
    }
    sink.finish(out);
    Ok(())
}
