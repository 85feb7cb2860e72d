//! GeoParquet 1.1 export, written with the `parquet` crate's column writers (no Arrow):
//! the layer's columns, a WKB `geometry` column and a `bbox` covering struct
//! (`xmin`, `ymin`, `xmax`, `ymax`), with the `geo` file metadata. In EPSG:4326 the CRS is
//! omitted, which GeoParquet reads as OGC:CRS84 (lon/lat); in another CRS the column's `crs`
//! is the full PROJJSON of the EPSG definition (`data/projjson/EPSG_<code>.json`, written by
//! `projinfo -o PROJJSON --single-line -q EPSG:<code>` of PROJ 9.1.1), and the bbox columns and
//! metadata are in that CRS. Coordinates are x = easting, as the specification requires
//! whatever the CRS's axis order. Snappy compression, one row group.

use std::sync::Arc;

use chrono::NaiveDate;
use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{Type, TypePtr};
use serde_json::{json, Value};

use super::{bbox, wkb, ExportError, Kind, Table};

/// Name of the geometry column.
pub const GEOMETRY_COLUMN: &str = "geometry";
/// Name of the bounding-box covering column.
pub const BBOX_COLUMN: &str = "bbox";

fn primitive(name: &str, kind: Kind) -> Result<TypePtr, ExportError> {
    let (physical, logical) = match kind {
        Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
        Kind::Integer => (Physical::INT64, None),
        Kind::Real => (Physical::DOUBLE, None),
        Kind::Boolean => (Physical::BOOLEAN, None),
        Kind::Date => (Physical::INT32, Some(LogicalType::Date)),
    };
    Ok(Arc::new(
        Type::primitive_type_builder(name, physical)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(logical)
            .build()?,
    ))
}

/// The PROJJSON of an output CRS other than EPSG:4326.
pub fn projjson(epsg: u16) -> Option<&'static str> {
    Some(match epsg {
        32632 => include_str!("../../../data/projjson/EPSG_32632.json"),
        25832 => include_str!("../../../data/projjson/EPSG_25832.json"),
        6707 => include_str!("../../../data/projjson/EPSG_6707.json"),
        7791 => include_str!("../../../data/projjson/EPSG_7791.json"),
        3003 => include_str!("../../../data/projjson/EPSG_3003.json"),
        6706 => include_str!("../../../data/projjson/EPSG_6706.json"),
        _ => return None,
    })
}

/// The `crs` of the geometry column: the PROJJSON, or (for a CRS without one here) the
/// identifier-only PROJJSON the specification allows.
fn crs_value(epsg: u16) -> Value {
    projjson(epsg)
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_else(|| json!({"id": {"authority": "EPSG", "code": epsg}}))
}

/// The `geo` metadata (GeoParquet 1.1.0) of a table.
pub fn geo_metadata(t: &Table) -> Value {
    let mut column = json!({
        "encoding": "WKB",
        "geometry_types": t.geometry_types(),
        "covering": {
            "bbox": {
                "xmin": [BBOX_COLUMN, "xmin"],
                "ymin": [BBOX_COLUMN, "ymin"],
                "xmax": [BBOX_COLUMN, "xmax"],
                "ymax": [BBOX_COLUMN, "ymax"],
            }
        },
    });
    if let Some(obj) = column.as_object_mut() {
        if let Some(b) = t.bbox() {
            obj.insert("bbox".into(), json!(b));
        }
        if t.epsg != 4326 {
            obj.insert("crs".into(), crs_value(t.epsg));
        }
    }
    json!({
        "version": "1.1.0",
        "primary_column": GEOMETRY_COLUMN,
        "columns": { GEOMETRY_COLUMN: column },
    })
}

fn epoch_days(s: &str) -> Option<i32> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((d - epoch).num_days()).ok()
}

pub fn to_bytes(t: &Table) -> Result<Vec<u8>, ExportError> {
    // Properties that would clash with the geometry columns are left out (none do today).
    let columns: Vec<usize> = (0..t.columns.len())
        .filter(|&i| {
            let n = t.columns[i].name;
            n != GEOMETRY_COLUMN && n != BBOX_COLUMN
        })
        .collect();
    let mut fields: Vec<TypePtr> = columns
        .iter()
        .map(|&i| primitive(t.columns[i].name, t.columns[i].kind))
        .collect::<Result<_, _>>()?;
    fields.push(Arc::new(
        Type::primitive_type_builder(GEOMETRY_COLUMN, Physical::BYTE_ARRAY)
            .with_repetition(Repetition::OPTIONAL)
            .build()?,
    ));
    let corner = |n: &str| -> Result<TypePtr, ExportError> {
        Ok(Arc::new(
            Type::primitive_type_builder(n, Physical::DOUBLE)
                .with_repetition(Repetition::REQUIRED)
                .build()?,
        ))
    };
    fields.push(Arc::new(
        Type::group_type_builder(BBOX_COLUMN)
            .with_repetition(Repetition::OPTIONAL)
            .with_fields(vec![
                corner("xmin")?,
                corner("ymin")?,
                corner("xmax")?,
                corner("ymax")?,
            ])
            .build()?,
    ));
    let schema = Arc::new(
        Type::group_type_builder("schema")
            .with_fields(fields)
            .build()?,
    );
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "geo".to_string(),
            geo_metadata(t).to_string(),
        )]))
        .build();
    let mut writer = SerializedFileWriter::new(Vec::new(), schema, Arc::new(props))?;
    let mut rg = writer.next_row_group()?;

    for &i in &columns {
        let kind = t.columns[i].kind;
        let cells = t.rows.iter().map(|r| &r.values[i]);
        let Some(mut col) = rg.next_column()? else {
            break;
        };
        let mut defs: Vec<i16> = Vec::with_capacity(t.rows.len());
        match kind {
            Kind::Text => {
                let mut vals = Vec::new();
                for c in cells {
                    match c {
                        Value::Null => defs.push(0),
                        Value::String(s) => {
                            defs.push(1);
                            vals.push(ByteArray::from(s.as_str()));
                        }
                        other => {
                            defs.push(1);
                            vals.push(ByteArray::from(other.to_string().as_str()));
                        }
                    }
                }
                col.typed::<ByteArrayType>()
                    .write_batch(&vals, Some(&defs), None)?;
            }
            Kind::Integer => {
                let mut vals = Vec::new();
                for c in cells {
                    match c.as_i64() {
                        Some(v) => {
                            defs.push(1);
                            vals.push(v);
                        }
                        None => defs.push(0),
                    }
                }
                col.typed::<Int64Type>()
                    .write_batch(&vals, Some(&defs), None)?;
            }
            Kind::Real => {
                let mut vals = Vec::new();
                for c in cells {
                    match c.as_f64() {
                        Some(v) => {
                            defs.push(1);
                            vals.push(v);
                        }
                        None => defs.push(0),
                    }
                }
                col.typed::<DoubleType>()
                    .write_batch(&vals, Some(&defs), None)?;
            }
            Kind::Boolean => {
                let mut vals = Vec::new();
                for c in cells {
                    match c.as_bool() {
                        Some(v) => {
                            defs.push(1);
                            vals.push(v);
                        }
                        None => defs.push(0),
                    }
                }
                col.typed::<BoolType>()
                    .write_batch(&vals, Some(&defs), None)?;
            }
            Kind::Date => {
                let mut vals = Vec::new();
                for c in cells {
                    match c.as_str().and_then(epoch_days) {
                        Some(v) => {
                            defs.push(1);
                            vals.push(v);
                        }
                        None => defs.push(0),
                    }
                }
                col.typed::<Int32Type>()
                    .write_batch(&vals, Some(&defs), None)?;
            }
        }
        col.close()?;
    }

    // geometry
    if let Some(mut col) = rg.next_column()? {
        let mut defs = Vec::with_capacity(t.rows.len());
        let mut vals = Vec::new();
        for r in &t.rows {
            match &r.geometry {
                Some(g) => {
                    defs.push(1);
                    vals.push(ByteArray::from(wkb(g)));
                }
                None => defs.push(0),
            }
        }
        col.typed::<ByteArrayType>()
            .write_batch(&vals, Some(&defs), None)?;
        col.close()?;
    }

    // bbox.xmin, bbox.ymin, bbox.xmax, bbox.ymax
    let boxes: Vec<Option<[f64; 4]>> = t
        .rows
        .iter()
        .map(|r| r.geometry.as_ref().and_then(bbox))
        .collect();
    for corner in [0usize, 1, 2, 3] {
        let Some(mut col) = rg.next_column()? else {
            break;
        };
        let defs: Vec<i16> = boxes.iter().map(|b| i16::from(b.is_some())).collect();
        let vals: Vec<f64> = boxes.iter().flatten().map(|b| b[corner]).collect();
        col.typed::<DoubleType>()
            .write_batch(&vals, Some(&defs), None)?;
        col.close()?;
    }
    rg.close()?;
    Ok(writer.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_output_crs_but_lon_lat_has_its_projjson() {
        for code in crate::crs::OUTPUT {
            let v = crs_value(code);
            if code == 4326 {
                continue;
            }
            assert!(projjson(code).is_some(), "EPSG:{code}");
            assert_eq!(v["id"]["authority"], "EPSG", "EPSG:{code}");
            assert_eq!(v["id"]["code"], code, "EPSG:{code}");
            assert!(
                v["name"].is_string() && v["type"].is_string(),
                "EPSG:{code}"
            );
        }
    }
}
