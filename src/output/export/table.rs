//! The layer as a table: the registry's columns, in its order and declared kinds, one row per
//! feature with its geometry. Every format writes from a [`Table`]: built in lon/lat
//! (EPSG:4326, the model's coordinates), then, for a drafter's grid, projected once
//! ([`Table::in_crs`]) so that every writer declares the CRS its coordinates are in.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde_json::Value;

use super::{bbox, check, type_name, ExportError, Interrupt, ROW_CHUNK};
use crate::analysis::Analisi;
use crate::crs::{CrsError, FromLonLat};
use crate::model::Comune;
use crate::output::geojson::{layer_features, layer_index, layer_len, layer_properties};
use crate::output::layers::{Audience, Layer, LayerInfo};

pub use crate::output::layers::{Column, Kind};

/// One feature: geometry (GeoJSON value, in the table's CRS, x = easting or longitude) and one
/// value per column.
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
    /// EPSG code of the geometries' coordinates: 4326 as built, another of
    /// [`crate::crs::OUTPUT`] after [`Table::in_crs`]. x is always easting (or longitude),
    /// as GeoPackage, GeoParquet, WKT and GDAL's GeoJSON write it, whatever the EPSG axis order.
    pub epsg: u16,
    /// ISTAT code of the comune the rows were restricted to, if any.
    pub comune: Option<String>,
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

    /// Whether the coordinates are degrees (a geographic CRS) rather than metres.
    pub fn is_geographic(&self) -> bool {
        crate::crs::is_geographic(self.epsg)
    }

    /// The same table with every position projected from lon/lat to `to`'s CRS, rounded to
    /// the millimetre (a geographic `to` leaves the positions as they are).
    pub fn in_crs(&self, to: &FromLonLat) -> Result<Table, ExportError> {
        if self.epsg != 4326 {
            return Err(ExportError::Crs(CrsError::Transform {
                epsg: self.epsg,
                x: 0.0,
                y: 0.0,
                reason: "la tabella è già proiettata".into(),
            }));
        }
        let geographic = crate::crs::is_geographic(to.epsg());
        let rows = self
            .rows
            .iter()
            .map(|r| {
                let geometry = match &r.geometry {
                    Some(g) if !geographic => Some(project(g, to)?),
                    other => other.clone(),
                };
                Ok(Row {
                    geometry,
                    values: r.values.clone(),
                })
            })
            .collect::<Result<Vec<_>, CrsError>>()?;
        Ok(Table {
            rows,
            epsg: to.epsg(),
            ..self.clone()
        })
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

/// Every position of a GeoJSON geometry from lon/lat to `to`, rounded to the millimetre.
fn project(g: &::geojson::Value, to: &FromLonLat) -> Result<::geojson::Value, CrsError> {
    use ::geojson::Value as G;
    let mm = |v: f64| (v * 1e3).round() / 1e3;
    let pos = |p: &Vec<f64>| -> Result<Vec<f64>, CrsError> {
        match p.as_slice() {
            [x, y, rest @ ..] => {
                let (e, n) = to.convert(*x, *y)?;
                let mut out = vec![mm(e), mm(n)];
                out.extend_from_slice(rest);
                Ok(out)
            }
            _ => Ok(p.clone()),
        }
    };
    let line = |ps: &Vec<Vec<f64>>| ps.iter().map(pos).collect::<Result<Vec<_>, _>>();
    let rings = |ls: &Vec<Vec<Vec<f64>>>| ls.iter().map(line).collect::<Result<Vec<_>, _>>();
    Ok(match g {
        G::Point(p) => G::Point(pos(p)?),
        G::MultiPoint(ps) => G::MultiPoint(line(ps)?),
        G::LineString(ps) => G::LineString(line(ps)?),
        G::MultiLineString(ls) => G::MultiLineString(rings(ls)?),
        G::Polygon(ls) => G::Polygon(rings(ls)?),
        G::MultiPolygon(polys) => {
            G::MultiPolygon(polys.iter().map(rings).collect::<Result<Vec<_>, _>>()?)
        }
        G::GeometryCollection(gs) => G::GeometryCollection(
            gs.iter()
                .map(|x| {
                    Ok(::geojson::Geometry {
                        value: project(&x.value, to)?,
                        ..x.clone()
                    })
                })
                .collect::<Result<Vec<_>, CrsError>>()?,
        ),
    })
}

/// How the rows of a layer are assigned to a comune ([`comune_rows`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComuneRule {
    /// The layer's `comune_istat` (or, for the comuni themselves, `istat`) equals the comune's
    /// ISTAT code.
    Istat(&'static str),
    /// The cadastral layers: `belfiore` equals the comune's cadastral code (a parcel belongs
    /// to the cadastre of one comune, even where it touches the next one).
    Belfiore,
    /// No comune column: the geometry intersects the comune's boundary.
    Spatial,
}

/// The rule that assigns `layer`'s rows to a comune, from the layer's columns in the registry.
/// Rows whose column is empty fall back to [`ComuneRule::Spatial`].
pub fn comune_rule(info: &LayerInfo) -> ComuneRule {
    if let Some(c) = ["comune_istat", "istat"]
        .into_iter()
        .find(|c| info.column(c).is_some())
    {
        ComuneRule::Istat(c)
    } else if info.column("belfiore").is_some() {
        ComuneRule::Belfiore
    } else {
        ComuneRule::Spatial
    }
}

/// Positions (in layer order) of the features of `layer` that belong to `comune` by
/// [`comune_rule`]; a feature whose comune column is empty belongs to it when its geometry
/// intersects the comune's boundary (candidates from the layer's R-tree, then an exact test).
pub fn comune_rows(a: &Analisi, layer: Layer, comune: &Comune) -> Vec<usize> {
    use geo::{BoundingRect, Intersects};
    let (key, wanted) = match comune_rule(layer.info()) {
        ComuneRule::Istat(key) => (Some(key), comune.istat.as_str()),
        ComuneRule::Belfiore => (Some("belfiore"), comune.belfiore.as_str()),
        ComuneRule::Spatial => (None, ""),
    };
    let mut out = Vec::new();
    let mut unassigned = Vec::new();
    match key {
        Some(key) => {
            for (i, f) in layer_properties(a, layer, None).into_iter().enumerate() {
                match f.properties.as_ref().and_then(|p| p.get(key)) {
                    Some(Value::String(s)) if !s.is_empty() => {
                        if s == wanted {
                            out.push(i);
                        }
                    }
                    _ => unassigned.push(i),
                }
            }
        }
        None => unassigned = (0..layer_len(a, layer)).collect(),
    }
    if unassigned.is_empty() {
        return out;
    }
    let Some(bounds) = comune.geometry.bounding_rect() else {
        return out;
    };
    let near: BTreeSet<usize> = layer_index(a, layer)
        .query_bbox(bounds)
        .into_iter()
        .collect();
    let candidates: Vec<usize> = unassigned
        .into_iter()
        .filter(|i| near.contains(i))
        .collect();
    for (i, f) in candidates
        .iter()
        .zip(layer_features(a, layer, Some(&candidates)))
    {
        let g: Option<geo::Geometry<f64>> = f.geometry.and_then(|g| g.value.try_into().ok());
        if g.is_some_and(|g| g.intersects(&comune.geometry)) {
            out.push(*i);
        }
    }
    out.sort_unstable();
    out
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
        epsg: 4326,
        comune: None,
    }
}

/// [`table`], asking `stop` before every [`ROW_CHUNK`] rows.
pub fn table_until(a: &Analisi, layer: Layer, stop: Interrupt<'_>) -> Result<Table, ExportError> {
    table_of(a, layer, None, stop)
}

/// The table of the rows of `layer` that belong to `comune` ([`comune_rows`]), or of every
/// row when `comune` is `None`, asking `stop` before every [`ROW_CHUNK`] rows.
pub fn table_of(
    a: &Analisi,
    layer: Layer,
    comune: Option<&Comune>,
    stop: Interrupt<'_>,
) -> Result<Table, ExportError> {
    let info = layer.info();
    let columns: Vec<Column> = info.columns.to_vec();
    check(stop)?;
    let positions: Vec<usize> = match comune {
        Some(c) => comune_rows(a, layer, c),
        None => (0..layer_len(a, layer)).collect(),
    };
    let mut all = Vec::with_capacity(positions.len());
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
        epsg: 4326,
        comune: comune.map(|c| c.istat.clone()),
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
