//! Candidate social-housing standard areas (DOMAIN.md, PGT section): where a PGT could place
//! social housing as a public service, and why there.
//!
//! [`screen`] is pure: it takes the model, its R-trees and the rules ([`Regole`], a TOML file
//! documented in `data/regole_aree_candidate.toml`) and returns every candidate with its
//! reasons, plus the source areas the exclusions removed entirely.
//!
//! Geometry is computed in UTM zone 32N (EPSG:32632, metres, through `crs::FromLonLat`):
//! areas are planar UTM areas (scale error below 0.1% in Lombardy), buffers and distances are
//! in metres. Results are projected back to lon/lat for the model. Exclusions are exact
//! boolean differences (`geo::BooleanOps`), prefiltered with the layers' R-trees.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use geo::{
    Area, BooleanOps, BoundingRect, Buffer, Distance, Euclidean, MapCoords, MultiPolygon, Point,
    Polygon, Rect,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::crs::{FromLonLat, ToLonLat};
use crate::index::ModelIndex;
use crate::model::normalize::normalize_tipo;
use crate::model::{ClasseZona, Model, StatoProprieta};

/// What made an area a candidate social-housing standard area (DOMAIN.md, PGT section).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FonteCandidata {
    /// A planned service area of the Piano dei Servizi.
    ServiziPrevisti,
    /// An ambito di trasformazione (the share of its standard ceded as dwellings).
    AmbitoTrasformazione,
    /// A regeneration area (L.R. 18/2019).
    Rigenerazione,
    /// A parcel of a comune or ALER with unused public units.
    PatrimonioPubblico,
    /// A parcel of other public property (office, school, depot) that is unused or underused.
    AltraProprietaPubblica,
}

impl FonteCandidata {
    pub const ALL: [FonteCandidata; 5] = [
        FonteCandidata::ServiziPrevisti,
        FonteCandidata::AmbitoTrasformazione,
        FonteCandidata::Rigenerazione,
        FonteCandidata::PatrimonioPubblico,
        FonteCandidata::AltraProprietaPubblica,
    ];
    pub fn code(self) -> &'static str {
        match self {
            FonteCandidata::ServiziPrevisti => "servizi_previsti",
            FonteCandidata::AmbitoTrasformazione => "ambito_trasformazione",
            FonteCandidata::Rigenerazione => "rigenerazione",
            FonteCandidata::PatrimonioPubblico => "patrimonio_pubblico",
            FonteCandidata::AltraProprietaPubblica => "altra_proprieta_pubblica",
        }
    }
    pub fn label_it(self) -> &'static str {
        match self {
            FonteCandidata::ServiziPrevisti => "Area per servizi prevista dal Piano dei Servizi",
            FonteCandidata::AmbitoTrasformazione => "Ambito di trasformazione (standard cedibile)",
            FonteCandidata::Rigenerazione => "Ambito di rigenerazione urbana",
            FonteCandidata::PatrimonioPubblico => "Patrimonio pubblico inutilizzato",
            FonteCandidata::AltraProprietaPubblica => {
                "Altra proprietà pubblica dismessa o sottoutilizzata"
            }
        }
    }
}

/// One item of a candidate's score: the rule, the points it gave and what was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VocePunteggio {
    /// Rule key (`servizi`, `tessuto_consolidato`, …).
    pub regola: String,
    pub punti: f64,
    /// The measured value and the threshold, in Italian.
    pub misura: String,
}

/// A part of a candidate cut by an exclusion rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EsclusioneParziale {
    /// Rule key (`vincolo:cimiteriale`, `agricolo`, `area_minima`).
    pub regola: String,
    /// Italian description (the constraint's name, buffer).
    pub descrizione: String,
    /// Hectares removed by this rule (in the order the rules were applied).
    pub ettari: f64,
}

/// A candidate social-housing standard area: a result of [`screen`], rendered by the layer
/// outputs from the analysis results (never stored in the model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaCandidata {
    /// Stable id: source, comune and ordinal, or the cadastral reference.
    pub id: String,
    pub comune_istat: Option<String>,
    pub comune_nome: Option<String>,
    pub fonte: FonteCandidata,
    /// What the source calls it (zone legend, ambito name, cadastral reference).
    pub denominazione: Option<String>,
    pub punteggio: f64,
    pub punteggio_voci: Vec<VocePunteggio>,
    /// Area left after the exclusions, hectares (UTM 32N).
    pub area_ha: f64,
    /// Area of the source feature, hectares.
    pub area_origine_ha: f64,
    /// Share of the area that could become social housing.
    pub quota: f64,
    pub alloggi_stimati: u32,
    /// Every reason, in Italian: the source, each rule passed with its measured value.
    pub motivi: Vec<String>,
    pub esclusioni: Vec<EsclusioneParziale>,
    pub geometry: MultiPolygon<f64>,
}

/// A source area removed whole by the exclusions, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaEsclusa {
    pub id: String,
    pub comune_istat: Option<String>,
    pub comune_nome: Option<String>,
    pub fonte: FonteCandidata,
    pub denominazione: Option<String>,
    pub area_origine_ha: f64,
    /// Why, in Italian.
    pub motivo: String,
    pub esclusioni: Vec<EsclusioneParziale>,
    pub geometry: MultiPolygon<f64>,
}

/// The built-in rules (the documented defaults).
pub const REGOLE_PREDEFINITE: &str = include_str!("../../data/regole_aree_candidate.toml");

/// Areas removed below this many square metres are rounding noise, not exclusions.
const EPSILON_M2: f64 = 0.01;

#[derive(Debug, Error)]
pub enum RegoleError {
    #[error("{origine}: regole delle aree candidate non valide: {message}")]
    Parse { origine: String, message: String },
    #[error("{origine}: regole delle aree candidate non valide: {chiave}: {message}")]
    Invalid {
        origine: String,
        chiave: String,
        message: String,
    },
}

/// How a project's rules file combines with the built-in one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modo {
    /// Key by key over the built-in rules.
    #[default]
    Estendi,
    /// Alone: what it does not name is off.
    Sostituisci,
}

/// The rules of the screening. Every missing key is "off" (zero points, source inactive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Regole {
    pub modo: Modo,
    pub generale: Generale,
    pub fonti: Fonti,
    pub esclusioni: Esclusioni,
    pub preferenze: Preferenze,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Generale {
    /// Dwellings per hectare.
    pub densita_alloggi_ha: f64,
    /// Smallest part kept, m².
    pub area_minima_mq: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fonti {
    pub servizi_previsti: FonteQuota,
    pub ambiti_trasformazione: FonteTrasformazione,
    pub rigenerazione: FonteQuota,
    pub patrimonio_pubblico: FontePatrimonio,
    pub altra_proprieta_pubblica: FonteAltraProprieta,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FonteQuota {
    pub attiva: bool,
    pub quota: f64,
    /// Overrides `generale.area_minima_mq` for this source.
    pub area_minima_mq: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FonteTrasformazione {
    pub attiva: bool,
    pub quota_standard: f64,
    pub quota_cedibile: f64,
    pub area_minima_mq: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FontePatrimonio {
    pub attiva: bool,
    /// Share of the parcel area counted as new capacity (the unused units are always counted).
    pub quota: f64,
    /// Owner-name fragments (any case) of the public owners considered.
    pub enti: Vec<String>,
    pub min_unita_inutilizzate: u32,
    pub area_minima_mq: Option<f64>,
}

/// Other public property (offices, schools, depots) listed by cadastral reference.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FonteAltraProprieta {
    pub attiva: bool,
    /// Share of the parcel area counted as dwellings (conversion of the building).
    pub quota: f64,
    /// States of use that make a property a candidate (`dismesso`, `sottoutilizzato`).
    pub stati: Vec<String>,
    pub area_minima_mq: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Esclusioni {
    pub agricolo: bool,
    pub non_soggetto_trasformazione: bool,
    /// By constraint kind (lower case); `*` for every other kind.
    pub vincoli: BTreeMap<String, RegolaVincolo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegolaVincolo {
    pub escludi: bool,
    pub buffer_m: f64,
}

impl Default for RegolaVincolo {
    fn default() -> Self {
        RegolaVincolo {
            escludi: true,
            buffer_m: 0.0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Preferenze {
    pub tessuto_consolidato: PrefTessuto,
    pub servizi: PrefServizi,
    pub alloggi_pubblici_vicini: PrefVicini,
    pub proprieta_pubblica: PrefPunti,
    pub domanda: PrefDomanda,
    /// Distance to the nearest existing service point of each kind (`input.servizi_puntuali`),
    /// by kind as written in the file's `tipo` (lower case, no accents: `scuola`, `sanita`).
    pub servizi_puntuali: BTreeMap<String, PrefServizi>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrefTessuto {
    pub punti: f64,
    pub classi: Vec<String>,
    pub quota_minima: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrefServizi {
    pub punti: f64,
    pub distanza_max_m: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrefVicini {
    pub punti_per_unita: f64,
    pub punti_max: f64,
    pub raggio_m: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrefPunti {
    pub punti: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrefDomanda {
    pub punti_popolazione: f64,
    pub popolazione_riferimento: f64,
    pub punti_pressione: f64,
    /// Housing pressure index (0–1) by ISTAT code.
    pub pressione: BTreeMap<String, f64>,
}

impl Regole {
    /// The built-in rules.
    pub fn predefinite() -> Regole {
        // The embedded file is parsed by a unit test; a failure here cannot come from input.
        Regole::parse(REGOLE_PREDEFINITE, "regole predefinite").unwrap_or_default()
    }

    /// Parses one rules file on its own (no combination with the built-in rules).
    pub fn parse(text: &str, origine: &str) -> Result<Regole, RegoleError> {
        let value: toml::Table = toml::from_str(text).map_err(|e| parse_err(origine, e))?;
        Regole::from_table(value, origine)
    }

    /// A project's rules: over the built-in ones (`modo = "estendi"`, the default) or alone
    /// (`modo = "sostituisci"`).
    pub fn del_progetto(text: &str, origine: &str) -> Result<Regole, RegoleError> {
        let user: toml::Table = toml::from_str(text).map_err(|e| parse_err(origine, e))?;
        let sostituisci =
            matches!(user.get("modo"), Some(toml::Value::String(m)) if m == "sostituisci");
        if sostituisci {
            return Regole::from_table(user, origine);
        }
        let mut base: toml::Table =
            toml::from_str(REGOLE_PREDEFINITE).map_err(|e| parse_err("regole predefinite", e))?;
        merge(&mut base, user);
        Regole::from_table(base, origine)
    }

    /// The rules as a complete TOML file (`modo = "sostituisci"`: reading it back gives the
    /// same rules whatever the built-in defaults are).
    pub fn to_toml(&self) -> String {
        let mut r = self.clone();
        r.modo = Modo::Sostituisci;
        toml::to_string(&r).unwrap_or_default()
    }

    fn from_table(t: toml::Table, origine: &str) -> Result<Regole, RegoleError> {
        let mut r: Regole = toml::Value::Table(t)
            .try_into()
            .map_err(|e: toml::de::Error| parse_err(origine, e))?;
        r.esclusioni.vincoli = std::mem::take(&mut r.esclusioni.vincoli)
            .into_iter()
            .map(|(k, v)| (k.trim().to_lowercase(), v))
            .collect();
        r.preferenze.servizi_puntuali = std::mem::take(&mut r.preferenze.servizi_puntuali)
            .into_iter()
            .map(|(k, v)| (normalize_tipo(&k), v))
            .collect();
        r.validate(origine)?;
        Ok(r)
    }

    fn validate(&self, origine: &str) -> Result<(), RegoleError> {
        let bad = |chiave: &str, message: String| RegoleError::Invalid {
            origine: origine.into(),
            chiave: chiave.into(),
            message,
        };
        let non_negative = |chiave: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(bad(chiave, format!("{v} non valido (numero ≥ 0)")))
            }
        };
        let share = |chiave: &str, v: f64| {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(bad(chiave, format!("{v} non valido (quota tra 0 e 1)")))
            }
        };
        let g = &self.generale;
        non_negative("generale.densita_alloggi_ha", g.densita_alloggi_ha)?;
        non_negative("generale.area_minima_mq", g.area_minima_mq)?;
        let f = &self.fonti;
        share("fonti.servizi_previsti.quota", f.servizi_previsti.quota)?;
        share("fonti.rigenerazione.quota", f.rigenerazione.quota)?;
        share(
            "fonti.patrimonio_pubblico.quota",
            f.patrimonio_pubblico.quota,
        )?;
        share(
            "fonti.altra_proprieta_pubblica.quota",
            f.altra_proprieta_pubblica.quota,
        )?;
        for st in &f.altra_proprieta_pubblica.stati {
            if stato_proprieta(st).is_none() {
                return Err(bad(
                    "fonti.altra_proprieta_pubblica.stati",
                    format!("stato sconosciuto {st:?} (in_uso, sottoutilizzato, dismesso)"),
                ));
            }
        }
        share(
            "fonti.ambiti_trasformazione.quota_standard",
            f.ambiti_trasformazione.quota_standard,
        )?;
        share(
            "fonti.ambiti_trasformazione.quota_cedibile",
            f.ambiti_trasformazione.quota_cedibile,
        )?;
        for (k, v) in [
            ("servizi_previsti", f.servizi_previsti.area_minima_mq),
            (
                "ambiti_trasformazione",
                f.ambiti_trasformazione.area_minima_mq,
            ),
            ("rigenerazione", f.rigenerazione.area_minima_mq),
            ("patrimonio_pubblico", f.patrimonio_pubblico.area_minima_mq),
            (
                "altra_proprieta_pubblica",
                f.altra_proprieta_pubblica.area_minima_mq,
            ),
        ] {
            if let Some(v) = v {
                non_negative(&format!("fonti.{k}.area_minima_mq"), v)?;
            }
        }
        for (k, v) in &self.esclusioni.vincoli {
            non_negative(&format!("esclusioni.vincoli.{k:?}.buffer_m"), v.buffer_m)?;
        }
        let p = &self.preferenze;
        non_negative(
            "preferenze.tessuto_consolidato.punti",
            p.tessuto_consolidato.punti,
        )?;
        share(
            "preferenze.tessuto_consolidato.quota_minima",
            p.tessuto_consolidato.quota_minima,
        )?;
        for c in &p.tessuto_consolidato.classi {
            if ClasseZona::from_code(c).is_none() {
                return Err(bad(
                    "preferenze.tessuto_consolidato.classi",
                    format!("classe sconosciuta {c:?}"),
                ));
            }
        }
        non_negative("preferenze.servizi.punti", p.servizi.punti)?;
        non_negative(
            "preferenze.servizi.distanza_max_m",
            p.servizi.distanza_max_m,
        )?;
        let v = &p.alloggi_pubblici_vicini;
        non_negative(
            "preferenze.alloggi_pubblici_vicini.punti_per_unita",
            v.punti_per_unita,
        )?;
        non_negative("preferenze.alloggi_pubblici_vicini.punti_max", v.punti_max)?;
        non_negative("preferenze.alloggi_pubblici_vicini.raggio_m", v.raggio_m)?;
        non_negative(
            "preferenze.proprieta_pubblica.punti",
            p.proprieta_pubblica.punti,
        )?;
        let d = &p.domanda;
        non_negative("preferenze.domanda.punti_popolazione", d.punti_popolazione)?;
        non_negative(
            "preferenze.domanda.popolazione_riferimento",
            d.popolazione_riferimento,
        )?;
        non_negative("preferenze.domanda.punti_pressione", d.punti_pressione)?;
        for (k, v) in &d.pressione {
            share(&format!("preferenze.domanda.pressione.{k:?}"), *v)?;
        }
        for (k, v) in &p.servizi_puntuali {
            non_negative(&format!("preferenze.servizi_puntuali.{k}.punti"), v.punti)?;
            non_negative(
                &format!("preferenze.servizi_puntuali.{k}.distanza_max_m"),
                v.distanza_max_m,
            )?;
        }
        Ok(())
    }

    /// The rule for a constraint kind, `None` when the kind is not excluded.
    fn vincolo(&self, codice: Option<&str>) -> Option<&RegolaVincolo> {
        let key = codice.map(|c| c.trim().to_lowercase()).unwrap_or_default();
        self.esclusioni
            .vincoli
            .get(&key)
            .or_else(|| self.esclusioni.vincoli.get("*"))
            .filter(|r| r.escludi)
    }
}

fn stato_proprieta(code: &str) -> Option<StatoProprieta> {
    [
        StatoProprieta::InUso,
        StatoProprieta::Sottoutilizzato,
        StatoProprieta::Dismesso,
    ]
    .into_iter()
    .find(|s| s.code() == code.trim().to_lowercase())
}

/// Italian name of a service kind in the reasons (`sanita` → `servizio sanitario`).
fn tipo_servizio_it(tipo: &str) -> String {
    match tipo {
        "scuola" => "scuola".into(),
        "sanita" => "servizio sanitario".into(),
        "commercio" => "negozio di vicinato".into(),
        "fermata" => "fermata del trasporto pubblico".into(),
        other => other.replace('_', " "),
    }
}

fn parse_err(origine: &str, e: impl std::fmt::Display) -> RegoleError {
    RegoleError::Parse {
        origine: origine.into(),
        message: e.to_string().trim().replace('\n', " "),
    }
}

/// Deep merge: tables are merged key by key, anything else is replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// The result of the screening.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    /// Ranked: highest score first, then id.
    pub candidate: Vec<AreaCandidata>,
    pub escluse: Vec<AreaEsclusa>,
    /// Features that could not be screened (projection failures).
    pub avvisi: Vec<String>,
}

/// Italian number: `1.234,5` with `decimals` decimals.
pub fn numero_it(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (s.clone(), None),
    };
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    let sign = if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    match frac {
        Some(f) => format!("{sign}{grouped},{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn ha(m2: f64) -> f64 {
    m2 / 10_000.0
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// Projection to and from the metric CRS, with per-feature caches.
struct Metric {
    fwd: FromLonLat,
    inv: ToLonLat,
}

impl Metric {
    fn to_m(&self, g: &MultiPolygon<f64>) -> Option<MultiPolygon<f64>> {
        g.try_map_coords(|c| {
            self.fwd
                .convert(c.x, c.y)
                .map(|(x, y)| geo::coord! { x: x, y: y })
        })
        .ok()
    }
    fn point_m(&self, p: &Point<f64>) -> Option<Point<f64>> {
        self.fwd.convert(p.x(), p.y()).ok().map(Point::from)
    }
    fn to_ll(&self, g: &MultiPolygon<f64>) -> Option<MultiPolygon<f64>> {
        g.try_map_coords(|c| {
            self.inv
                .convert(c.x, c.y)
                .map(|(x, y)| geo::coord! { x: x, y: y })
        })
        .ok()
    }
}

/// A lon/lat box grown by `m` metres on every side.
fn grow_ll(r: Rect<f64>, m: f64) -> Rect<f64> {
    let dlat = m / 110_000.0 + 1e-6;
    let lat = r.max().y.abs().max(r.min().y.abs()).min(89.0);
    let dlon = m / (111_320.0 * lat.to_radians().cos()).max(1.0) + 1e-6;
    Rect::new(
        (r.min().x - dlon, r.min().y - dlat),
        (r.max().x + dlon, r.max().y + dlat),
    )
}

fn boxes_touch(a: Option<Rect<f64>>, b: Option<Rect<f64>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.min().x <= b.max().x
                && b.min().x <= a.max().x
                && a.min().y <= b.max().y
                && b.min().y <= a.max().y
        }
        _ => false,
    }
}

fn mp_distance(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> f64 {
    let mut best = f64::INFINITY;
    for pa in &a.0 {
        for pb in &b.0 {
            best = best.min(Euclidean.distance(pa, pb));
        }
    }
    best
}

fn point_distance(p: &Point<f64>, g: &MultiPolygon<f64>) -> f64 {
    g.0.iter()
        .map(|poly: &Polygon<f64>| Euclidean.distance(p, poly))
        .fold(f64::INFINITY, f64::min)
}

type PuntoServizio = rstar::primitives::GeomWithData<[f64; 2], usize>;

/// One area a source proposes, before screening.
struct Source {
    id: String,
    fonte: FonteCandidata,
    comune_istat: Option<String>,
    comune_nome: Option<String>,
    denominazione: Option<String>,
    geometry: MultiPolygon<f64>,
    quota: f64,
    area_minima_mq: f64,
    /// The source's own reason, in Italian.
    motivo: String,
    /// Public owners of the area, when it is public property.
    proprietari: Vec<String>,
    /// Unused public units that made it a source (not counted again as "nearby").
    unita_proprie: BTreeSet<usize>,
}

struct Ctx<'a> {
    model: &'a Model,
    index: &'a ModelIndex,
    rules: &'a Regole,
    metric: Metric,
    zone_m: Vec<Option<Option<MultiPolygon<f64>>>>,
    vincoli_m: Vec<Option<Option<MultiPolygon<f64>>>>,
    /// Service points in metres, by kind, indexed; the data is the position in
    /// `model.servizi_puntuali`.
    servizi: HashMap<String, rstar::RTree<PuntoServizio>>,
}

impl Ctx<'_> {
    fn zone(&mut self, i: usize) -> Option<&MultiPolygon<f64>> {
        if self.zone_m[i].is_none() {
            self.zone_m[i] = Some(self.metric.to_m(&self.model.pgt_zone[i].geometry));
        }
        self.zone_m[i].as_ref().and_then(|g| g.as_ref())
    }

    /// The constraint in metres, widened by its rule's buffer.
    fn vincolo(&mut self, i: usize, buffer_m: f64) -> Option<&MultiPolygon<f64>> {
        if self.vincoli_m[i].is_none() {
            let g = self.metric.to_m(&self.model.vincoli[i].geometry).map(|g| {
                if buffer_m > 0.0 {
                    g.buffer(buffer_m)
                } else {
                    g
                }
            });
            self.vincoli_m[i] = Some(g);
        }
        self.vincoli_m[i].as_ref().and_then(|g| g.as_ref())
    }
}

fn comune_name(model: &Model, istat: Option<&str>) -> Option<String> {
    istat
        .and_then(|k| model.comune_by_istat(k))
        .map(|c| c.nome.clone())
}

/// The comune holding the box centre, for zones that name none.
fn locate_comune(model: &Model, index: &ModelIndex, g: &MultiPolygon<f64>) -> Option<String> {
    use geo::Contains;
    let r = g.bounding_rect()?;
    let c = r.center();
    index
        .comuni
        .query_point(c.x, c.y)
        .into_iter()
        .find(|&i| model.comuni[i].geometry.contains(&Point::from(c)))
        .map(|i| model.comuni[i].istat.clone())
}

/// Parcel positions by cadastral key (the first parcel of a key wins).
fn parcels_by_key(model: &Model) -> HashMap<crate::model::cadref::ParcelKey, usize> {
    model
        .particelle
        .iter()
        .enumerate()
        .map(|(i, p)| (p.key(), i))
        .rev()
        .collect()
}

fn collect_sources(model: &Model, index: &ModelIndex, rules: &Regole) -> Vec<Source> {
    let f = &rules.fonti;
    let min_default = rules.generale.area_minima_mq;
    let mut out = Vec::new();
    let mut ordinal: BTreeMap<(FonteCandidata, String), usize> = BTreeMap::new();
    for z in &model.pgt_zone {
        let (fonte, quota, min, motivo, prefix) = match z.classe {
            ClasseZona::ServiziPrevisti if f.servizi_previsti.attiva => (
                FonteCandidata::ServiziPrevisti,
                f.servizi_previsti.quota,
                f.servizi_previsti.area_minima_mq,
                "area per servizi prevista dal Piano dei Servizi, non ancora realizzata"
                    .to_string(),
                "SP",
            ),
            ClasseZona::AmbitoTrasformazione if f.ambiti_trasformazione.attiva => {
                let a = &f.ambiti_trasformazione;
                (
                    FonteCandidata::AmbitoTrasformazione,
                    a.quota_standard * a.quota_cedibile,
                    a.area_minima_mq,
                    format!(
                        "ambito di trasformazione del Documento di Piano: standard {} % dell'area, \
                         di cui {} % cedibile come alloggi sociali",
                        numero_it(a.quota_standard * 100.0, 0),
                        numero_it(a.quota_cedibile * 100.0, 0)
                    ),
                    "AT",
                )
            }
            ClasseZona::Rigenerazione if f.rigenerazione.attiva => (
                FonteCandidata::Rigenerazione,
                f.rigenerazione.quota,
                f.rigenerazione.area_minima_mq,
                "ambito di rigenerazione urbana (L.R. 18/2019)".to_string(),
                "RG",
            ),
            _ => continue,
        };
        let istat = z
            .comune_istat
            .clone()
            .or_else(|| locate_comune(model, index, &z.geometry));
        let n = ordinal
            .entry((fonte, istat.clone().unwrap_or_default()))
            .or_insert(0);
        *n += 1;
        let id = format!("{prefix}-{}-{:02}", istat.as_deref().unwrap_or("000000"), n);
        let nome = comune_name(model, istat.as_deref()).or_else(|| z.comune_nome.clone());
        out.push(Source {
            id,
            fonte,
            comune_istat: istat,
            comune_nome: nome,
            denominazione: z.legenda.clone(),
            geometry: z.geometry.clone(),
            quota,
            area_minima_mq: min.unwrap_or(min_default),
            motivo,
            proprietari: Vec::new(),
            unita_proprie: BTreeSet::new(),
        });
    }

    let pp = &f.patrimonio_pubblico;
    if pp.attiva {
        use geo::Contains;
        let enti: Vec<String> = pp.enti.iter().map(|e| e.to_lowercase()).collect();
        let by_key = parcels_by_key(model);
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (ui, u) in model.alloggi_pubblici.iter().enumerate() {
            let ente = u.ente_proprietario.to_lowercase();
            if !u.stato.is_unused() || !enti.iter().any(|e| ente.contains(e.as_str())) {
                continue;
            }
            let parcel = u
                .parcel_key()
                .and_then(|k| by_key.get(&k).copied())
                .or_else(|| {
                    let p = u.posizione?;
                    index
                        .particelle
                        .query_point(p.x(), p.y())
                        .into_iter()
                        .find(|&i| model.particelle[i].geometry.contains(&p))
                });
            if let Some(pi) = parcel {
                groups.entry(pi).or_default().push(ui);
            }
        }
        for (pi, units) in groups {
            if (units.len() as u32) < pp.min_unita_inutilizzate.max(1) {
                continue;
            }
            let p = &model.particelle[pi];
            let comune = model
                .comuni
                .iter()
                .find(|c| c.belfiore.eq_ignore_ascii_case(&p.belfiore));
            let istat = comune.map(|c| c.istat.clone()).or_else(|| {
                units
                    .iter()
                    .find_map(|&u| model.alloggi_pubblici[u].comune_istat.clone())
            });
            let proprietari: Vec<String> = units
                .iter()
                .map(|&u| model.alloggi_pubblici[u].ente_proprietario.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let rif = format!("foglio {}, particella {}", p.foglio, p.particella);
            out.push(Source {
                id: format!("PP-{}", p.riferimento),
                fonte: FonteCandidata::PatrimonioPubblico,
                comune_nome: comune_name(model, istat.as_deref()),
                comune_istat: istat,
                denominazione: Some(rif.clone()),
                geometry: p.geometry.clone(),
                quota: pp.quota,
                area_minima_mq: pp.area_minima_mq.unwrap_or(min_default),
                motivo: format!(
                    "particella pubblica ({rif}) di {} con {} unità {} (libere o sfitte)",
                    proprietari.join(", "),
                    units.len(),
                    if units.len() == 1 {
                        "inutilizzata"
                    } else {
                        "inutilizzate"
                    }
                ),
                proprietari,
                unita_proprie: units.into_iter().collect(),
            });
        }
    }

    let ap = &f.altra_proprieta_pubblica;
    if ap.attiva && !model.altra_proprieta_pubblica.is_empty() {
        let stati: Vec<StatoProprieta> =
            ap.stati.iter().filter_map(|s| stato_proprieta(s)).collect();
        let by_key = parcels_by_key(model);
        // Several listed items on one parcel make one candidate.
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (k, item) in model.altra_proprieta_pubblica.iter().enumerate() {
            if !stati.contains(&item.stato) {
                continue;
            }
            let Some(belfiore) = item.belfiore.as_deref() else {
                continue;
            };
            let key = crate::model::cadref::ParcelKey::new(
                belfiore,
                item.sezione.as_deref(),
                &item.foglio,
                &item.particella,
            );
            if let Some(&pi) = by_key.get(&key) {
                groups.entry(pi).or_default().push(k);
            }
        }
        for (pi, items) in groups {
            let p = &model.particelle[pi];
            let first = &model.altra_proprieta_pubblica[items[0]];
            let proprietari: Vec<String> = items
                .iter()
                .map(|&k| model.altra_proprieta_pubblica[k].ente.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let descr: Vec<String> = items
                .iter()
                .map(|&k| {
                    let it = &model.altra_proprieta_pubblica[k];
                    format!(
                        "{} (stato: {})",
                        it.uso.as_deref().unwrap_or("immobile"),
                        it.stato.label_it()
                    )
                })
                .collect();
            let rif = format!("foglio {}, particella {}", p.foglio, p.particella);
            out.push(Source {
                id: format!("AP-{}", p.riferimento),
                fonte: FonteCandidata::AltraProprietaPubblica,
                comune_nome: first.comune_nome.clone(),
                comune_istat: first.comune_istat.clone(),
                denominazione: Some(format!("{} ({rif})", descr.join(", "))),
                geometry: p.geometry.clone(),
                quota: ap.quota,
                area_minima_mq: ap.area_minima_mq.unwrap_or(min_default),
                motivo: format!(
                    "proprietà pubblica non abitativa ({rif}) di {}: {}",
                    proprietari.join(", "),
                    descr.join(", ")
                ),
                proprietari,
                unita_proprie: BTreeSet::new(),
            });
        }
    }
    out
}

/// Screens the model's areas with the rules: candidates with their reasons, and the areas
/// excluded whole with the rule that excluded them.
pub fn screen(model: &Model, index: &ModelIndex, rules: &Regole) -> Screening {
    let mut result = Screening::default();
    let metric = match (FromLonLat::new(32632), ToLonLat::new(32632)) {
        (Ok(fwd), Ok(inv)) => Metric { fwd, inv },
        (Err(e), _) | (_, Err(e)) => {
            result
                .avvisi
                .push(format!("Aree candidate non calcolate: {e}"));
            return result;
        }
    };
    let mut ctx = Ctx {
        model,
        index,
        rules,
        metric,
        zone_m: vec![None; model.pgt_zone.len()],
        vincoli_m: vec![None; model.vincoli.len()],
        servizi: HashMap::new(),
    };
    let mut per_tipo: HashMap<String, Vec<PuntoServizio>> = HashMap::new();
    for (i, s) in model.servizi_puntuali.iter().enumerate() {
        if !rules.preferenze.servizi_puntuali.contains_key(&s.tipo) {
            continue;
        }
        if let Some(pm) = ctx.metric.point_m(&s.posizione) {
            per_tipo
                .entry(s.tipo.clone())
                .or_default()
                .push(PuntoServizio::new([pm.x(), pm.y()], i));
        }
    }
    ctx.servizi = per_tipo
        .into_iter()
        .map(|(k, v)| (k, rstar::RTree::bulk_load(v)))
        .collect();
    for src in collect_sources(model, index, rules) {
        match evaluate(&mut ctx, src) {
            Ok(Esito::Candidata(c)) => result.candidate.push(*c),
            Ok(Esito::Esclusa(e)) => result.escluse.push(*e),
            Err(msg) => result.avvisi.push(msg),
        }
    }
    result.candidate.sort_by(|a, b| {
        b.punteggio
            .total_cmp(&a.punteggio)
            .then_with(|| a.id.cmp(&b.id))
    });
    result
}

enum Esito {
    Candidata(Box<AreaCandidata>),
    Esclusa(Box<AreaEsclusa>),
}

/// Records what a cut removed, merging repeated cuts by the same rule and description.
fn record_cut(
    esclusioni: &mut Vec<EsclusioneParziale>,
    regola: String,
    descrizione: String,
    m2: f64,
) {
    if m2 <= EPSILON_M2 {
        return;
    }
    if let Some(e) = esclusioni
        .iter_mut()
        .find(|e| e.regola == regola && e.descrizione == descrizione)
    {
        e.ettari += ha(m2);
    } else {
        esclusioni.push(EsclusioneParziale {
            regola,
            descrizione,
            ettari: ha(m2),
        });
    }
}

fn evaluate(ctx: &mut Ctx<'_>, src: Source) -> Result<Esito, String> {
    let rules = ctx.rules;
    let model = ctx.model;
    let index = ctx.index;
    let Some(original) = ctx.metric.to_m(&src.geometry) else {
        return Err(format!(
            "Area candidata {}: coordinate non proiettabili in UTM 32N, area non valutata.",
            src.id
        ));
    };
    let area0 = original.unsigned_area();
    let mut current = original.clone();
    let mut esclusioni: Vec<EsclusioneParziale> = Vec::new();
    let Some(bbox_ll) = src.geometry.bounding_rect() else {
        return Err(format!("Area candidata {}: geometria vuota.", src.id));
    };

    // Vincoli, each kind with its buffer.
    let max_buffer = rules
        .esclusioni
        .vincoli
        .values()
        .map(|r| r.buffer_m)
        .fold(0.0, f64::max);
    for vi in index.vincoli.query_bbox(grow_ll(bbox_ll, max_buffer)) {
        let v = &model.vincoli[vi];
        let Some(rule) = rules.vincolo(v.codice.as_deref()) else {
            continue;
        };
        let buffer = rule.buffer_m;
        let cur_box = current.bounding_rect();
        let Some(vm) = ctx.vincolo(vi, buffer) else {
            continue;
        };
        if !boxes_touch(cur_box, vm.bounding_rect()) {
            continue;
        }
        let before = current.unsigned_area();
        current = current.difference(vm);
        let kind = v
            .codice
            .as_deref()
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "*".into());
        let descrizione = if buffer > 0.0 {
            format!("{} (fascia di {} m)", v.nome, numero_it(buffer, 0))
        } else {
            v.nome.clone()
        };
        record_cut(
            &mut esclusioni,
            format!("vincolo:{kind}"),
            descrizione,
            before - current.unsigned_area(),
        );
        if current.0.is_empty() {
            break;
        }
    }

    // Agricultural land and areas not subject to transformation.
    let excluded_classes: Vec<ClasseZona> = [
        (rules.esclusioni.agricolo, ClasseZona::Agricolo),
        (
            rules.esclusioni.non_soggetto_trasformazione,
            ClasseZona::NonSoggettoTrasformazione,
        ),
    ]
    .into_iter()
    .filter_map(|(on, c)| on.then_some(c))
    .collect();
    if !excluded_classes.is_empty() && !current.0.is_empty() {
        for zi in index.pgt_zone.query_bbox(bbox_ll) {
            let classe = model.pgt_zone[zi].classe;
            if !excluded_classes.contains(&classe) {
                continue;
            }
            let cur_box = current.bounding_rect();
            let Some(zm) = ctx.zone(zi) else { continue };
            if !boxes_touch(cur_box, zm.bounding_rect()) {
                continue;
            }
            let before = current.unsigned_area();
            current = current.difference(zm);
            let descrizione = match classe {
                ClasseZona::Agricolo => "area agricola (esclusa dalle regole)".to_string(),
                _ => "area non soggetta a trasformazione urbanistica".to_string(),
            };
            record_cut(
                &mut esclusioni,
                classe.code().to_string(),
                descrizione,
                before - current.unsigned_area(),
            );
            if current.0.is_empty() {
                break;
            }
        }
    }

    // Minimum area: parts below it are dropped.
    let min = src.area_minima_mq;
    let (kept, dropped): (Vec<Polygon<f64>>, Vec<Polygon<f64>>) = current
        .0
        .into_iter()
        .partition(|p| p.unsigned_area() >= min && p.unsigned_area() > EPSILON_M2);
    let dropped_m2: f64 = dropped.iter().map(|p| p.unsigned_area()).sum();
    let current = MultiPolygon(kept);
    let had_cuts = !esclusioni.is_empty();
    record_cut(
        &mut esclusioni,
        "area_minima".into(),
        format!(
            "parti sotto la superficie minima di {} m²",
            numero_it(min, 0)
        ),
        dropped_m2,
    );
    let area = current.unsigned_area();

    if current.0.is_empty() {
        let motivo = if !had_cuts {
            format!(
                "superficie {} m² inferiore alla minima di {} m²",
                numero_it(area0, 0),
                numero_it(min, 0)
            )
        } else {
            let parts: Vec<String> = esclusioni
                .iter()
                .map(|e| format!("{} ({} ha)", e.descrizione, numero_it(e.ettari, 2)))
                .collect();
            format!("interamente esclusa: {}", parts.join("; "))
        };
        return Ok(Esito::Esclusa(Box::new(AreaEsclusa {
            id: src.id,
            comune_istat: src.comune_istat,
            comune_nome: src.comune_nome,
            fonte: src.fonte,
            denominazione: src.denominazione,
            area_origine_ha: round_to(ha(area0), 4),
            motivo,
            esclusioni: rounded(esclusioni),
            geometry: src.geometry,
        })));
    }

    let mut motivi = vec![src.motivo.clone()];
    motivi.push(format!(
        "superficie utile {} ha ≥ minima {} m²",
        numero_it(ha(area), 2),
        numero_it(min, 0)
    ));
    let mut voci: Vec<VocePunteggio> = Vec::new();
    let cur_ll_box = bbox_ll;
    let p = &rules.preferenze;

    // Consolidated urban fabric.
    if p.tessuto_consolidato.punti > 0.0 {
        let classi: Vec<ClasseZona> = p
            .tessuto_consolidato
            .classi
            .iter()
            .filter_map(|c| ClasseZona::from_code(c))
            .collect();
        let mut inside = 0.0;
        for zi in index.pgt_zone.query_bbox(cur_ll_box) {
            if !classi.contains(&model.pgt_zone[zi].classe) {
                continue;
            }
            let cur_box = current.bounding_rect();
            let Some(zm) = ctx.zone(zi) else { continue };
            if !boxes_touch(cur_box, zm.bounding_rect()) {
                continue;
            }
            inside += current.intersection(zm).unsigned_area();
        }
        let share = if area > 0.0 {
            (inside / area).min(1.0)
        } else {
            0.0
        };
        let pass = share >= p.tessuto_consolidato.quota_minima && share > 0.0;
        let misura = format!(
            "nel tessuto urbano consolidato: {} % dell'area {} {} %",
            numero_it(share * 100.0, 0),
            if pass { "≥" } else { "<" },
            numero_it(p.tessuto_consolidato.quota_minima * 100.0, 0)
        );
        voci.push(VocePunteggio {
            regola: "tessuto_consolidato".into(),
            punti: if pass {
                p.tessuto_consolidato.punti
            } else {
                0.0
            },
            misura,
        });
    }

    // Distance to existing services.
    if p.servizi.punti > 0.0 {
        let max = p.servizi.distanza_max_m;
        let mut best = f64::INFINITY;
        // Searched up to three times the threshold, so a miss can say by how much.
        for zi in index.pgt_zone.query_bbox(grow_ll(cur_ll_box, 3.0 * max)) {
            if model.pgt_zone[zi].classe != ClasseZona::ServiziEsistenti {
                continue;
            }
            let Some(zm) = ctx.zone(zi) else { continue };
            best = best.min(mp_distance(&current, zm));
        }
        let (punti, misura) = if best <= max {
            (
                p.servizi.punti,
                format!(
                    "distanza dai servizi esistenti {} m ≤ {} m",
                    numero_it(best, 0),
                    numero_it(max, 0)
                ),
            )
        } else if best.is_finite() {
            (
                0.0,
                format!(
                    "distanza dai servizi esistenti {} m > {} m",
                    numero_it(best, 0),
                    numero_it(max, 0)
                ),
            )
        } else {
            (
                0.0,
                format!(
                    "nessun servizio esistente entro {} m",
                    numero_it(3.0 * max, 0)
                ),
            )
        };
        voci.push(VocePunteggio {
            regola: "servizi".into(),
            punti,
            misura,
        });
    }

    // Distance to existing service points, per kind.
    for (tipo, rule) in &p.servizi_puntuali {
        if rule.punti <= 0.0 {
            continue;
        }
        let max = rule.distanza_max_m;
        // Searched up to three times the threshold, so a miss can say by how much.
        let reach = 3.0 * max;
        let mut best: Option<(f64, Option<&str>)> = None;
        if let (Some(tree), Some(b)) = (ctx.servizi.get(tipo.as_str()), current.bounding_rect()) {
            let env = rstar::AABB::from_corners(
                [b.min().x - reach, b.min().y - reach],
                [b.max().x + reach, b.max().y + reach],
            );
            for s in tree.locate_in_envelope(&env) {
                let d = point_distance(&Point::new(s.geom()[0], s.geom()[1]), &current);
                if d <= reach && best.is_none_or(|(b, _)| d < b) {
                    best = Some((d, model.servizi_puntuali[s.data].nome.as_deref()));
                }
            }
        }
        let nome_tipo = tipo_servizio_it(tipo);
        let (punti, misura) = match best {
            Some((d, nome)) => {
                let chi = nome.map(|n| format!(" ({n})")).unwrap_or_default();
                let ok = d <= max;
                (
                    if ok { rule.punti } else { 0.0 },
                    format!(
                        "distanza {nome_tipo}{chi} {} m {} {} m",
                        numero_it(d, 0),
                        if ok { "≤" } else { ">" },
                        numero_it(max, 0)
                    ),
                )
            }
            None => (
                0.0,
                format!(
                    "nessun punto di tipo «{nome_tipo}» entro {} m",
                    numero_it(reach, 0)
                ),
            ),
        };
        voci.push(VocePunteggio {
            regola: format!("servizi_puntuali:{tipo}"),
            punti,
            misura,
        });
    }

    // Unused public units nearby.
    let v = &p.alloggi_pubblici_vicini;
    if v.punti_per_unita > 0.0 && v.punti_max > 0.0 {
        let mut n = 0u32;
        for ui in index
            .alloggi_pubblici
            .query_bbox(grow_ll(cur_ll_box, v.raggio_m))
        {
            let u = &model.alloggi_pubblici[ui];
            if !u.stato.is_unused() || src.unita_proprie.contains(&ui) {
                continue;
            }
            let Some(pm) = u.posizione.as_ref().and_then(|p| ctx.metric.point_m(p)) else {
                continue;
            };
            if point_distance(&pm, &current) <= v.raggio_m {
                n += 1;
            }
        }
        let punti = (f64::from(n) * v.punti_per_unita).min(v.punti_max);
        voci.push(VocePunteggio {
            regola: "alloggi_pubblici_vicini".into(),
            punti,
            misura: format!(
                "{n} alloggi pubblici inutilizzati entro {} m",
                numero_it(v.raggio_m, 0)
            ),
        });
    }

    // Public ownership.
    if p.proprieta_pubblica.punti > 0.0 && !src.proprietari.is_empty() {
        voci.push(VocePunteggio {
            regola: "proprieta_pubblica".into(),
            punti: p.proprieta_pubblica.punti,
            misura: format!("proprietà pubblica: {}", src.proprietari.join(", ")),
        });
    }

    // Demand of the comune.
    let d = &p.domanda;
    let comune = src
        .comune_istat
        .as_deref()
        .and_then(|k| model.comune_by_istat(k));
    if d.punti_popolazione > 0.0 {
        if let Some(c) = comune {
            let ratio = if d.popolazione_riferimento > 0.0 {
                (f64::from(c.popolazione) / d.popolazione_riferimento).min(1.0)
            } else {
                1.0
            };
            voci.push(VocePunteggio {
                regola: "domanda_popolazione".into(),
                punti: d.punti_popolazione * ratio,
                misura: format!(
                    "domanda del comune: {} abitanti su {} di riferimento",
                    numero_it(f64::from(c.popolazione), 0),
                    numero_it(d.popolazione_riferimento, 0)
                ),
            });
        }
    }
    if d.punti_pressione > 0.0 {
        if let Some(pr) = src.comune_istat.as_deref().and_then(|k| d.pressione.get(k)) {
            voci.push(VocePunteggio {
                regola: "pressione_abitativa".into(),
                punti: d.punti_pressione * pr,
                misura: format!("pressione abitativa del comune {}", numero_it(*pr, 2)),
            });
        }
    }
    for voce in &mut voci {
        voce.punti = round_to(voce.punti, 1);
    }
    let punteggio = round_to(voci.iter().map(|v| v.punti).sum(), 1);
    for voce in voci.iter().filter(|v| v.punti > 0.0) {
        motivi.push(format!(
            "{} (+{} punti)",
            voce.misura,
            numero_it(voce.punti, 1)
        ));
    }

    let area_ha = ha(area);
    let densita = rules.generale.densita_alloggi_ha;
    let nuovi = area_ha * densita * src.quota;
    let riattivabili = src.unita_proprie.len() as f64;
    let alloggi = (nuovi + riattivabili).floor().max(0.0) as u32;
    motivi.push(if riattivabili > 0.0 {
        format!(
            "alloggi stimati {alloggi}: {} unità inutilizzate da riattivare + {} ha × {} alloggi/ha × {} %",
            numero_it(riattivabili, 0),
            numero_it(area_ha, 2),
            numero_it(densita, 0),
            numero_it(src.quota * 100.0, 0)
        )
    } else {
        format!(
            "alloggi stimati {alloggi}: {} ha × {} alloggi/ha × {} %",
            numero_it(area_ha, 2),
            numero_it(densita, 0),
            numero_it(src.quota * 100.0, 0)
        )
    });

    let Some(geometry) = ctx.metric.to_ll(&current) else {
        return Err(format!(
            "Area candidata {}: risultato non riproiettabile in lon/lat.",
            src.id
        ));
    };
    Ok(Esito::Candidata(Box::new(AreaCandidata {
        id: src.id,
        comune_istat: src.comune_istat,
        comune_nome: src.comune_nome,
        fonte: src.fonte,
        denominazione: src.denominazione,
        punteggio,
        punteggio_voci: voci,
        area_ha: round_to(area_ha, 4),
        area_origine_ha: round_to(ha(area0), 4),
        quota: src.quota,
        alloggi_stimati: alloggi,
        motivi,
        esclusioni: rounded(esclusioni),
        geometry,
    })))
}

fn rounded(mut e: Vec<EsclusioneParziale>) -> Vec<EsclusioneParziale> {
    for x in &mut e {
        x.ettari = round_to(x.ettari, 4);
    }
    e
}

/// The exclusions of a candidate as one Italian text.
pub fn esclusioni_testo(e: &[EsclusioneParziale]) -> String {
    e.iter()
        .map(|x| format!("{}: −{} ha", x.descrizione, numero_it(x.ettari, 2)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Figures per comune and source, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PerFonte {
    pub candidate: usize,
    pub ettari: f64,
    pub alloggi: u32,
    pub escluse: usize,
}

/// Per comune (ISTAT code, or empty), per source.
pub fn per_comune(s: &Screening) -> BTreeMap<String, BTreeMap<FonteCandidata, PerFonte>> {
    let mut out: BTreeMap<String, BTreeMap<FonteCandidata, PerFonte>> = BTreeMap::new();
    for c in &s.candidate {
        let e = out
            .entry(c.comune_istat.clone().unwrap_or_default())
            .or_default()
            .entry(c.fonte)
            .or_default();
        e.candidate += 1;
        e.ettari += c.area_ha;
        e.alloggi += c.alloggi_stimati;
    }
    for x in &s.escluse {
        out.entry(x.comune_istat.clone().unwrap_or_default())
            .or_default()
            .entry(x.fonte)
            .or_default()
            .escluse += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_rules_parse_and_are_on() {
        let r = Regole::parse(REGOLE_PREDEFINITE, "predefinite").expect("built-in rules");
        assert!(r.fonti.servizi_previsti.attiva && r.esclusioni.agricolo);
        assert!(r.esclusioni.vincoli.contains_key("*"));
        assert_eq!(Regole::predefinite(), r);
        let back = Regole::parse(&r.to_toml(), "copia").expect("round trip");
        assert_eq!(back.generale, r.generale);
        assert_eq!(back.esclusioni, r.esclusioni);
    }

    #[test]
    fn project_rules_extend_or_replace() {
        let r = Regole::del_progetto("[generale]\narea_minima_mq = 5.0\n", "p").expect("extend");
        assert_eq!(r.generale.area_minima_mq, 5.0);
        assert_eq!(r.generale.densita_alloggi_ha, 60.0);
        assert!(r.fonti.rigenerazione.attiva);
        let r = Regole::del_progetto(
            "modo = \"sostituisci\"\n[fonti.rigenerazione]\nattiva = true\nquota = 1.0\n",
            "p",
        )
        .expect("replace");
        assert!(!r.fonti.servizi_previsti.attiva && r.fonti.rigenerazione.attiva);
        let e = Regole::del_progetto("[generale]\ndensita = 3\n", "p.toml").expect_err("unknown");
        assert!(e.to_string().contains("densita"), "{e}");
        let e = Regole::del_progetto("[fonti.rigenerazione]\nquota = 2.0\n", "p.toml")
            .expect_err("bad share");
        assert!(e.to_string().contains("fonti.rigenerazione.quota"), "{e}");
    }

    #[test]
    fn italian_numbers() {
        assert_eq!(numero_it(1234.5, 1), "1.234,5");
        assert_eq!(numero_it(420.0, 0), "420");
        assert_eq!(numero_it(1_000_000.0, 0), "1.000.000");
        assert_eq!(numero_it(0.25, 2), "0,25");
    }
}
