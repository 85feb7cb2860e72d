//! The layer as a table: the registry's columns, in its order and declared kinds, one row per
//! feature with its geometry. Every format writes from a [`Table`].

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde_json::Value;

use super::{bbox, check, type_name, ExportError, Interrupt, ROW_CHUNK};
use crate::analysis::Analisi;
use crate::output::geojson::layer_features;
use crate::output::layers::{Audience, Layer, LayerInfo};

pub use crate::output::layers::{Column, Kind};

/// One feature: geometry (GeoJSON value, lon/lat) and one value per column.
#[derive(Debug, Clone)]
pub struct Row {
    pub geometry: Option<::geojson::Value>,
    pub values: Vec<Value>,
}

/// A layer ready for any format.
#[derive(Debug, Clone)]
pub struct Table {
    pub layer: &'static str,
    /// The layer's entry in the registry (title, palette).
    pub info: &'static LayerInfo,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// The audience the rows were rendered for (what else a format writes beside them, such
    /// as the XLSX vacancy sheet, is protected for it too).
    pub caller: Audience,
}

impl Table {
    /// Geometry types present (`Point`, `MultiPolygon`, …), sorted.
    pub fn geometry_types(&self) -> Vec<&'static str> {
        let set: BTreeSet<&'static str> = self
            .rows
            .iter()
            .filter_map(|r| r.geometry.as_ref().map(type_name))
            .collect();
        set.into_iter().collect()
    }

    /// The one geometry type of the layer, or `GEOMETRY` when mixed or empty.
    pub fn geometry_type(&self) -> &'static str {
        match self.geometry_types().as_slice() {
            [one] => one,
            _ => "Geometry",
        }
    }

    /// Whether every geometry is a point (lon/lat columns make sense).
    pub fn is_point_layer(&self) -> bool {
        self.geometry_types() == ["Point"]
    }

    /// Bounding box `[minx, miny, maxx, maxy]` of all geometries.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        self.rows
            .iter()
            .filter_map(|r| r.geometry.as_ref().and_then(bbox))
            .reduce(|a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            })
    }
}

fn is_iso_date(s: &str) -> bool {
    s.len() == 10 && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// Whether a property value is of its column's declared kind (null fits any kind). The tests
/// check every rendered value of every layer with it, so a property whose type drifts from
/// the registry is caught.
pub fn value_fits(v: &Value, kind: Kind) -> bool {
    match (kind, v) {
        (_, Value::Null) => true,
        (Kind::Text, Value::String(_)) => true,
        (Kind::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (Kind::Real, Value::Number(_)) => true,
        (Kind::Boolean, Value::Bool(_)) => true,
        (Kind::Date, Value::String(s)) => is_iso_date(s),
        _ => false,
    }
}

/// Normalises a value to its column's kind (numbers in a text column become text, and so on).
fn coerce(v: Value, kind: Kind) -> Value {
    match (kind, v) {
        (_, Value::Null) => Value::Null,
        (Kind::Text, Value::String(s)) => Value::String(s),
        (Kind::Text, other) => Value::String(other.to_string()),
        (_, v) => v,
    }
}

/// The table of a layer: the registry's columns, in its order and types.
pub fn table(a: &Analisi, layer: Layer) -> Table {
    let info = layer.info();
    let columns: Vec<Column> = info.columns.to_vec();
    let rows = rows(a, layer, &columns, None);
    Table {
        layer: info.name,
        info,
        columns,
        rows,
        caller: layer.caller(),
    }
}

/// [`table`], asking `stop` before every [`ROW_CHUNK`] rows.
pub fn table_until(a: &Analisi, layer: Layer, stop: Interrupt<'_>) -> Result<Table, ExportError> {
    let info = layer.info();
    let columns: Vec<Column> = info.columns.to_vec();
    let n = crate::output::geojson::layer_len(a, layer);
    let mut all = Vec::with_capacity(n);
    let positions: Vec<usize> = (0..n).collect();
    for chunk in positions.chunks(ROW_CHUNK) {
        check(stop)?;
        all.extend(rows(a, layer, &columns, Some(chunk)));
    }
    Ok(Table {
        layer: info.name,
        info,
        columns,
        rows: all,
        caller: layer.caller(),
    })
}

fn rows(a: &Analisi, layer: Layer, columns: &[Column], selection: Option<&[usize]>) -> Vec<Row> {
    layer_features(a, layer, selection)
        .into_iter()
        .map(|f| {
            let mut props = f.properties.unwrap_or_default();
            let values = columns
                .iter()
                .map(|c| coerce(props.remove(c.name).unwrap_or(Value::Null), c.kind))
                .collect();
            Row {
                geometry: f.geometry.map(|g| g.value),
                values,
            }
        })
        .collect()
}
