//! MapLibre style (version 8) over the vector tiles, with the web map's colours: comuni in
//! ColorBrewer YlOrRd by unused public dwellings (quantile classes computed as the map does),
//! public dwellings by state in Okabe–Ito, PGT classes, constraints, cadastre, candidate
//! social-housing areas by score (viridis) and the areas excluded whole (grey, hatched by the
//! page), with labels (comuni, neighbouring comuni, cadastral sheets and parcels, the units'
//! addresses) in DejaVu Sans from the server's own glyph ranges (`output::glyphs`), and the
//! neighbouring comuni in light grey under everything (`output::contesto`). No sprites, and no
//! request leaves the server unless the project names a raster background (`[mappa.sfondo]`).
//!
//! `aree_escluse` is styled only when it is a served public layer (the tiles carry every served
//! layer): every style layer names a source layer of the tiles. The page shows its switch only
//! when the TileJSON lists it.

use serde_json::{json, Value};

use crate::analysis::candidates::FonteCandidata;
use crate::analysis::vacancy::Vacancy;
use crate::project::Sfondo;

use super::layers::{
    self, Audience, Category, LayerId, Palette, COLORE_OFFERTI, PURPLES, SOGLIE_PRIVATO,
    SOGLIE_PUNTEGGIO, VIRIDIS,
};
pub use super::layers::{GRIGIO_NESSUNO, YLORRD};
use super::mvt::layer_min_zoom;

/// The unit states' (value, colour) pairs of the registry, for the report's charts.
pub const STATI: [(&str, &str); 4] = [stato(0), stato(1), stato(2), stato(3)];

const fn stato(i: usize) -> (&'static str, &'static str) {
    (layers::STATI[i].value, layers::STATI[i].colour)
}

/// Whether the areas excluded whole are a public layer (and so in the public tiles).
pub fn escluse_servite() -> bool {
    layers::info_of(LayerId::AreeEscluse).visible_to(Audience::Pubblico)
}
/// Name of the vector source in the style.
pub const SOURCE: &str = "abitare";

/// Quantile class breaks of integer values above zero (as `calcolaClassi` in
/// `web/js/choropleth.js`):
/// the first is the minimum, then up to `k - 1` rounded-up quantiles.
pub fn class_breaks(values: &[f64], k: usize) -> Vec<f64> {
    let mut v: Vec<f64> = values
        .iter()
        .copied()
        .filter(|x| x.is_finite() && *x > 0.0)
        .collect();
    v.sort_by(f64::total_cmp);
    let (Some(&min), Some(&max)) = (v.first(), v.last()) else {
        return Vec::new();
    };
    let mut breaks = vec![min.floor()];
    for i in 1..k {
        let q = v[((i * v.len()) / k).min(v.len() - 1)];
        let s = q.ceil();
        if breaks.last().is_some_and(|l| s > l + 1e-9) && s <= max {
            breaks.push(s);
        }
    }
    breaks
}

/// The colour expression of comuni by `inutilizzati`.
pub fn comuni_fill_color(breaks: &[f64]) -> Value {
    if breaks.is_empty() {
        return json!(GRIGIO_NESSUNO);
    }
    let mut step = vec![
        json!("step"),
        json!(["to-number", ["get", "inutilizzati"], 0]),
        json!(YLORRD[0]),
    ];
    for (i, b) in breaks.iter().enumerate().skip(1) {
        step.push(json!(b));
        step.push(json!(YLORRD[i.min(YLORRD.len() - 1)]));
    }
    json!([
        "case",
        ["<=", ["to-number", ["get", "inutilizzati"], 0], 0],
        GRIGIO_NESSUNO,
        step
    ])
}

/// The font stack of every label (served by `/fonts/{fontstack}/{range}.pbf`).
pub const FONT: &str = super::glyphs::FONT_NAME;
/// Zoom below which the comuni are named (and their neighbours).
pub const ZOOM_MAX_NOMI_COMUNI: u8 = 14;
/// Zoom from which cadastral sheets are numbered.
pub const ZOOM_NUMERI_FOGLI: u8 = 13;
/// Zoom from which parcels are numbered.
pub const ZOOM_NUMERI_PARTICELLE: u8 = 16;
/// Zoom from which the units' addresses are written.
pub const ZOOM_INDIRIZZI: u8 = 15;

/// What the style points at besides the data.
#[derive(Debug, Clone)]
pub struct StyleOptions<'a> {
    /// Base of the server's URLs (`http://host:port`; empty for root-relative URLs).
    pub base: &'a str,
    /// Bounds of the data, `[west, south, east, north]`.
    pub bounds: Option<[f64; 4]>,
    pub max_zoom: u8,
    /// One label point per comune of the Ambito (`output::contesto::comuni_etichette`).
    pub comuni_etichette: Value,
    /// The project's raster background.
    pub sfondo: Option<&'a Sfondo>,
}

/// A text label layer in the map's font, with a halo for legibility over any colour.
fn label(id: &str, source: &str, source_layer: Option<&str>, text: Value, size: Value) -> Value {
    let mut l = json!({
        "id": id, "type": "symbol", "source": source,
        "layout": {
            "text-field": text,
            "text-font": [FONT],
            "text-size": size,
            "text-max-width": 8,
            "text-padding": 2,
        },
        "paint": {
            "text-color": "#1a1a1a",
            "text-halo-color": "rgba(255, 255, 255, 0.92)",
            "text-halo-width": 1.6,
            "text-halo-blur": 0.4,
        },
    });
    if let Some(sl) = source_layer {
        l["source-layer"] = json!(sl);
    }
    l
}

/// The style for `caller`: only style layers of the tile layers it may see (the unit points
/// and their addresses for the Tavolo and beyond, the private units offered to the desk for
/// the Ambito office), tiles at `{base}/tiles/{z}/{x}/{y}.mvt`.
pub fn style(caller: Audience, vacancy: &Vacancy, opts: &StyleOptions) -> Value {
    let base = opts.base;
    let tiles_url = format!("{base}/tiles/{{z}}/{{x}}/{{y}}.mvt");
    let (bounds, max_zoom) = (opts.bounds, opts.max_zoom);
    let values: Vec<f64> = vacancy
        .per_comune
        .iter()
        .map(|c| f64::from(c.conteggi.inutilizzati))
        .collect();
    let breaks = class_breaks(&values, YLORRD.len());
    let (vincoli_fill, vincoli_line) = unico(LayerId::Vincoli);
    let (_, fogli_line) = unico(LayerId::Fogli);
    let (_, particelle_line) = unico(LayerId::Particelle);
    let stato_color = match_expression(LayerId::AlloggiPubblici);
    let pgt_color = match_expression(LayerId::PgtZone);
    let mut privato_step = vec![
        json!("step"),
        json!(["to-number", ["get", "quota_non_occupate"], 0]),
        json!(PURPLES[0]),
    ];
    for (s, c) in SOGLIE_PRIVATO.iter().zip(PURPLES.iter()).skip(1) {
        privato_step.push(json!(s));
        privato_step.push(json!(c));
    }
    let mut punteggio_step = vec![
        json!("step"),
        json!(["to-number", ["get", "punteggio"], 0]),
        json!(VIRIDIS[0]),
    ];
    for (s, c) in SOGLIE_PUNTEGGIO.iter().zip(VIRIDIS.iter()).skip(1) {
        punteggio_step.push(json!(s));
        punteggio_step.push(json!(c));
    }
    let mut source = json!({
        "type": "vector",
        "tiles": [tiles_url],
        "minzoom": 0,
        "maxzoom": max_zoom,
        "attribution": "abitare – dati dell'Ambito",
        // Feature ids for feature-state (selected comune) and de-duplication across tiles.
        "promoteId": {"comuni": "istat", "alloggi_pubblici": "id", "aree_candidate": "id", "aree_escluse": "id"},
    });
    if let Some(b) = bounds {
        source["bounds"] = json!(b);
    }
    let center = bounds
        .map(|b| json!([(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0]))
        .unwrap_or(json!([10.0, 45.9]));
    let mut comuni_nomi = label(
        "comuni-etichette",
        "comuni-etichette",
        None,
        json!(["get", "nome"]),
        json!(["interpolate", ["linear"], ["zoom"], 9, 11, 12, 14, 14, 16]),
    );
    comuni_nomi["maxzoom"] = json!(ZOOM_MAX_NOMI_COMUNI);
    // The most populous comuni first, when names collide.
    comuni_nomi["layout"]["symbol-sort-key"] =
        json!(["-", ["to-number", ["get", "popolazione"], 0]]);
    let mut confinanti_nomi = label(
        "confinanti-etichette",
        "confinanti-etichette",
        None,
        json!(["get", "nome"]),
        json!(["interpolate", ["linear"], ["zoom"], 9, 10, 12, 13]),
    );
    confinanti_nomi["maxzoom"] = json!(ZOOM_MAX_NOMI_COMUNI);
    confinanti_nomi["paint"]["text-color"] = json!("#5f5f5a");
    let mut fogli_numeri = label(
        "fogli-etichette",
        SOURCE,
        Some("fogli"),
        json!(["concat", "Foglio ", ["get", "foglio"]]),
        json!(["interpolate", ["linear"], ["zoom"], 13, 11, 16, 14]),
    );
    fogli_numeri["minzoom"] = json!(ZOOM_NUMERI_FOGLI);
    fogli_numeri["layout"]["visibility"] = json!("none");
    fogli_numeri["paint"]["text-color"] = json!("#0b3d66");
    fogli_numeri["layout"]["text-padding"] = json!(12);
    let mut particelle_numeri = label(
        "particelle-etichette",
        SOURCE,
        Some("particelle"),
        json!(["get", "particella"]),
        json!(11),
    );
    particelle_numeri["minzoom"] = json!(ZOOM_NUMERI_PARTICELLE);
    // Roads and waters of the cadastre (STRADA…, ACQUA…) are not numbers a person looks for.
    particelle_numeri["filter"] = json!([
        "!",
        [
            "any",
            ["in", "STRADA", ["to-string", ["get", "particella"]]],
            ["in", "ACQUA", ["to-string", ["get", "particella"]]]
        ]
    ]);
    // A parcel cut by a tile edge has a label in each tile: room around a label hides the
    // second one when the two are close.
    particelle_numeri["layout"]["text-padding"] = json!(7);
    particelle_numeri["layout"]["visibility"] = json!("none");
    particelle_numeri["paint"]["text-color"] = json!("#4d4d4d");
    let mut indirizzi = label(
        "alloggi-indirizzi",
        SOURCE,
        Some("alloggi_pubblici"),
        json!(["get", "indirizzo"]),
        json!(12),
    );
    indirizzi["minzoom"] = json!(ZOOM_INDIRIZZI);
    indirizzi["layout"]["text-anchor"] = json!("left");
    indirizzi["layout"]["text-offset"] = json!([0.9, 0]);
    indirizzi["layout"]["text-max-width"] = json!(14);
    let mut sources = json!({
        "abitare": source,
        "contesto": {
            "type": "geojson",
            "data": format!("{base}/api/contesto/confinanti.geojson"),
            "attribution": super::contesto::ATTRIBUZIONE_CONFINI,
        },
        "confinanti-etichette": {"type": "geojson", "data": super::contesto::confinanti_etichette()},
        "comuni-etichette": {"type": "geojson", "data": opts.comuni_etichette},
    });
    let mut sotto = vec![
        json!({"id": "sfondo", "type": "background", "paint": {"background-color": "#f4f3ef"}}),
    ];
    if let Some(sf) = opts.sfondo {
        let size = sf.dimensione();
        // WMS answers images of any size: ask for them at the tile size.
        let url = sf
            .url
            .replace("{width}", &size.to_string())
            .replace("{height}", &size.to_string());
        sources["sfondo-raster"] = json!({
            "type": "raster",
            "tiles": [url],
            "tileSize": size,
            "attribution": sf.attribuzione,
        });
        sotto.push(json!({
            "id": "sfondo-raster", "type": "raster", "source": "sfondo-raster",
            "paint": {"raster-opacity": 0.85, "raster-saturation": -0.4},
        }));
    }
    sotto.push(json!({
        "id": "confinanti-fill", "type": "fill", "source": "contesto",
        "paint": {"fill-color": "#d9d9d4", "fill-opacity": 0.55},
    }));
    sotto.push(json!({
        "id": "confinanti-line", "type": "line", "source": "contesto",
        "paint": {"line-color": "#8f8f89", "line-width": 0.8},
    }));
    let mut v = json!({
        "version": 8,
        "name": "abitare",
        "glyphs": format!("{base}/fonts/{{fontstack}}/{{range}}.pbf"),
        "metadata": {
            "abitare:classi_inutilizzati": breaks,
            "abitare:soglie_punteggio": SOGLIE_PUNTEGGIO,
            "abitare:layer": palette_metadata(caller),
            "abitare:palettes": page_palettes(),
            "abitare:fonti_candidate": fonti_candidate(),
        },
        "center": center,
        "zoom": 10,
        "sources": sources,
        "layers": [
            {
                "id": "comuni-fill", "type": "fill", "source": SOURCE, "source-layer": "comuni",
                "paint": {
                    "fill-color": comuni_fill_color(&breaks),
                    "fill-opacity": ["interpolate", ["linear"], ["zoom"], 10, 0.85, 14, 0.45, 16, 0.2],
                },
            },
            {
                "id": "privato-fill", "type": "fill", "source": SOURCE, "source-layer": "stock_privato",
                "layout": {"visibility": "none"},
                "paint": {
                    "fill-color": ["case", ["==", ["get", "quota_non_occupate"], null], GRIGIO_NESSUNO, privato_step],
                    "fill-opacity": 0.85,
                },
            },
            {
                "id": "privato-line", "type": "line", "source": SOURCE, "source-layer": "stock_privato",
                "layout": {"visibility": "none"},
                "paint": {"line-color": "#3f007d", "line-width": 0.6, "line-opacity": 0.7},
            },
            {
                "id": "pgt-fill", "type": "fill", "source": SOURCE, "source-layer": "pgt_zone",
                "minzoom": layer_min_zoom("pgt_zone"),
                "layout": {"visibility": "none"},
                "paint": {"fill-color": pgt_color, "fill-opacity": 0.6},
            },
            {
                "id": "pgt-line", "type": "line", "source": SOURCE, "source-layer": "pgt_zone",
                "minzoom": layer_min_zoom("pgt_zone"),
                "layout": {"visibility": "none"},
                "paint": {"line-color": "#555555", "line-width": 0.5, "line-opacity": 0.6},
            },
            {
                "id": "aree-candidate-fill", "type": "fill", "source": SOURCE, "source-layer": "aree_candidate",
                "layout": {"visibility": "none"},
                "paint": {"fill-color": punteggio_step, "fill-opacity": 0.8},
            },
            {
                "id": "aree-candidate-line", "type": "line", "source": SOURCE, "source-layer": "aree_candidate",
                "layout": {"visibility": "none"},
                "paint": {
                    "line-color": "#1a1a1a",
                    "line-width": ["interpolate", ["linear"], ["zoom"], 10, 0.8, 15, 2],
                },
            },
            {
                "id": "comuni-line", "type": "line", "source": SOURCE, "source-layer": "comuni",
                "paint": {
                    "line-color": ["case", ["boolean", ["feature-state", "selezionato"], false], "#000000", "#4d4d4d"],
                    "line-width": ["case", ["boolean", ["feature-state", "selezionato"], false], 3, 1],
                },
            },
            {
                "id": "vincoli-fill", "type": "fill", "source": SOURCE, "source-layer": "vincoli",
                "minzoom": layer_min_zoom("vincoli"),
                "layout": {"visibility": "none"},
                "paint": {"fill-color": vincoli_fill, "fill-opacity": 0.15},
            },
            {
                "id": "vincoli-line", "type": "line", "source": SOURCE, "source-layer": "vincoli",
                "minzoom": layer_min_zoom("vincoli"),
                "layout": {"visibility": "none"},
                "paint": {"line-color": vincoli_line, "line-width": 1.5},
            },
            {
                "id": "fogli-line", "type": "line", "source": SOURCE, "source-layer": "fogli",
                "minzoom": layer_min_zoom("fogli"),
                "layout": {"visibility": "none"},
                "paint": {"line-color": fogli_line, "line-width": 1.6, "line-dasharray": [4, 2]},
            },
            {
                "id": "particelle-line", "type": "line", "source": SOURCE, "source-layer": "particelle",
                "minzoom": layer_min_zoom("particelle"),
                "layout": {"visibility": "none"},
                "paint": {"line-color": particelle_line, "line-width": 0.7},
            },
            {
                "id": "alloggi", "type": "circle", "source": SOURCE, "source-layer": "alloggi_pubblici",
                "layout": {
                    "circle-sort-key": ["match", ["get", "stato"], "occupato", 0, "libero", 1,
                        "sfitto_carenze_manutentive", 2, "sfitto_ristrutturazione", 3, 0],
                },
                "paint": {
                    "circle-color": stato_color,
                    "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 3, 12, 5, 15, 8, 18, 12],
                    "circle-stroke-color": "#ffffff",
                    "circle-stroke-width": ["interpolate", ["linear"], ["zoom"], 9, 1, 15, 1.5, 18, 2],
                },
            },
            // Above the parcels' numbers: placed first, a sheet's number wins a collision.
            particelle_numeri,
            fogli_numeri,
            indirizzi,
        ],
    });
    if let Some(list) = v["layers"].as_array_mut() {
        for (i, l) in sotto.into_iter().enumerate() {
            list.insert(i, l);
        }
    }
    if escluse_servite() {
        insert_escluse(&mut v);
    }
    if layers::info_of(LayerId::AlloggiPrivati).visible_to(caller) {
        if let Some(list) = v["layers"].as_array_mut() {
            list.push(json!({
                "id": "alloggi-privati", "type": "circle", "source": SOURCE,
                "source-layer": "alloggi_privati",
                "paint": {
                    "circle-color": match_expression(LayerId::AlloggiPrivati),
                    "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 3, 12, 5, 15, 8, 18, 11],
                    "circle-stroke-color": "#1a1a1a",
                    "circle-stroke-width": 1.5,
                },
            }));
        }
    }
    // Names last: placed first, above every other label.
    if let Some(list) = v["layers"].as_array_mut() {
        list.push(confinanti_nomi);
        list.push(comuni_nomi);
    }
    // Nothing of a layer the caller may not see: not its style layers, not its id.
    if let Some(list) = v["layers"].as_array_mut() {
        list.retain(|l| {
            l["source-layer"]
                .as_str()
                .is_none_or(|name| layers::info(name).is_some_and(|i| i.visible_to(caller)))
        });
    }
    if let Some(ids) = v["sources"][SOURCE]["promoteId"].as_object_mut() {
        ids.retain(|name, _| layers::info(name).is_some_and(|i| i.visible_to(caller)));
        if layers::info_of(LayerId::AlloggiPrivati).visible_to(caller) {
            ids.insert("alloggi_privati".into(), json!("codice"));
        }
    }
    v
}

/// The fill and outline colours of a layer with a single-colour palette.
fn unico(id: LayerId) -> (&'static str, &'static str) {
    match layers::info_of(id).palette {
        Palette::Unico { fill, outline, .. } => (fill, outline),
        _ => (GRIGIO_NESSUNO, GRIGIO_NESSUNO),
    }
}

/// A MapLibre `match` expression colouring a layer by its categorical palette.
fn match_expression(id: LayerId) -> Value {
    let (property, classes, other): (&str, &[Category], &str) = match layers::info_of(id).palette {
        Palette::Categorie {
            property,
            classes,
            other,
            ..
        } => (property, classes, other),
        _ => ("", &[], GRIGIO_NESSUNO),
    };
    let mut v = vec![json!("match"), json!(["get", property])];
    for c in classes {
        v.push(json!(c.value));
        v.push(json!(c.colour));
    }
    v.push(json!(other));
    Value::Array(v)
}

/// The registry's facts the page needs, for the layers `caller` may see: title, minimum
/// zoom and palette by layer name (the page draws its legends from them).
pub fn palette_metadata(caller: Audience) -> Value {
    let m: serde_json::Map<String, Value> = layers::visible(caller)
        .map(|l| {
            let i = l.info();
            (
                i.name.to_string(),
                json!({
                    "titolo": i.title,
                    "minzoom": i.min_zoom,
                    "palette": i.palette,
                }),
            )
        })
        .collect();
    Value::Object(m)
}

/// Colours the page draws that belong to no single layer's palette: the circles of private
/// units offered per comune (aggregates of `comuni`).
pub fn page_palettes() -> Value {
    json!({ "privati_offerti": COLORE_OFFERTI })
}

/// Italian labels of the candidate areas' sources, by code (the page's source filter).
pub fn fonti_candidate() -> Value {
    let m: serde_json::Map<String, Value> = FonteCandidata::ALL
        .iter()
        .map(|f| (f.code().to_string(), json!(f.label_it())))
        .collect();
    Value::Object(m)
}

/// Adds the layers of the areas excluded whole (grey, hidden by default) below the candidates.
fn insert_escluse(style: &mut Value) {
    let Some(layers) = style["layers"].as_array_mut() else {
        return;
    };
    let at = layers
        .iter()
        .position(|l| l["id"] == "aree-candidate-fill")
        .unwrap_or(layers.len());
    let (fill, outline) = unico(LayerId::AreeEscluse);
    let new = [
        json!({
            "id": "aree-escluse-fill", "type": "fill", "source": SOURCE, "source-layer": "aree_escluse",
            "layout": {"visibility": "none"},
            "paint": {"fill-color": fill, "fill-opacity": 0.35},
        }),
        json!({
            "id": "aree-escluse-line", "type": "line", "source": SOURCE, "source-layer": "aree_escluse",
            "layout": {"visibility": "none"},
            "paint": {"line-color": outline, "line-width": 1, "line-dasharray": [2, 2]},
        }),
    ];
    for (i, l) in new.into_iter().enumerate() {
        layers.insert(at + i, l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_like_the_web_map() {
        assert!(class_breaks(&[0.0, 0.0], 5).is_empty());
        assert_eq!(
            class_breaks(&[1.0, 2.0, 3.0, 4.0, 5.0, 0.0], 5),
            vec![1.0, 2.0, 3.0, 4.0, 5.0]
        );
        assert_eq!(class_breaks(&[2.0, 2.0, 2.0], 5), vec![2.0]);
    }

    #[test]
    fn candidate_layers_are_styled_by_score() {
        let v = crate::analysis::vacancy::vacancy(&crate::model::Model::empty(
            crate::model::AmbitoInfo {
                numero: None,
                nome: "x".into(),
                capofila: None,
                anno: 2026,
                data_riferimento: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
                dimostrativo: false,
            },
        ));
        let opts = StyleOptions {
            base: "http://x",
            bounds: None,
            max_zoom: 18,
            comuni_etichette: json!({"type": "FeatureCollection", "features": []}),
            sfondo: None,
        };
        let s = style(Audience::Pubblico, &v, &opts);
        let layers = s["layers"].as_array().cloned().unwrap_or_default();
        let by_id = |id: &str| layers.iter().find(|l| l["id"] == id).cloned();
        let fill = by_id("aree-candidate-fill").expect("candidate fill");
        assert_eq!(fill["source-layer"], "aree_candidate");
        let expr = fill["paint"]["fill-color"].to_string();
        for c in VIRIDIS {
            assert!(expr.contains(*c), "{c} in {expr}");
        }
        assert_eq!(by_id("aree-escluse-fill").is_some(), escluse_servite());
        let mut with = s.clone();
        insert_escluse(&mut with);
        let layers = with["layers"].as_array().cloned().unwrap_or_default();
        let pos = |id: &str| layers.iter().position(|l| l["id"] == id);
        assert!(pos("aree-escluse-fill") < pos("aree-candidate-fill"));
        let esc = layers
            .iter()
            .find(|l| l["id"] == "aree-escluse-fill")
            .expect("excluded fill");
        assert_eq!(esc["layout"]["visibility"], "none");
        assert_eq!(s["sources"]["abitare"]["promoteId"]["aree_candidate"], "id");
    }
}
