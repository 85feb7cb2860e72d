//! Layers as RFC 7946 GeoJSON (lon/lat), with the properties the web map, the API and the
//! exports share. These property sets are wire types: they are built here, not in the model;
//! their names, order and types are declared in the registry ([`crate::output::layers`]).
//! Rendering takes a [`Layer`], which only the registry hands out after checking the caller's
//! audience.

use chrono::NaiveDate;
use geo::{GeodesicArea, MapCoords, MultiPolygon, Point};
use geojson::{Feature, FeatureCollection, Geometry, JsonObject, JsonValue};
use serde_json::json;

use crate::analysis::Analisi;
use crate::index::LayerIndex;
use crate::output::layers::{Layer, LayerId, Protection};
use crate::output::protect::{protect_feature, protect_reasons, sees_all};
use crate::output::wording::{esclusioni_testo, punteggio_testo};

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
pub fn layer_len(a: &Analisi, layer: Layer) -> usize {
    let m = &a.model;
    match layer.id() {
        LayerId::Comuni => m.comuni.len(),
        LayerId::Fogli => m.fogli.len(),
        LayerId::Particelle => m.particelle.len(),
        LayerId::Fabbricati => m.fabbricati.len(),
        LayerId::AlloggiPubblici => m.alloggi_pubblici.len(),
        LayerId::PgtZone => m.pgt_zone.len(),
        LayerId::Vincoli => m.vincoli.len(),
        LayerId::StockPrivato => m.stime_non_occupate.len(),
        LayerId::AreeCandidate if !sees_all(layer.caller()) => a.vista_pubblica.candidate.len(),
        LayerId::AreeEscluse if !sees_all(layer.caller()) => a.vista_pubblica.escluse.len(),
        LayerId::AreeCandidate => a.candidate.candidate.len(),
        LayerId::AreeEscluse => a.candidate.escluse.len(),
        LayerId::PuntiServizio => m.servizi_puntuali.len(),
        LayerId::AlloggiPrivati => m.alloggi_privati.len(),
    }
}

/// The position in the analysis of the feature at position `i` of `layer` for its caller:
/// the public's candidate and excluded areas are a view ([`crate::analysis::analisi::VistaPubblica`]).
fn row(a: &Analisi, layer: Layer, i: usize) -> Option<usize> {
    let view = match layer.id() {
        LayerId::AreeCandidate if !sees_all(layer.caller()) => &a.vista_pubblica.candidate,
        LayerId::AreeEscluse if !sees_all(layer.caller()) => &a.vista_pubblica.escluse,
        _ => return (i < layer_len(a, layer)).then_some(i),
    };
    view.get(i).copied()
}

/// The R-tree of a layer (feature bounding boxes, by position in the layer).
pub fn layer_index(a: &Analisi, layer: Layer) -> &LayerIndex {
    let i = &a.index;
    match layer.id() {
        LayerId::Comuni => &i.comuni,
        LayerId::Fogli => &i.fogli,
        LayerId::Particelle => &i.particelle,
        LayerId::Fabbricati => &i.fabbricati,
        LayerId::AlloggiPubblici => &i.alloggi_pubblici,
        LayerId::PgtZone => &i.pgt_zone,
        LayerId::Vincoli => &i.vincoli,
        LayerId::StockPrivato => &i.stock_privato,
        LayerId::AreeCandidate if !sees_all(layer.caller()) => &a.vista_pubblica.indice_candidate,
        LayerId::AreeEscluse if !sees_all(layer.caller()) => &a.vista_pubblica.indice_escluse,
        LayerId::AreeCandidate => &a.indice_candidate,
        LayerId::AreeEscluse => &a.indice_escluse,
        LayerId::PuntiServizio => &i.servizi_puntuali,
        LayerId::AlloggiPrivati => &a.indice_privati,
    }
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

/// The feature of a parcel or of a building (both name the same cadastral fields).
macro_rules! particella_feature {
    ($p:expr, $geometry:expr) => {{
        let p = &$p;
        feature(
            p.riferimento.clone(),
            $geometry.then(|| polygon_geometry(&p.geometry)),
            json!({
                "riferimento": p.riferimento,
                "belfiore": p.belfiore,
                "sezione": p.sezione,
                "foglio": p.foglio,
                "particella": p.particella,
                "area_m2": (p.geometry.geodesic_area_unsigned() * 10.0).round() / 10.0,
            }),
        )
    }};
}

/// [`riferimento_leggibile`] of a public or a private unit (both name the reference field by
/// field: `sezione`, `foglio`, `particella`, `subalterno`).
macro_rules! riferimento_unita {
    ($u:expr) => {
        riferimento_leggibile(
            $u.sezione.as_deref(),
            $u.foglio.as_deref(),
            $u.particella.as_deref(),
            $u.subalterno.as_deref(),
        )
    };
}

fn iso(d: Option<NaiveDate>) -> JsonValue {
    d.map(|d| JsonValue::String(d.format("%Y-%m-%d").to_string()))
        .unwrap_or(JsonValue::Null)
}

fn share(v: Option<f64>) -> JsonValue {
    v.map(|x| json!((x * 10_000.0).round() / 10_000.0))
        .unwrap_or(JsonValue::Null)
}

/// The features of a layer at the given positions (all when `selection` is `None`). The
/// [`Layer`] handle is the proof that the caller may see the layer.
pub fn layer_features(a: &Analisi, layer: Layer, selection: Option<&[usize]>) -> Vec<Feature> {
    render(a, layer, selection, true)
}

/// [`layer_features`] without their geometries (ids and properties only), to test
/// properties without the cost of the geometry.
pub fn layer_properties(a: &Analisi, layer: Layer, selection: Option<&[usize]>) -> Vec<Feature> {
    render(a, layer, selection, false)
}

fn render(a: &Analisi, layer: Layer, selection: Option<&[usize]>, geometry: bool) -> Vec<Feature> {
    let (model, vacancy, privato) = (&a.model, &a.vacancy, &a.privato);
    let n = layer_len(a, layer);
    let all: Vec<usize>;
    let sel = match selection {
        Some(s) => s,
        None => {
            all = (0..n).collect();
            &all
        }
    };
    let reference = model.ambito.data_riferimento;
    let public = !sees_all(layer.caller());
    let reasons = |t: String| if public { protect_reasons(&t) } else { t };
    let out = sel
        .iter()
        .filter(|&&i| i < n)
        .filter_map(|&i| row(a, layer, i))
        .map(|i| match layer.id() {
            LayerId::Comuni => {
                let c = &model.comuni[i];
                let mut stats = vacancy
                    .per_comune
                    .iter()
                    .find(|s| s.istat == c.istat)
                    .and_then(|s| serde_json::to_value(s).ok())
                    .unwrap_or_else(|| json!({"istat": c.istat, "nome": c.nome}));
                // Private stock: aggregates only.
                if let (Some(p), Some(obj)) = (
                    privato.per_comune.iter().find(|p| p.istat == c.istat),
                    stats.as_object_mut(),
                ) {
                    let f = &p.figure;
                    for (k, v) in [
                        ("abitazioni_stimate", json!(f.abitazioni_stimate)),
                        (
                            "abitazioni_non_occupate_stimate",
                            json!(f.abitazioni_non_occupate_stimate),
                        ),
                        ("quota_non_occupate", share(f.quota_non_occupate)),
                        ("privati_offerti", json!(f.privati_offerti)),
                        ("privati_in_offerta", json!(f.privati_in_offerta)),
                        (
                            "privati_locati_concordato",
                            json!(f.privati_locati_concordato),
                        ),
                        ("privati_ritirati", json!(f.privati_ritirati)),
                        ("privati_rimessi_in_uso", json!(f.privati_rimessi_in_uso)),
                    ] {
                        obj.insert(k.into(), v);
                    }
                }
                // A point inside the comune (labels, per-comune symbols): the centre of the
                // box can fall outside a concave or fragmented comune.
                if let (Some(p), Some(obj)) = (
                    geo::InteriorPoint::interior_point(&c.geometry),
                    stats.as_object_mut(),
                ) {
                    let r = |v: f64| (v * 1e6).round() / 1e6;
                    obj.insert("lon_interno".into(), json!(r(p.x())));
                    obj.insert("lat_interno".into(), json!(r(p.y())));
                }
                if let Some(obj) = stats.as_object_mut() {
                    protect_feature(layer, obj);
                }
                feature(
                    c.istat.clone(),
                    geometry.then(|| polygon_geometry(&c.geometry)),
                    stats,
                )
            }
            LayerId::Fogli => {
                let f = &model.fogli[i];
                feature(
                    f.riferimento.clone(),
                    geometry.then(|| polygon_geometry(&f.geometry)),
                    json!({
                        "riferimento": f.riferimento,
                        "belfiore": f.belfiore,
                        "sezione": f.sezione,
                        "foglio": f.foglio,
                        "scala": f.scala,
                    }),
                )
            }
            LayerId::Particelle => particella_feature!(model.particelle[i], geometry),
            LayerId::Fabbricati => particella_feature!(model.fabbricati[i], geometry),
            LayerId::AlloggiPubblici => {
                let u = &model.alloggi_pubblici[i];
                feature(
                    format!("{}|{}", u.ente_proprietario, u.codice_unita),
                    u.posizione
                        .as_ref()
                        .filter(|_| geometry)
                        .map(point_geometry),
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
                        "riferimento_catastale": riferimento_unita!(u),
                        "categoria_catastale": u.categoria_catastale,
                        "superficie_mq": u.superficie_mq,
                        "localizzazione": u.localizzazione,
                        "disponibile_anno": u.flag.disponibile_anno,
                        "assegnabile_stato_di_fatto": u.flag.assegnabile_stato_di_fatto,
                        "in_programma_ristrutturazione": u.flag.in_programma_ristrutturazione,
                        "nuova_edificazione": u.flag.nuova_edificazione,
                        "turn_over": u.flag.turn_over,
                        "conferita_da_privati": u.flag.conferita_da_privati,
                        "assegnata_anno_precedente": u.flag.assegnata_anno_precedente,
                    }),
                )
            }
            LayerId::PgtZone => {
                let z = &model.pgt_zone[i];
                feature(
                    format!("pgt_zone.{i}"),
                    geometry.then(|| polygon_geometry(&z.geometry)),
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
            LayerId::StockPrivato => {
                let t = &model.stime_non_occupate[i];
                let comune = t
                    .comune_istat
                    .as_deref()
                    .and_then(|k| model.comune_by_istat(k));
                let quota = (t.abitazioni_totali > 0)
                    .then(|| f64::from(t.abitazioni_non_occupate) / f64::from(t.abitazioni_totali));
                let mut p = json!({
                    "codice": t.codice,
                    "comune": comune.map(|c| c.nome.clone()),
                    "comune_istat": t.comune_istat,
                    "abitazioni_totali": t.abitazioni_totali,
                    "abitazioni_non_occupate": t.abitazioni_non_occupate,
                    "quota_non_occupate": share(quota),
                });
                if let Some(obj) = p.as_object_mut() {
                    protect_feature(layer, obj);
                }
                feature(
                    format!("stock_privato.{i}"),
                    geometry.then(|| polygon_geometry(&t.geometry)),
                    p,
                )
            }
            LayerId::AreeCandidate => {
                let c = &a.candidate.candidate[i];
                feature(
                    c.id.clone(),
                    geometry.then(|| polygon_geometry(&c.geometry)),
                    json!({
                        "id": c.id,
                        "comune": c.comune_nome,
                        "comune_istat": c.comune_istat,
                        "fonte": c.fonte.code(),
                        "fonte_label": c.fonte.label_it(),
                        "denominazione": c.denominazione,
                        "punteggio": c.punteggio,
                        "punteggio_dettaglio": reasons(punteggio_testo(&c.punteggio_voci)),
                        "area_ha": (c.area_ha * 100.0).round() / 100.0,
                        "alloggi_stimati": c.alloggi_stimati,
                        "motivi": reasons(c.motivi.join("; ")),
                        "esclusioni": esclusioni_testo(&c.esclusioni),
                    }),
                )
            }
            LayerId::AreeEscluse => {
                let e = &a.candidate.escluse[i];
                feature(
                    e.id.clone(),
                    geometry.then(|| polygon_geometry(&e.geometry)),
                    json!({
                        "id": e.id,
                        "comune": e.comune_nome,
                        "comune_istat": e.comune_istat,
                        "fonte": e.fonte.code(),
                        "fonte_label": e.fonte.label_it(),
                        "denominazione": e.denominazione,
                        "area_ha": (e.area_origine_ha * 100.0).round() / 100.0,
                        "motivo": e.motivo,
                        "esclusioni": esclusioni_testo(&e.esclusioni),
                    }),
                )
            }
            LayerId::PuntiServizio => {
                let s = &model.servizi_puntuali[i];
                let comune = comune_of(a, &s.posizione);
                let pref = a.regole.preferenze.servizi_puntuali.get(&s.tipo);
                feature(
                    format!("punti_servizio.{i}"),
                    geometry.then(|| point_geometry(&s.posizione)),
                    json!({
                        "tipo": s.tipo,
                        "tipo_label": tipo_servizio_label(&s.tipo),
                        "nome": s.nome,
                        "comune": comune.map(|c| &c.nome),
                        "comune_istat": comune.map(|c| &c.istat),
                        "nel_punteggio": pref.is_some(),
                        "distanza_max_m": pref.map(|p| p.distanza_max_m),
                        "punti": pref.map(|p| p.punti),
                    }),
                )
            }
            LayerId::AlloggiPrivati => {
                let u = &model.alloggi_privati[i];
                feature(
                    u.codice.clone(),
                    u.posizione
                        .as_ref()
                        .filter(|_| geometry)
                        .map(point_geometry),
                    json!({
                        "codice": u.codice,
                        "comune": u.comune_nome,
                        "comune_istat": u.comune_istat,
                        "indirizzo": u.indirizzo,
                        "riferimento_catastale": riferimento_unita!(u),
                        "categoria_catastale": u.categoria_catastale,
                        "superficie_mq": u.superficie_mq,
                        "canone_mensile": u.canone_mensile,
                        "stato": u.stato.code(),
                        "stato_label": u.stato.label_it(),
                        "data_offerta": iso(Some(u.data_offerta)),
                        "data_locazione": iso(u.data_locazione),
                        "data_ritiro": iso(u.data_ritiro),
                        "localizzazione": u.localizzazione,
                    }),
                )
            }
            LayerId::Vincoli => {
                let v = &model.vincoli[i];
                feature(
                    format!("vincoli.{i}"),
                    geometry.then(|| polygon_geometry(&v.geometry)),
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
    out
}

/// The comune a point lies in (through the comuni's R-tree).
fn comune_of<'a>(a: &'a Analisi, p: &Point<f64>) -> Option<&'a crate::model::Comune> {
    use geo::Intersects;
    a.index
        .comuni
        .query_point(p.x(), p.y())
        .into_iter()
        .filter_map(|k| a.model.comuni.get(k))
        .find(|c| c.geometry.intersects(p))
}

/// The Italian name of a kind of service point: the registry's label for the kinds it
/// draws, the kind as written otherwise.
fn tipo_servizio_label(tipo: &str) -> String {
    crate::output::layers::TIPI_SERVIZIO
        .iter()
        .find(|c| c.value == tipo)
        .map_or_else(|| tipo.replace('_', " "), |c| c.label.to_string())
}

/// The cadastral fields a parcel and a building share, as [`particella_feature`] renders them.
macro_rules! cadastral_field {
    ($p:expr, $key:expr) => {
        match $key {
            "riferimento" => json!($p.riferimento),
            "belfiore" => json!($p.belfiore),
            "sezione" => json!($p.sezione),
            "foglio" => json!($p.foglio),
            "particella" => json!($p.particella),
            _ => return None,
        }
    };
}

/// Property `key` of the feature at position `i`, read straight from the model record when
/// it is a plain field of it (text, codes, counts), without building the feature. `None` when
/// the property is computed (areas, labels, per-comune figures: render it with
/// [`layer_properties`]), when the layer has no such property, or when `i` is out of range.
/// A value given is the rendered property's value: the tests compare both on every feature.
pub fn plain_property(a: &Analisi, layer: Layer, i: usize, key: &str) -> Option<JsonValue> {
    let i = row(a, layer, i)?;
    // What the public may not see is only ever read from the rendered (protected) feature.
    if !sees_all(layer.caller())
        && layer
            .info()
            .column(key)
            .is_some_and(|c| c.protection != Protection::Open)
    {
        return None;
    }
    let m = &a.model;
    Some(match layer.id() {
        LayerId::Comuni => return None,
        LayerId::Particelle => cadastral_field!(m.particelle[i], key),
        LayerId::Fabbricati => cadastral_field!(m.fabbricati[i], key),
        LayerId::Fogli => {
            let f = &m.fogli[i];
            match key {
                "riferimento" => json!(f.riferimento),
                "belfiore" => json!(f.belfiore),
                "sezione" => json!(f.sezione),
                "foglio" => json!(f.foglio),
                "scala" => json!(f.scala),
                _ => return None,
            }
        }
        LayerId::AlloggiPubblici => {
            let u = &m.alloggi_pubblici[i];
            match key {
                "ente_proprietario" => json!(u.ente_proprietario),
                "codice_unita" => json!(u.codice_unita),
                "comune" => json!(u.comune_nome),
                "comune_istat" => json!(u.comune_istat),
                "indirizzo" => json!(u.indirizzo),
                "servizio" => json!(u.servizio.code()),
                "stato" => json!(u.stato.code()),
                "inutilizzato" => json!(u.stato.is_unused()),
                "categoria_catastale" => json!(u.categoria_catastale),
                "superficie_mq" => json!(u.superficie_mq),
                "disponibile_anno" => json!(u.flag.disponibile_anno),
                "turn_over" => json!(u.flag.turn_over),
                "in_programma_ristrutturazione" => json!(u.flag.in_programma_ristrutturazione),
                "assegnata_anno_precedente" => json!(u.flag.assegnata_anno_precedente),
                _ => return None,
            }
        }
        LayerId::PgtZone => {
            let z = &m.pgt_zone[i];
            match key {
                "classe" => json!(z.classe.code()),
                "legenda" => json!(z.legenda),
                "codice_destinazione" => json!(z.codice_destinazione),
                "comune" => json!(z.comune_nome),
                "comune_istat" => json!(z.comune_istat),
                "fonte" => json!(z.fonte),
                _ => return None,
            }
        }
        LayerId::Vincoli => {
            let v = &m.vincoli[i];
            match key {
                "codice" => json!(v.codice),
                "nome" => json!(v.nome),
                "comune" => json!(v.comune_nome),
                "comune_istat" => json!(v.comune_istat),
                "fonte" => json!(v.fonte),
                _ => return None,
            }
        }
        LayerId::StockPrivato => {
            let t = &m.stime_non_occupate[i];
            match key {
                "codice" => json!(t.codice),
                "comune_istat" => json!(t.comune_istat),
                "abitazioni_totali" => json!(t.abitazioni_totali),
                "abitazioni_non_occupate" => json!(t.abitazioni_non_occupate),
                _ => return None,
            }
        }
        LayerId::AreeCandidate => {
            let c = &a.candidate.candidate[i];
            match key {
                "id" => json!(c.id),
                "comune" => json!(c.comune_nome),
                "comune_istat" => json!(c.comune_istat),
                "fonte" => json!(c.fonte.code()),
                "denominazione" => json!(c.denominazione),
                "punteggio" => json!(c.punteggio),
                "alloggi_stimati" => json!(c.alloggi_stimati),
                _ => return None,
            }
        }
        LayerId::AreeEscluse => {
            let e = &a.candidate.escluse[i];
            match key {
                "id" => json!(e.id),
                "comune" => json!(e.comune_nome),
                "comune_istat" => json!(e.comune_istat),
                "fonte" => json!(e.fonte.code()),
                "denominazione" => json!(e.denominazione),
                "motivo" => json!(e.motivo),
                _ => return None,
            }
        }
        LayerId::PuntiServizio => {
            let s = &m.servizi_puntuali[i];
            match key {
                "tipo" => json!(s.tipo),
                "nome" => json!(s.nome),
                _ => return None,
            }
        }
        LayerId::AlloggiPrivati => {
            let u = &m.alloggi_privati[i];
            match key {
                "codice" => json!(u.codice),
                "comune" => json!(u.comune_nome),
                "comune_istat" => json!(u.comune_istat),
                "indirizzo" => json!(u.indirizzo),
                "categoria_catastale" => json!(u.categoria_catastale),
                "superficie_mq" => json!(u.superficie_mq),
                "canone_mensile" => json!(u.canone_mensile),
                "stato" => json!(u.stato.code()),
                _ => return None,
            }
        }
    })
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
