//! Reader of any GDAL/OGR vector source (GeoPackage, MapInfo TAB, KML, DXF, FileGDB, PostGIS
//! `PG:` connection strings…) holding PGT layers; compiled with the `gdal` feature.
//!
//! Each layer (or the one named in the project) is mapped by its name with the rules of the
//! regional schema used for shapefiles (`ingest::pgt`): `AMBITI_TRASFORMAZIONE`,
//! `TESSUTO_URBANO_CONSOLIDATO`, `NUCLEI_ANTICA_FORMAZIONE`, `AREE_AGRICOLE`,
//! `AREE_NON_TRASFORMAZIONE`, `SERVIZI`, `AMBITI_RIGENERAZIONE`, and names containing `VINCOL`
//! or `RISPETTO` for constraints. DXF files have a single OGR layer (`entities`): there the CAD
//! layer of each entity (field `Layer`) is the name mapped. Closed lines (CAD polylines) are
//! read as polygons.
//!
//! The CRS is the layer's (its EPSG authority code, or the name of its WKT as in a `.prj`),
//! else the `crs` declared in the project. Coordinates are taken easting/longitude first, as
//! OGR returns them.

use std::collections::HashMap;

use gdal::vector::{FieldValue, LayerAccess};
use gdal::Dataset;
use geo::orient::{Direction, Orient};
use geo::{Coord, Geometry, LineString, MultiPolygon, Polygon};
use thiserror::Error;

use crate::crs::{self, ToLonLat};
use crate::ingest::pgt::PgtRead;
use crate::model::{ClasseZona, Vincolo, ZonaPgt};

/// What went wrong, without the source (see [`GdalSourceError`]).
#[derive(Debug, Error)]
pub enum GdalErrorKind {
    #[error("impossibile aprire la sorgente GDAL: {0}")]
    Open(String),
    #[error("layer {layer} non trovato (layer presenti: {presenti})")]
    LayerNotFound { layer: String, presenti: String },
    #[error("layer {layer}: {message}")]
    Crs { layer: String, message: String },
    #[error("layer {layer}, elemento {fid}, campo {field}: {message}")]
    Feature {
        layer: String,
        fid: String,
        field: String,
        message: String,
    },
}

/// An error reading a GDAL source; names the source (passwords of `PG:` strings removed).
#[derive(Debug, Error)]
#[error("{sorgente}: {kind}")]
pub struct GdalSourceError {
    pub sorgente: String,
    pub kind: GdalErrorKind,
}

/// The source as it may be shown: `password=…` of a connection string is hidden.
pub fn redact(sorgente: &str) -> String {
    sorgente
        .split(' ')
        .map(|part| {
            if part.to_ascii_lowercase().starts_with("password=") {
                "password=***"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a layer holds, decided by its name (regional schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipoLayer {
    Zona(ClasseZona),
    /// Tessuto urbano consolidato: nucleo di antica formazione when `LEGENDA` says so.
    Tessuto,
    Servizi,
    Vincoli,
}

/// Maps a layer name of the regional schema (any case) to what it holds.
pub fn tipo_layer(name: &str) -> Option<TipoLayer> {
    let upper = name.trim().to_ascii_uppercase().replace([' ', '-'], "_");
    Some(match upper.as_str() {
        "AMBITI_TRASFORMAZIONE" => TipoLayer::Zona(ClasseZona::AmbitoTrasformazione),
        "TESSUTO_URBANO_CONSOLIDATO" => TipoLayer::Tessuto,
        "NUCLEI_ANTICA_FORMAZIONE" => TipoLayer::Zona(ClasseZona::NucleoAnticaFormazione),
        "AREE_AGRICOLE" => TipoLayer::Zona(ClasseZona::Agricolo),
        "AREE_NON_TRASFORMAZIONE" => TipoLayer::Zona(ClasseZona::NonSoggettoTrasformazione),
        "SERVIZI" => TipoLayer::Servizi,
        "AMBITI_RIGENERAZIONE" => TipoLayer::Zona(ClasseZona::Rigenerazione),
        _ if upper.contains("VINCOL") || upper.contains("RISPETTO") => TipoLayer::Vincoli,
        _ => return None,
    })
}

/// The attributes of a feature by upper-case name, as text.
struct Attributes(HashMap<String, String>);

impl Attributes {
    fn text(&self, field: &str) -> Option<String> {
        // DBF-derived sources truncate names to 10 characters (`NOME_VINC_`).
        self.0
            .get(field)
            .or_else(|| field.get(..10).and_then(|f| self.0.get(f)))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
    fn first(&self, fields: &[&str]) -> Option<String> {
        fields.iter().find_map(|f| self.text(f))
    }
}

fn value_text(v: FieldValue) -> Option<String> {
    Some(match v {
        FieldValue::StringValue(s) => s,
        FieldValue::IntegerValue(n) => n.to_string(),
        FieldValue::Integer64Value(n) => n.to_string(),
        FieldValue::RealValue(r) if r.fract() == 0.0 && r.abs() < 1e15 => {
            format!("{}", r as i64)
        }
        FieldValue::RealValue(r) => r.to_string(),
        FieldValue::DateValue(d) => d.to_string(),
        FieldValue::DateTimeValue(d) => d.to_rfc3339(),
        _ => return None,
    })
}

/// The EPSG code of a layer: its authority code, else its WKT name, else the declared CRS.
fn layer_epsg(
    srs: Option<gdal::spatial_ref::SpatialRef>,
    declared: Option<&str>,
    layer: &str,
) -> Result<u16, GdalErrorKind> {
    let crs_err = |message: String| GdalErrorKind::Crs {
        layer: layer.to_string(),
        message,
    };
    let mut description = None;
    if let Some(mut srs) = srs {
        let by_authority = |s: &gdal::spatial_ref::SpatialRef| {
            (s.auth_name().as_deref() == Some("EPSG"))
                .then(|| s.auth_code().ok())
                .flatten()
                .and_then(|c| u16::try_from(c).ok())
                .filter(|c| crs::SUPPORTED.iter().any(|(s, _)| s == c))
        };
        if let Some(code) = by_authority(&srs) {
            return Ok(code);
        }
        if srs.auto_identify_epsg().is_ok() {
            if let Some(code) = by_authority(&srs) {
                return Ok(code);
            }
        }
        if let Ok(wkt) = srs.to_wkt() {
            if let Ok(code) = crs::epsg_from_prj(&wkt) {
                return Ok(code);
            }
        }
        description = srs.name();
    }
    match declared {
        Some(d) => crs::parse_declared(d)
            .map_err(|e| crs_err(format!("sistema di riferimento dichiarato (crs): {e}"))),
        None => Err(crs_err(match description {
            Some(name) => format!(
                "sistema di riferimento {name:?} non riconosciuto: indicare crs = \"EPSG:…\" nel progetto"
            ),
            None => "sistema di riferimento non dichiarato: indicare crs = \"EPSG:…\" nel progetto"
                .to_string(),
        })),
    }
}

/// The polygons of an OGR geometry (closed lines become polygons); `Err` names the type.
fn polygons(g: Geometry<f64>, out: &mut Vec<Polygon<f64>>) -> Result<(), &'static str> {
    match g {
        Geometry::Polygon(p) => out.push(p),
        Geometry::MultiPolygon(mp) => out.extend(mp.0),
        Geometry::Rect(r) => out.push(r.to_polygon()),
        Geometry::Triangle(t) => out.push(t.to_polygon()),
        Geometry::LineString(l) if l.is_closed() && l.0.len() >= 4 => {
            out.push(Polygon::new(l, vec![]))
        }
        Geometry::MultiLineString(ml) if ml.0.iter().all(|l| l.is_closed() && l.0.len() >= 4) => {
            out.extend(ml.0.into_iter().map(|l| Polygon::new(l, vec![])))
        }
        Geometry::GeometryCollection(gc) => {
            for g in gc.0 {
                polygons(g, out)?;
            }
        }
        Geometry::Point(_) | Geometry::MultiPoint(_) => return Err("punto"),
        Geometry::Line(_) | Geometry::LineString(_) | Geometry::MultiLineString(_) => {
            return Err("linea aperta")
        }
    }
    Ok(())
}

fn reproject(polys: Vec<Polygon<f64>>, to: &ToLonLat) -> Result<MultiPolygon<f64>, String> {
    let ring = |ls: &LineString<f64>| -> Result<LineString<f64>, String> {
        ls.0.iter()
            .map(|c| {
                let (lon, lat) = to
                    .convert(c.x, c.y)
                    .map_err(|e| format!("riproiezione in lon/lat impossibile: {e}"))?;
                if let Some(hint) = crs::diagnose_outside_lombardy(lon, lat) {
                    return Err(format!(
                        "il vertice ({}, {}) in EPSG:{} diventa {hint}",
                        c.x,
                        c.y,
                        to.epsg()
                    ));
                }
                Ok(Coord { x: lon, y: lat })
            })
            .collect::<Result<Vec<_>, String>>()
            .map(LineString::new)
    };
    let mut out = Vec::with_capacity(polys.len());
    for p in polys {
        let exterior = ring(p.exterior())?;
        let interiors = p.interiors().iter().map(ring).collect::<Result<_, _>>()?;
        out.push(Polygon::new(exterior, interiors).orient(Direction::Default));
    }
    Ok(MultiPolygon::new(out))
}

/// Reads one GDAL source. `sorgente` is a path (already resolved) or a connection string.
pub fn read_gdal_source(
    sorgente: &str,
    layer: Option<&str>,
    crs_dichiarato: Option<&str>,
) -> Result<PgtRead, GdalSourceError> {
    let shown = redact(sorgente);
    let fail = |kind| GdalSourceError {
        sorgente: shown.clone(),
        kind,
    };
    let dataset = Dataset::open(sorgente).map_err(|e| fail(GdalErrorKind::Open(e.to_string())))?;
    let names: Vec<String> = dataset.layers().map(|l| l.name()).collect();
    let wanted: Vec<String> = match layer {
        Some(l) => {
            let found = names
                .iter()
                .find(|n| n.as_str() == l)
                .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(l)))
                .cloned();
            match found {
                Some(n) => vec![n],
                None => {
                    return Err(fail(GdalErrorKind::LayerNotFound {
                        layer: l.to_string(),
                        presenti: names.join(", "),
                    }))
                }
            }
        }
        None => names.clone(),
    };
    let mut out = PgtRead::default();
    for name in wanted {
        let mut lyr = dataset.layer_by_name(&name).map_err(|e| {
            fail(GdalErrorKind::LayerNotFound {
                layer: format!("{name} ({e})"),
                presenti: names.join(", "),
            })
        })?;
        // DXF: one OGR layer, the CAD layer in a field.
        let cad = name.eq_ignore_ascii_case("entities")
            && lyr.defn().fields().any(|f| f.name() == "Layer");
        let layer_kind = tipo_layer(&name);
        if layer_kind.is_none() && !cad {
            out.avvisi.push(format!(
                "{shown}: layer {name} non riconosciuto (schema regionale PGT): ignorato"
            ));
            continue;
        }
        let epsg = layer_epsg(lyr.spatial_ref(), crs_dichiarato, &name).map_err(fail)?;
        let to = ToLonLat::new(epsg).map_err(|e| {
            fail(GdalErrorKind::Crs {
                layer: name.clone(),
                message: e.to_string(),
            })
        })?;
        let field_names: Vec<String> = lyr.defn().fields().map(|f| f.name()).collect();
        let mut skipped_types: HashMap<&'static str, usize> = HashMap::new();
        let mut unmapped: HashMap<String, usize> = HashMap::new();
        for feature in lyr.features() {
            let fid = feature
                .fid()
                .map_or_else(|| "?".to_string(), |f| f.to_string());
            let feature_err = |field: &str, message: String| {
                fail(GdalErrorKind::Feature {
                    layer: name.clone(),
                    fid: fid.clone(),
                    field: field.to_string(),
                    message,
                })
            };
            let mut attrs = HashMap::new();
            for (i, f) in field_names.iter().enumerate() {
                // Unset dates and similar make OGR's typed getters fail: fall back to text,
                // and treat what is still unreadable as absent.
                let text = match feature.field(i) {
                    Ok(value) => value.and_then(value_text),
                    Err(_) => feature.field_as_string(i).ok().flatten(),
                };
                if let Some(text) = text {
                    attrs.insert(f.trim().to_ascii_uppercase(), text);
                }
            }
            let attrs = Attributes(attrs);
            let (fonte, kind) = if cad {
                let cad_layer = attrs.text("LAYER").unwrap_or_default();
                match tipo_layer(&cad_layer) {
                    Some(k) => (cad_layer, k),
                    None => {
                        *unmapped.entry(cad_layer).or_default() += 1;
                        continue;
                    }
                }
            } else {
                match layer_kind {
                    Some(k) => (name.clone(), k),
                    None => continue,
                }
            };
            let Some(geometry) = feature.geometry() else {
                continue;
            };
            let g = geometry
                .to_geo()
                .map_err(|e| feature_err("geometria", format!("geometria illeggibile: {e}")))?;
            let mut polys = Vec::new();
            if let Err(kind) = polygons(g, &mut polys) {
                *skipped_types.entry(kind).or_default() += 1;
                continue;
            }
            if polys.is_empty() {
                continue;
            }
            let geometry = reproject(polys, &to).map_err(|m| feature_err("geometria", m))?;
            add_feature(kind, fonte, &attrs, geometry, &mut out, || {
                format!("{shown}: layer {name}, elemento {fid}")
            });
        }
        for (kind, n) in skipped_types {
            out.avvisi.push(format!(
                "{shown}: layer {name}: {n} geometrie di tipo {kind}, non poligoni: ignorate"
            ));
        }
        let mut unmapped: Vec<_> = unmapped.into_iter().collect();
        unmapped.sort();
        for (cad_layer, n) in unmapped {
            out.avvisi.push(format!(
                "{shown}: layer CAD {cad_layer:?} non riconosciuto (schema regionale PGT): {n} elementi ignorati"
            ));
        }
    }
    Ok(out)
}

fn add_feature(
    kind: TipoLayer,
    fonte: String,
    attrs: &Attributes,
    geometry: MultiPolygon<f64>,
    out: &mut PgtRead,
    where_: impl Fn() -> String,
) {
    let comune_istat = attrs
        .first(&["COD_ISTAT", "ISTAT", "ISTAT_COM", "COD_COM"])
        .filter(|c| c.len() <= 6 && c.bytes().all(|b| b.is_ascii_digit()))
        .map(|c| format!("{c:0>6}"));
    let comune_nome = attrs.text("NOME_COM");
    let (classe, legenda, destinazione) = match kind {
        TipoLayer::Vincoli => {
            let codice = attrs.text("COD_VINC");
            let nome = attrs
                .text("NOME_VINC_PRINC")
                .or_else(|| codice.clone())
                .unwrap_or_else(|| fonte.clone());
            out.vincoli.push(Vincolo {
                comune_istat,
                comune_nome,
                codice,
                nome,
                fonte,
                geometry,
            });
            return;
        }
        TipoLayer::Servizi => {
            let stato = attrs.text("STATO");
            let classe = match stato.as_deref().map(str::to_lowercase).as_deref() {
                Some("esistente" | "esistenti" | "e" | "es") => ClasseZona::ServiziEsistenti,
                Some("previsto" | "previsti" | "p" | "pr" | "progetto" | "di progetto") => {
                    ClasseZona::ServiziPrevisti
                }
                _ => {
                    out.avvisi.push(format!(
                        "{}, campo STATO: valore {:?} non riconosciuto (attesi esistente/E o \
                         previsto/P): zona ignorata",
                        where_(),
                        stato.unwrap_or_default()
                    ));
                    return;
                }
            };
            let legenda = match (attrs.text("TIPO_SERV"), attrs.text("DESCR")) {
                (Some(t), Some(d)) if t != d => Some(format!("{t} - {d}")),
                (Some(t), _) => Some(t),
                (None, d) => d,
            };
            (classe, legenda, None)
        }
        TipoLayer::Tessuto => {
            let legenda = attrs.text("LEGENDA");
            let storico = legenda.as_deref().is_some_and(|l| {
                let l = l.to_lowercase();
                l.contains("antica formazione") || l.contains("centro storico")
            });
            let classe = if storico {
                ClasseZona::NucleoAnticaFormazione
            } else {
                ClasseZona::TessutoUrbanoConsolidato
            };
            (classe, legenda, attrs.text("COD_DEST1"))
        }
        TipoLayer::Zona(classe) => {
            let legenda = match classe {
                ClasseZona::AmbitoTrasformazione => attrs.text("NOME_AMB"),
                ClasseZona::Rigenerazione => attrs.first(&["NOME_AMB", "LEGENDA", "NOME"]),
                _ => attrs.first(&["LEGENDA", "NOME"]),
            };
            let destinazione = match classe {
                ClasseZona::AmbitoTrasformazione => attrs.text("FUN_PREV1"),
                _ => attrs.first(&["COD_DEST1", "FUN_PREV1"]),
            };
            (classe, legenda, destinazione)
        }
    };
    out.zone.push(ZonaPgt {
        comune_istat,
        comune_nome,
        classe,
        legenda,
        codice_destinazione: destinazione,
        fonte,
        geometry,
    });
}
