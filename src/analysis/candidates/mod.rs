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
//!
//! One file per concern; an area goes through sources, cutting and scoring in that order:
//! - `rules`: the rules file ([`Regole`]): parsing, combination with the built-in rules,
//!   validation;
//! - `sources`: where candidate areas come from (PGT zone classes, unused public housing,
//!   other public property);
//! - `cutting`: the exclusions as boolean differences (constraints with their buffers,
//!   excluded zone classes), then the minimum area;
//! - `scoring`: one function per preference, each giving one [`VocePunteggio`];
//! - `geometry`: the metric projection, the per-screening cache of projected layers, boxes
//!   and distances.

mod cutting;
mod geometry;
mod rules;
mod scoring;
mod sources;

use std::collections::BTreeMap;

use geo::{Area, BoundingRect, MultiPolygon};
use serde::{Deserialize, Serialize};

use self::cutting::Taglio;
use self::geometry::{Ctx, Metric};
use self::sources::Source;
use crate::index::ModelIndex;
use crate::italiano::numero_it;
use crate::model::Model;

pub use self::rules::{
    Esclusioni, FonteAltraProprieta, FontePatrimonio, FonteQuota, FonteTrasformazione, Fonti,
    Generale, Modo, PrefDomanda, PrefPunti, PrefServizi, PrefTessuto, PrefVicini, Preferenze,
    RegolaVincolo, Regole, RegoleError, VoceScala, REGOLE_PREDEFINITE,
};

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

/// The result of the screening.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    /// Ranked: highest score first, then id. Scores run from 0 to 100: the points a candidate
    /// earned over [`Screening::punti_massimi`].
    pub candidate: Vec<AreaCandidata>,
    /// The most points the preferences in force could give (the rules' scale; 100 with the
    /// built-in rules).
    #[serde(default)]
    pub punti_massimi: f64,
    /// The preferences in force and the most points of each (their sum is `punti_massimi`).
    #[serde(default)]
    pub scala: Vec<VoceScala>,
    pub escluse: Vec<AreaEsclusa>,
    /// Features that could not be screened (projection failures).
    pub avvisi: Vec<String>,
}

fn ha(m2: f64) -> f64 {
    m2 / 10_000.0
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// Screens the model's areas with the rules: candidates with their reasons, and the areas
/// excluded whole with the rule that excluded them.
pub fn screen(model: &Model, index: &ModelIndex, rules: &Regole) -> Screening {
    let mut result = Screening {
        punti_massimi: rules.preferenze.punti_massimi(),
        scala: rules.preferenze.scala(),
        ..Screening::default()
    };
    let metric = match Metric::utm32n() {
        Ok(m) => m,
        Err(e) => {
            result
                .avvisi
                .push(format!("Aree candidate non calcolate: {e}"));
            return result;
        }
    };
    let mut ctx = Ctx::new(model, index, rules, metric);
    for src in sources::collect(model, index, rules) {
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

/// One source area through the stages: exclusions, minimum area, preferences, dwellings.
fn evaluate(ctx: &mut Ctx<'_>, src: Source) -> Result<Esito, String> {
    let Some(original) = ctx.metric.to_m(&src.geometry) else {
        return Err(format!(
            "Area candidata {}: coordinate non proiettabili in UTM 32N, area non valutata.",
            src.id
        ));
    };
    let area0 = original.unsigned_area();
    let Some(bbox_ll) = src.geometry.bounding_rect() else {
        return Err(format!("Area candidata {}: geometria vuota.", src.id));
    };

    let mut taglio = Taglio::new(original);
    taglio.vincoli(ctx, bbox_ll);
    taglio.classi_escluse(ctx, bbox_ll);
    let had_cuts = !taglio.esclusioni.is_empty();
    let min = src.area_minima_mq;
    taglio.area_minima(min);
    let Taglio {
        rimasta: current,
        esclusioni,
    } = taglio;
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
    let voci = scoring::voci(
        ctx,
        &scoring::Misura {
            src: &src,
            geometry: &current,
            area_m2: area,
            bbox_ll,
        },
    );
    let punti: f64 = voci.iter().map(|v| v.punti).sum();
    let massimo = ctx.rules.preferenze.punti_massimi();
    let punteggio = if massimo > 0.0 {
        round_to((100.0 * punti / massimo).clamp(0.0, 100.0), 1)
    } else {
        0.0
    };
    for voce in voci.iter().filter(|v| v.punti > 0.0) {
        motivi.push(format!(
            "{} (+{} punti)",
            voce.misura,
            numero_it(voce.punti, 1)
        ));
    }

    let area_ha = ha(area);
    let densita = ctx.rules.generale.densita_alloggi_ha;
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
