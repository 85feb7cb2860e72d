//! GeoPackage export (OGC 12-128r18, version 1.2) through `rusqlite`: one feature table per
//! layer in the tables' CRS (EPSG:4326 lon/lat by default, or a drafter's grid: a
//! `gpkg_spatial_ref_sys` row with the EPSG WKT, the srs_id of the contents, the geometry
//! columns and every blob, the envelopes and R-tree in the projected coordinates, x = easting
//! as GDAL writes and reads them whatever the EPSG axis order), geometries as GeoPackage
//! blobs (header, envelope, ISO WKB),
//! an R-tree spatial index per table (`gpkg_rtree_index`, with the standard triggers), and a
//! QGIS `layer_styles` table holding a QML and an SLD style per layer, the default one, so
//! QGIS opens each layer with the web map's colours and Italian field aliases.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::types::Value as Sql;
use rusqlite::{params, Connection};
use serde_json::Value;

use super::{bbox, wkb, ExportError, Interrupt, Kind, Table};
use crate::crs;
use crate::output::layers::{Display, GeometryKind, Palette};

/// Name of the geometry column of every feature table.
pub const GEOMETRY_COLUMN: &str = "geom";

const WGS84_WKT: &str = "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AXIS[\"Latitude\",NORTH],AXIS[\"Longitude\",EAST],AUTHORITY[\"EPSG\",\"4326\"]]";

const CORE_TABLES: &str = "
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
CREATE TABLE layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
  styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));
";

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn sql_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "TEXT",
        Kind::Integer => "INTEGER",
        Kind::Real => "REAL",
        Kind::Boolean => "BOOLEAN",
        Kind::Date => "DATE",
    }
}

fn sql_value(v: &Value, kind: Kind) -> Sql {
    match (v, kind) {
        (Value::Null, _) => Sql::Null,
        (Value::Bool(b), _) => Sql::Integer(i64::from(*b)),
        (Value::Number(n), Kind::Integer) => n.as_i64().map(Sql::Integer).unwrap_or(Sql::Null),
        (Value::Number(n), _) => n.as_f64().map(Sql::Real).unwrap_or(Sql::Null),
        (Value::String(s), _) => Sql::Text(s.clone()),
        (other, _) => Sql::Text(other.to_string()),
    }
}

/// A GeoPackage geometry blob: `GP`, version 0, flags (little endian, envelope `[minx, maxx,
/// miny, maxy]` except for points), SRS id, then ISO WKB.
pub fn gp_blob(g: &geojson::Value, srs_id: i32) -> Vec<u8> {
    let envelope = match g {
        geojson::Value::Point(_) => None,
        other => bbox(other),
    };
    let mut out = Vec::with_capacity(48);
    out.extend_from_slice(b"GP");
    out.push(0);
    let envelope_code: u8 = if envelope.is_some() { 1 } else { 0 };
    out.push((envelope_code << 1) | 1);
    out.extend_from_slice(&srs_id.to_le_bytes());
    if let Some(b) = envelope {
        for v in [b[0], b[2], b[1], b[3]] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out.extend_from_slice(&wkb(g));
    out
}

/// Writes the tables as a new GeoPackage at `path` (which must not exist).
pub fn write(path: &Path, tables: &[Table]) -> Result<(), ExportError> {
    write_until(path, tables, &|| false)
}

fn write_until(path: &Path, tables: &[Table], stop: Interrupt<'_>) -> Result<(), ExportError> {
    let mut conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA application_id = 1196444487; PRAGMA user_version = 10200;")?;
    let tx = conn.transaction()?;
    tx.execute_batch(CORE_TABLES)?;
    tx.execute(
        "INSERT INTO gpkg_spatial_ref_sys VALUES
           ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
           ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
           ('WGS 84 geodetic', 4326, 'EPSG', 4326, ?1, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')",
        params![WGS84_WKT],
    )?;
    let mut codes: Vec<u16> = tables
        .iter()
        .map(|t| t.epsg)
        .filter(|c| *c != 4326)
        .collect();
    codes.sort_unstable();
    codes.dedup();
    for code in codes {
        insert_srs(&tx, code)?;
    }
    for t in tables {
        if stop() {
            return Err(ExportError::Interrupted);
        }
        write_table(&tx, t)?;
    }
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
         VALUES ('layer_styles', 'attributes', 'layer_styles', 'Stili QGIS dei layer')",
        [],
    )?;
    tx.commit()?;
    Ok(())
}

/// The `gpkg_spatial_ref_sys` row of an EPSG CRS: its name and WKT1 (with the EPSG
/// authority) from the definitions the readers check `.prj` files against.
fn insert_srs(tx: &rusqlite::Transaction<'_>, epsg: u16) -> Result<(), ExportError> {
    let definition = crs::prj_wkt(epsg)
        .ok_or_else(|| ExportError::Crs(crs::CrsError::Unknown(format!("EPSG:{epsg}"))))?;
    // The CRS name is the first quoted string of the WKT (`PROJCS["WGS 84 / UTM zone 32N",`).
    let name = definition.split('"').nth(1).unwrap_or("");
    let description = crs::SUPPORTED
        .iter()
        .find(|(c, _)| *c == epsg)
        .map_or("", |(_, d)| d);
    tx.execute(
        "INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, 'EPSG', ?2, ?3, ?4)",
        params![name, epsg, definition, description],
    )?;
    Ok(())
}

fn write_table(tx: &rusqlite::Transaction<'_>, t: &Table) -> Result<(), ExportError> {
    let name = t.layer;
    let srs = i32::from(t.epsg);
    let geom_type = t.geometry_type().to_ascii_uppercase();
    let mut ddl = format!(
        "CREATE TABLE {} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, {} {geom_type}",
        quote(name),
        quote(GEOMETRY_COLUMN)
    );
    for c in &t.columns {
        let _ = write!(ddl, ", {} {}", quote(c.name), sql_type(c.kind));
    }
    ddl.push(')');
    tx.execute_batch(&ddl)?;

    let placeholders: Vec<String> = (1..=t.columns.len() + 1).map(|i| format!("?{i}")).collect();
    let columns: Vec<String> = std::iter::once(quote(GEOMETRY_COLUMN))
        .chain(t.columns.iter().map(|c| quote(c.name)))
        .collect();
    let rtree = format!("rtree_{name}_{GEOMETRY_COLUMN}");
    tx.execute_batch(&format!(
        "CREATE VIRTUAL TABLE {} USING rtree(id, minx, maxx, miny, maxy)",
        quote(&rtree)
    ))?;
    {
        let mut insert = tx.prepare(&format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote(name),
            columns.join(", "),
            placeholders.join(", ")
        ))?;
        let mut index = tx.prepare(&format!(
            "INSERT INTO {} VALUES (?1, ?2, ?3, ?4, ?5)",
            quote(&rtree)
        ))?;
        for r in &t.rows {
            let mut values: Vec<Sql> = Vec::with_capacity(t.columns.len() + 1);
            values.push(
                r.geometry
                    .as_ref()
                    .map(|g| Sql::Blob(gp_blob(g, srs)))
                    .unwrap_or(Sql::Null),
            );
            values.extend(
                t.columns
                    .iter()
                    .zip(&r.values)
                    .map(|(c, v)| sql_value(v, c.kind)),
            );
            insert.execute(rusqlite::params_from_iter(values))?;
            let fid = tx.last_insert_rowid();
            if let Some(b) = r.geometry.as_ref().and_then(bbox) {
                index.execute(params![fid, b[0], b[2], b[1], b[3]])?;
            }
        }
    }
    let extent = t.bbox();
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id)
         VALUES (?1, 'features', ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            name,
            name,
            t.info.title,
            extent.map(|b| b[0]),
            extent.map(|b| b[1]),
            extent.map(|b| b[2]),
            extent.map(|b| b[3]),
            srs,
        ],
    )?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, ?2, ?3, ?4, 0, 0)",
        params![name, GEOMETRY_COLUMN, geom_type, srs],
    )?;
    tx.execute(
        "INSERT INTO gpkg_extensions VALUES (?1, ?2, 'gpkg_rtree_index',
           'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        params![name, GEOMETRY_COLUMN],
    )?;
    // The triggers keep the index in step with later edits (QGIS, GDAL provide the ST_
    // functions they call); they are created after the rows, which were indexed above.
    tx.execute_batch(&rtree_triggers(name, GEOMETRY_COLUMN, "fid"))?;

    let style = style_of(t);
    tx.execute(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column,
           styleName, styleQML, styleSLD, useAsDefault, description, owner, ui)
         VALUES ('', '', ?1, ?2, ?3, ?4, ?5, 1, ?6, '', NULL)",
        params![
            name,
            GEOMETRY_COLUMN,
            name,
            qml(t, &style),
            sld(t, &style),
            format!("{} – colori della mappa web di abitare", t.info.title),
        ],
    )?;
    Ok(())
}

/// The six triggers of the GeoPackage R-tree extension.
fn rtree_triggers(t: &str, c: &str, i: &str) -> String {
    let r = format!("rtree_{t}_{c}");
    let (qt, qc, qr) = (quote(t), quote(c), quote(&r));
    let values = format!(
        "NEW.{i}, ST_MinX(NEW.{qc}), ST_MaxX(NEW.{qc}), ST_MinY(NEW.{qc}), ST_MaxY(NEW.{qc})"
    );
    format!(
        "CREATE TRIGGER {tr_insert} AFTER INSERT ON {qt}
           WHEN (NEW.{qc} NOT NULL AND NOT ST_IsEmpty(NEW.{qc}))
           BEGIN INSERT OR REPLACE INTO {qr} VALUES ({values}); END;
         CREATE TRIGGER {tr_update1} AFTER UPDATE OF {qc} ON {qt}
           WHEN OLD.{i} = NEW.{i} AND (NEW.{qc} NOTNULL AND NOT ST_IsEmpty(NEW.{qc}))
           BEGIN INSERT OR REPLACE INTO {qr} VALUES ({values}); END;
         CREATE TRIGGER {tr_update2} AFTER UPDATE OF {qc} ON {qt}
           WHEN OLD.{i} = NEW.{i} AND (NEW.{qc} ISNULL OR ST_IsEmpty(NEW.{qc}))
           BEGIN DELETE FROM {qr} WHERE id = OLD.{i}; END;
         CREATE TRIGGER {tr_update3} AFTER UPDATE ON {qt}
           WHEN OLD.{i} != NEW.{i} AND (NEW.{qc} NOTNULL AND NOT ST_IsEmpty(NEW.{qc}))
           BEGIN DELETE FROM {qr} WHERE id = OLD.{i}; INSERT OR REPLACE INTO {qr} VALUES ({values}); END;
         CREATE TRIGGER {tr_update4} AFTER UPDATE ON {qt}
           WHEN OLD.{i} != NEW.{i} AND (NEW.{qc} ISNULL OR ST_IsEmpty(NEW.{qc}))
           BEGIN DELETE FROM {qr} WHERE id IN (OLD.{i}, NEW.{i}); END;
         CREATE TRIGGER {tr_delete} AFTER DELETE ON {qt}
           WHEN OLD.{qc} NOT NULL
           BEGIN DELETE FROM {qr} WHERE id = OLD.{i}; END;",
        tr_insert = quote(&format!("{r}_insert")),
        tr_update1 = quote(&format!("{r}_update1")),
        tr_update2 = quote(&format!("{r}_update2")),
        tr_update3 = quote(&format!("{r}_update3")),
        tr_update4 = quote(&format!("{r}_update4")),
        tr_delete = quote(&format!("{r}_delete")),
    )
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The GeoPackage as bytes (built in a temporary file, which is removed).
pub fn to_bytes(tables: &[Table]) -> Result<Vec<u8>, ExportError> {
    to_bytes_until(tables, &|| false)
}

/// [`to_bytes`], asking `stop` before each table.
pub fn to_bytes_until(tables: &[Table], stop: Interrupt<'_>) -> Result<Vec<u8>, ExportError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let path = std::env::temp_dir().join(format!(
        "abitare-export-{}-{}-{nanos}.gpkg",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write_until(&path, tables, stop).and_then(|()| {
        std::fs::read(&path).map_err(|source| ExportError::Io {
            path: path.clone(),
            source,
        })
    });
    let _ = std::fs::remove_file(&path);
    for suffix in ["-journal", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    result
}

// --- styles ----------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Symbol {
    Marker {
        colour: String,
    },
    Fill {
        colour: String,
        opacity: f64,
        outline: String,
        outline_width: f64,
        /// QGIS brush style: `solid`, `no`, `b_diagonal`.
        brush: &'static str,
    },
}

#[derive(Debug, Clone)]
enum Renderer {
    Single(Symbol),
    Categorized {
        attr: &'static str,
        /// (value, label, symbol); an empty value is the "all other values" category.
        categories: Vec<(String, String, Symbol)>,
    },
    Graduated {
        attr: &'static str,
        /// (lower, upper, label, symbol), lower exclusive except for the first.
        ranges: Vec<(f64, f64, String, Symbol)>,
    },
}

fn fill(colour: &str, opacity: f64) -> Symbol {
    Symbol::Fill {
        colour: colour.to_string(),
        opacity,
        outline: "#4d4d4d".into(),
        outline_width: 0.26,
        brush: "solid",
    }
}

fn outline(colour: &str, width: f64) -> Symbol {
    Symbol::Fill {
        colour: colour.to_string(),
        opacity: 0.0,
        outline: colour.to_string(),
        outline_width: width,
        brush: "no",
    }
}

/// Class upper ends for a graduated style of non-negative integers: one class per value when
/// there are at most `k`, else quantile breaks.
fn class_ends(values: &[i64], k: usize) -> Vec<i64> {
    let mut positive: Vec<i64> = values.iter().copied().filter(|v| *v > 0).collect();
    positive.sort_unstable();
    let mut unique = positive.clone();
    unique.dedup();
    if unique.len() <= k {
        return unique;
    }
    let n = positive.len();
    let mut ends: Vec<i64> = (1..=k)
        .map(|i| positive[(i * n).div_ceil(k).saturating_sub(1).min(n - 1)])
        .collect();
    ends.dedup();
    ends
}

/// Label of a class bound: a percentage for shares, else the number.
fn bound_label(v: f64, percent: bool) -> String {
    if percent {
        format!("{:.0}%", v * 100.0)
    } else {
        format!("{v:.0}")
    }
}

/// The QGIS renderer of a layer, from its palette in the registry (the web map's colours).
fn style_of(t: &Table) -> Renderer {
    let point = t.info.geometry == GeometryKind::Point;
    let symbol = |colour: &str, opacity: f64| {
        if point {
            Symbol::Marker {
                colour: colour.to_string(),
            }
        } else {
            fill(colour, opacity)
        }
    };
    match t.info.palette {
        Palette::Categorie {
            property,
            classes,
            other,
            other_label,
        } => {
            let mut categories: Vec<(String, String, Symbol)> = classes
                .iter()
                .map(|c| {
                    (
                        c.value.to_string(),
                        c.label.to_string(),
                        symbol(c.colour, 0.6),
                    )
                })
                .collect();
            categories.push((String::new(), other_label.into(), symbol(other, 0.6)));
            Renderer::Categorized {
                attr: property,
                categories,
            }
        }
        Palette::Quantili {
            property,
            colours,
            none,
            none_label,
        } => {
            let idx = t.columns.iter().position(|c| c.name == property);
            let values: Vec<i64> = idx
                .map(|i| t.rows.iter().filter_map(|r| r.values[i].as_i64()).collect())
                .unwrap_or_default();
            let ends = class_ends(&values, colours.len());
            let mut ranges = vec![(-0.5, 0.5, none_label.to_string(), fill(none, 0.85))];
            let k = ends.len();
            let last = colours.len().saturating_sub(1);
            let mut prev = 0;
            for (j, end) in ends.iter().enumerate() {
                let colour = if k <= 1 {
                    colours[last]
                } else {
                    colours[(j * last + (k - 1) / 2) / (k - 1)]
                };
                let label = if prev + 1 == *end {
                    format!("{end}")
                } else {
                    format!("{}–{end}", prev + 1)
                };
                ranges.push((
                    prev as f64 + 0.5,
                    *end as f64 + 0.5,
                    label,
                    fill(colour, 0.85),
                ));
                prev = *end;
            }
            Renderer::Graduated {
                attr: property,
                ranges,
            }
        }
        Palette::Soglie {
            property,
            thresholds,
            colours,
            ..
        } => {
            let percent = t
                .info
                .column(property)
                .is_some_and(|c| c.display == Display::Percent);
            // QGIS ranges are (lower, upper]; the map's classes [lower, upper): a hair below
            // each bound puts a value on a bound in the same class as on the map.
            const HAIR: f64 = 1e-9;
            let ranges = thresholds
                .iter()
                .zip(colours)
                .enumerate()
                .map(|(i, (&lo, colour))| {
                    let (hi, label) = match thresholds.get(i + 1) {
                        Some(&hi) => (
                            hi,
                            format!("{}–{}", bound_label(lo, percent), bound_label(hi, percent)),
                        ),
                        None => (1e12, format!("{} e oltre", bound_label(lo, percent))),
                    };
                    (
                        lo - HAIR,
                        hi - HAIR,
                        label,
                        Symbol::Fill {
                            colour: colour.to_string(),
                            opacity: 0.75,
                            outline: "#1a1a1a".into(),
                            outline_width: 0.4,
                            brush: "solid",
                        },
                    )
                })
                .collect();
            Renderer::Graduated {
                attr: property,
                ranges,
            }
        }
        Palette::Unico {
            fill: f,
            outline: o,
            hatched,
        } => Renderer::Single(match (point, f) {
            (true, _) => Symbol::Marker {
                colour: o.to_string(),
            },
            (false, "none") => outline(o, 0.3),
            (false, _) if hatched => Symbol::Fill {
                colour: f.to_string(),
                opacity: 0.85,
                outline: o.to_string(),
                outline_width: 0.4,
                brush: "b_diagonal",
            },
            (false, _) => Symbol::Fill {
                colour: f.to_string(),
                opacity: 0.7,
                outline: o.to_string(),
                outline_width: 0.4,
                brush: "solid",
            },
        }),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// `#rrggbb` and an opacity as QGIS's `r,g,b,a`.
fn qgis_colour(hex: &str, opacity: f64) -> String {
    let h = hex.trim_start_matches('#');
    let c = |i: usize| {
        h.get(i..i + 2)
            .and_then(|s| u8::from_str_radix(s, 16).ok())
            .unwrap_or(0)
    };
    let a = (opacity.clamp(0.0, 1.0) * 255.0).round() as u8;
    format!("{},{},{},{a}", c(0), c(2), c(4))
}

fn qml_symbol(name: usize, s: &Symbol) -> String {
    let (kind, class, opts): (&str, &str, Vec<(&str, String)>) = match s {
        Symbol::Marker { colour } => (
            "marker",
            "SimpleMarker",
            vec![
                ("angle", "0".into()),
                ("color", qgis_colour(colour, 1.0)),
                ("joinstyle", "bevel".into()),
                ("name", "circle".into()),
                ("offset", "0,0".into()),
                ("outline_color", "255,255,255,255".into()),
                ("outline_style", "solid".into()),
                ("outline_width", "0.3".into()),
                ("outline_width_unit", "MM".into()),
                ("scale_method", "diameter".into()),
                ("size", "2.4".into()),
                ("size_unit", "MM".into()),
            ],
        ),
        Symbol::Fill {
            colour,
            opacity,
            outline,
            outline_width,
            brush,
        } => (
            "fill",
            "SimpleFill",
            vec![
                ("color", qgis_colour(colour, *opacity)),
                ("joinstyle", "bevel".into()),
                ("offset", "0,0".into()),
                ("outline_color", qgis_colour(outline, 1.0)),
                ("outline_style", "solid".into()),
                ("outline_width", outline_width.to_string()),
                ("outline_width_unit", "MM".into()),
                ("style", brush.to_string()),
            ],
        ),
    };
    let mut x = format!(
        "<symbol type=\"{kind}\" name=\"{name}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">\
         <layer class=\"{class}\" enabled=\"1\" locked=\"0\" pass=\"0\"><Option type=\"Map\">"
    );
    for (k, v) in &opts {
        let _ = write!(x, "<Option type=\"QString\" name=\"{k}\" value=\"{v}\"/>");
    }
    x.push_str("</Option>");
    for (k, v) in &opts {
        let _ = write!(x, "<prop k=\"{k}\" v=\"{v}\"/>");
    }
    x.push_str("</layer></symbol>");
    x
}

/// What a layer is labelled with in QGIS, and from which scale (the denominator: labels show
/// when zoomed in further; 0 = at every scale), as a drafter orients on the web map: comune
/// names, sheet and parcel numbers, area ids, constraint and service names, unit addresses.
fn label_of(t: &Table) -> Option<(&'static str, u32)> {
    let (field, scale) = match t.layer {
        "comuni" => ("nome", 0),
        "fogli" => ("foglio", 25_000),
        "particelle" => ("particella", 4_000),
        "aree_candidate" | "aree_escluse" => ("id", 25_000),
        "pgt_zone" => ("legenda", 10_000),
        "vincoli" => ("nome", 10_000),
        "alloggi_pubblici" | "alloggi_privati" => ("indirizzo", 5_000),
        "punti_servizio" => ("nome", 10_000),
        _ => return None,
    };
    t.columns
        .iter()
        .any(|c| c.name == field)
        .then_some((field, scale))
}

/// The QGIS labelling of a layer (simple labels from one field, white halo).
fn qml_labeling(t: &Table) -> String {
    let Some((field, scale)) = label_of(t) else {
        return String::new();
    };
    // QGIS placement modes: 1 = over the point, 0 = around/horizontal inside a polygon.
    let placement = if t.is_point_layer() { 1 } else { 0 };
    let visibility = if scale > 0 {
        format!("scaleVisibility=\"1\" scaleMin=\"{scale}\" scaleMax=\"0\"")
    } else {
        "scaleVisibility=\"0\" scaleMin=\"0\" scaleMax=\"0\"".to_string()
    };
    format!(
        "<labeling type=\"simple\"><settings calloutType=\"simple\">\
         <text-style fieldName=\"{field}\" isExpression=\"0\" fontFamily=\"Sans Serif\" \
         fontSize=\"9\" fontSizeUnit=\"Point\" textColor=\"40,40,40,255\" textOpacity=\"1\">\
         <text-buffer bufferDraw=\"1\" bufferSize=\"1\" bufferSizeUnits=\"MM\" \
         bufferColor=\"255,255,255,255\" bufferOpacity=\"1\"/></text-style>\
         <placement placement=\"{placement}\" dist=\"1\" distUnits=\"MM\"/>\
         <rendering {visibility} obstacle=\"1\" limitNumLabels=\"0\" drawLabels=\"1\"/>\
         </settings></labeling>\n"
    )
}

/// The QGIS style (QML) of a layer: its renderer, its labels, and Italian aliases of its fields.
fn qml(t: &Table, r: &Renderer) -> String {
    let geometry_code = if t.is_point_layer() { 0 } else { 2 };
    let labelled = label_of(t).is_some();
    let mut x = format!(
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n\
         <qgis version=\"3.28.0-Firenze\" styleCategories=\"Symbology|Labeling|Fields\" \
         labelsEnabled=\"{}\">\n",
        u8::from(labelled)
    );
    let mut symbols = String::new();
    match r {
        Renderer::Single(s) => {
            x.push_str("<renderer-v2 type=\"singleSymbol\" forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\" referencescale=\"-1\">");
            symbols.push_str(&qml_symbol(0, s));
        }
        Renderer::Categorized { attr, categories } => {
            let _ = write!(x, "<renderer-v2 type=\"categorizedSymbol\" attr=\"{attr}\" forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\" referencescale=\"-1\"><categories>");
            for (i, (value, label, s)) in categories.iter().enumerate() {
                let _ = write!(
                    x,
                    "<category symbol=\"{i}\" value=\"{}\" label=\"{}\" render=\"true\" type=\"string\"/>",
                    esc(value),
                    esc(label)
                );
                symbols.push_str(&qml_symbol(i, s));
            }
            x.push_str("</categories>");
        }
        Renderer::Graduated { attr, ranges } => {
            let _ = write!(x, "<renderer-v2 type=\"graduatedSymbol\" attr=\"{attr}\" graduatedMethod=\"GraduatedColor\" forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\" referencescale=\"-1\"><ranges>");
            for (i, (lo, hi, label, s)) in ranges.iter().enumerate() {
                let _ = write!(
                    x,
                    "<range symbol=\"{i}\" lower=\"{lo}\" upper=\"{hi}\" label=\"{}\" render=\"true\"/>",
                    esc(label)
                );
                symbols.push_str(&qml_symbol(i, s));
            }
            x.push_str("</ranges>");
        }
    }
    let _ = write!(
        x,
        "<symbols>{symbols}</symbols><rotation/><sizescale/></renderer-v2>\n{}<aliases>",
        qml_labeling(t)
    );
    for (i, c) in t.columns.iter().enumerate() {
        let _ = write!(
            x,
            "<alias field=\"{}\" index=\"{}\" name=\"{}\"/>",
            esc(c.name),
            i + 1,
            esc(c.label)
        );
    }
    let _ = write!(
        x,
        "</aliases>\n<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode>\
         <layerGeometryType>{geometry_code}</layerGeometryType>\n</qgis>\n"
    );
    x
}

fn sld_symbolizer(s: &Symbol) -> String {
    match s {
        Symbol::Marker { colour } => format!(
            "<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>circle</se:WellKnownName>\
             <se:Fill><se:SvgParameter name=\"fill\">{colour}</se:SvgParameter></se:Fill>\
             <se:Stroke><se:SvgParameter name=\"stroke\">#ffffff</se:SvgParameter>\
             <se:SvgParameter name=\"stroke-width\">1</se:SvgParameter></se:Stroke></se:Mark>\
             <se:Size>9</se:Size></se:Graphic></se:PointSymbolizer>"
        ),
        Symbol::Fill {
            colour,
            opacity,
            outline,
            outline_width,
            brush,
        } => {
            let fill = match *brush {
                "no" => String::new(),
                "solid" => format!(
                    "<se:Fill><se:SvgParameter name=\"fill\">{colour}</se:SvgParameter>\
                     <se:SvgParameter name=\"fill-opacity\">{opacity}</se:SvgParameter></se:Fill>"
                ),
                _ => format!(
                    "<se:Fill><se:GraphicFill><se:Graphic><se:Mark><se:WellKnownName>slash</se:WellKnownName>\
                     <se:Stroke><se:SvgParameter name=\"stroke\">{colour}</se:SvgParameter>\
                     <se:SvgParameter name=\"stroke-width\">1</se:SvgParameter></se:Stroke></se:Mark>\
                     <se:Size>8</se:Size></se:Graphic></se:GraphicFill></se:Fill>"
                ),
            };
            let width = (outline_width * 3.78 * 100.0).round() / 100.0;
            format!(
                "<se:PolygonSymbolizer>{fill}<se:Stroke><se:SvgParameter name=\"stroke\">{outline}</se:SvgParameter>\
                 <se:SvgParameter name=\"stroke-width\">{width}</se:SvgParameter></se:Stroke></se:PolygonSymbolizer>"
            )
        }
    }
}

fn sld_rule(name: &str, filter: Option<String>, s: &Symbol) -> String {
    let filter = match filter {
        Some(f) => format!("<ogc:Filter xmlns:ogc=\"http://www.opengis.net/ogc\">{f}</ogc:Filter>"),
        None => String::new(),
    };
    format!(
        "<se:Rule><se:Name>{n}</se:Name><se:Description><se:Title>{n}</se:Title></se:Description>{filter}{}</se:Rule>",
        sld_symbolizer(s),
        n = esc(name)
    )
}

/// The same style as SLD 1.1 (for other GIS and for GeoServer).
fn sld(t: &Table, r: &Renderer) -> String {
    let mut rules = String::new();
    match r {
        Renderer::Single(s) => rules.push_str(&sld_rule(t.info.title, None, s)),
        Renderer::Categorized { attr, categories } => {
            for (value, label, s) in categories {
                if value.is_empty() {
                    rules.push_str(&format!(
                        "<se:Rule><se:Name>{n}</se:Name><se:Description><se:Title>{n}</se:Title></se:Description><se:ElseFilter/>{}</se:Rule>",
                        sld_symbolizer(s),
                        n = esc(label)
                    ));
                } else {
                    let f = format!(
                        "<ogc:PropertyIsEqualTo><ogc:PropertyName>{attr}</ogc:PropertyName><ogc:Literal>{}</ogc:Literal></ogc:PropertyIsEqualTo>",
                        esc(value)
                    );
                    rules.push_str(&sld_rule(label, Some(f), s));
                }
            }
        }
        Renderer::Graduated { attr, ranges } => {
            for (lo, hi, label, s) in ranges {
                let f = format!(
                    "<ogc:And><ogc:PropertyIsGreaterThan><ogc:PropertyName>{attr}</ogc:PropertyName><ogc:Literal>{lo}</ogc:Literal></ogc:PropertyIsGreaterThan>\
                     <ogc:PropertyIsLessThanOrEqualTo><ogc:PropertyName>{attr}</ogc:PropertyName><ogc:Literal>{hi}</ogc:Literal></ogc:PropertyIsLessThanOrEqualTo></ogc:And>"
                );
                rules.push_str(&sld_rule(label, Some(f), s));
            }
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <StyledLayerDescriptor xmlns=\"http://www.opengis.net/sld\" xmlns:ogc=\"http://www.opengis.net/ogc\" \
         xmlns:se=\"http://www.opengis.net/se\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" version=\"1.1.0\" \
         xsi:schemaLocation=\"http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd\">\
         <NamedLayer><se:Name>{layer}</se:Name><UserStyle><se:Name>{layer}</se:Name>\
         <se:FeatureTypeStyle>{rules}</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n",
        layer = esc(t.layer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_ends_of_few_and_many_values() {
        assert_eq!(class_ends(&[0, 1, 1, 3], 5), vec![1, 3]);
        assert_eq!(class_ends(&[0, 0], 5), Vec::<i64>::new());
        let many: Vec<i64> = (1..=20).collect();
        assert_eq!(class_ends(&many, 5), vec![4, 8, 12, 16, 20]);
    }

    #[test]
    fn colours_and_blobs() {
        assert_eq!(qgis_colour("#0072B2", 1.0), "0,114,178,255");
        let p = gp_blob(&geojson::Value::Point(vec![9.0, 45.0]), 4326);
        assert_eq!(&p[..4], &[b'G', b'P', 0, 1]);
        assert_eq!(p.len(), 8 + 21);
        let sq = geojson::Value::Polygon(vec![vec![
            vec![0.0, 0.0],
            vec![1.0, 0.0],
            vec![1.0, 1.0],
            vec![0.0, 0.0],
        ]]);
        let b = gp_blob(&sq, 4326);
        assert_eq!(b[3], 0b11);
        assert_eq!(b.len(), 8 + 32 + 9 + 4 + 4 * 16);
    }
}
