//! Layers as RFC 7946 GeoJSON (lon/lat), with the properties the web map, the API and the
//! exports share. These property sets are wire types: they are built here, not in the model.

use chrono::NaiveDate;
use geo::{GeodesicArea, MapCoords, MultiPolygon, Point};
use geojson::{Feature, FeatureCollection, Geometry, JsonObject, JsonValue};
use serde_json::json;

use crate::analysis::vacancy::Vacancy;
use crate::model::Model;

/// Layers that exist in the model today (others of FORMATS.md §6 come with later inputs).
pub const SERVED_LAYERS: [&str; 7] = [
    "comuni",
    "fogli",
    "particelle",
    "fabbricati",
    "alloggi_pubblici",
    "pgt_zone",
    "vincoli",
];

/// Coordinates are rounded to 7 decimals (about 1 cm), more than any input carries.
fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

fn polygon_geometry(g: &MultiPolygon<f64>) -> Geometry {
    let r = g.map_coords(|c| geo::coord! { x: round7(c.x), y: round7(c.y) });
    Geometry::new(geojson::Value::from(&r))
}

fn point_geometry(p: &Point<f64>) -> Geometry {
    Geometry::new(geojson::Value::Point(vec![round7(p.x()), round7(p.y())]))
}

fn props(v: serde_json::Value) -> Option<JsonObject> {
    match v {
        JsonValue::Object(m) => Some(m),
        _ => None,
    }
}

fn feature(id: String, geometry: Option<Geometry>, properties: serde_json::Value) -> Feature {
    Feature {
        bbox: None,
        geometry,
        id: Some(geojson::feature::Id::String(id)),
        properties: props(properties),
        foreign_members: None,
    }
}

/// Number of features of a layer.
pub fn layer_len(model: &Model, layer: &str) -> Option<usize> {
    Some(match layer {
        "comuni" => model.comuni.len(),
        "fogli" => model.fogli.len(),
        "particelle" => model.particelle.len(),
        "fabbricati" => model.fabbricati.len(),
        "alloggi_pubblici" => model.alloggi_pubblici.len(),
        "pgt_zone" => model.pgt_zone.len(),
        "vincoli" => model.vincoli.len(),
        _ => return None,
    })
}

/// Human-readable cadastral reference of a unit (`Foglio 13, particella 125, sub. 4`).
pub fn riferimento_leggibile(
    sezione: Option<&str>,
    foglio: Option<&str>,
    particella: Option<&str>,
    subalterno: Option<&str>,
) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(s) = sezione {
        parts.push(format!("Sezione {s}"));
    }
    parts.push(format!("Foglio {}", foglio?));
    parts.push(format!("particella {}", particella?));
    if let Some(s) = subalterno {
        parts.push(format!("sub. {s}"));
    }
    Some(parts.join(", "))
}

fn iso(d: Option<NaiveDate>) -> JsonValue {
    d.map(|d| JsonValue::String(d.format("%Y-%m-%d").to_string()))
        .unwrap_or(JsonValue::Null)
}

/// The features of `layer` at the given positions (all when `selection` is `None`).
/// Returns `None` for a layer name the model does not have.
pub fn layer_features(
    model: &Model,
    vacancy: &Vacancy,
    layer: &str,
    selection: Option<&[usize]>,
) -> Option<Vec<Feature>> {
    let n = layer_len(model, layer)?;
    let all: Vec<usize>;
    let sel = match selection {
        Some(s) => s,
        None => {
            all = (0..n).collect();
            &all
        }
    };
    let reference = model.ambito.data_riferimento;
    let out = sel
        .iter()
        .filter(|&&i| i < n)
        .map(|&i| match layer {
            "comuni" => {
                let c = &model.comuni[i];
                let stats = vacancy
                    .per_comune
                    .iter()
                    .find(|s| s.istat == c.istat)
                    .and_then(|s| serde_json::to_value(s).ok())
                    .unwrap_or_else(|| json!({"istat": c.istat, "nome": c.nome}));
                feature(c.istat.clone(), Some(polygon_geometry(&c.geometry)), stats)
            }
            "fogli" => {
                let f = &model.fogli[i];
                feature(
                    f.riferimento.clone(),
                    Some(polygon_geometry(&f.geometry)),
                    json!({
                        "riferimento": f.riferimento,
                        "belfiore": f.belfiore,
                        "sezione": f.sezione,
                        "foglio": f.foglio,
                        "scala": f.scala,
                    }),
                )
            }
            "particelle" => {
                let p = &model.particelle[i];
                feature(
                    p.riferimento.clone(),
                    Some(polygon_geometry(&p.geometry)),
                    json!({
                        "riferimento": p.riferimento,
                        "belfiore": p.belfiore,
                        "sezione": p.sezione,
                        "foglio": p.foglio,
                        "particella": p.particella,
                        "area_m2": (p.geometry.geodesic_area_unsigned() * 10.0).round() / 10.0,
                    }),
                )
            }
            "fabbricati" => {
                let f = &model.fabbricati[i];
                feature(
                    f.riferimento.clone(),
                    Some(polygon_geometry(&f.geometry)),
                    json!({
                        "riferimento": f.riferimento,
                        "belfiore": f.belfiore,
                        "sezione": f.sezione,
                        "foglio": f.foglio,
                        "particella": f.particella,
                        "area_m2": (f.geometry.geodesic_area_unsigned() * 10.0).round() / 10.0,
                    }),
                )
            }
            "alloggi_pubblici" => {
                let u = &model.alloggi_pubblici[i];
                feature(
                    format!("{}|{}", u.ente_proprietario, u.codice_unita),
                    u.posizione.as_ref().map(point_geometry),
                    json!({
                        "id": format!("{}|{}", u.ente_proprietario, u.codice_unita),
                        "ente_proprietario": u.ente_proprietario,
                        "codice_unita": u.codice_unita,
                        "comune": u.comune_nome,
                        "comune_istat": u.comune_istat,
                        "indirizzo": u.indirizzo,
                        "servizio": u.servizio.code(),
                        "servizio_label": u.servizio.label_it(),
                        "stato": u.stato.code(),
                        "stato_label": u.stato.label_it(),
                        "inutilizzato": u.stato.is_unused(),
                        "sfitto_dal": iso(u.sfitto_dal),
                        "mesi_sfitto": u.mesi_sfitto(reference),
                        "riferimento_catastale": riferimento_leggibile(
                            u.sezione.as_deref(),
                            u.foglio.as_deref(),
                            u.particella.as_deref(),
                            u.subalterno.as_deref(),
                        ),
                        "categoria_catastale": u.categoria_catastale,
                        "superficie_mq": u.superficie_mq,
                        "localizzazione": u.localizzazione,
                    }),
                )
            }
            "pgt_zone" => {
                let z = &model.pgt_zone[i];
                feature(
                    format!("pgt_zone.{i}"),
                    Some(polygon_geometry(&z.geometry)),
                    json!({
                        "classe": z.classe.code(),
                        "classe_label": z.classe.label_it(),
                        "legenda": z.legenda,
                        "codice_destinazione": z.codice_destinazione,
                        "comune": z.comune_nome,
                        "comune_istat": z.comune_istat,
                        "fonte": z.fonte,
                    }),
                )
            }
            _ => {
                let v = &model.vincoli[i];
                feature(
                    format!("vincoli.{i}"),
                    Some(polygon_geometry(&v.geometry)),
                    json!({
                        "codice": v.codice,
                        "nome": v.nome,
                        "comune": v.comune_nome,
                        "comune_istat": v.comune_istat,
                        "fonte": v.fonte,
                    }),
                )
            }
        })
        .collect();
    Some(out)
}

/// A FeatureCollection with OGC-style counts as foreign members.
pub fn collection(features: Vec<Feature>, number_matched: usize) -> FeatureCollection {
    let returned = features.len();
    let mut fm = JsonObject::new();
    fm.insert("numberMatched".into(), json!(number_matched));
    fm.insert("numberReturned".into(), json!(returned));
    FeatureCollection {
        bbox: None,
        features,
        foreign_members: Some(fm),
    }
}
