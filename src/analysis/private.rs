//! Private stock: linkage of the units offered to the housing desk, assignment of the area
//! estimates of non-occupied dwellings to comuni, the dwelling rules of the rent-support
//! measures, and the figures per comune and Ambito, public and private side by side.
//!
//! Pure functions of the model. Individual private units are used here to count; only the
//! aggregates leave this module towards public outputs.

use std::collections::BTreeMap;

use chrono::Datelike;
use geo::{Area, BooleanOps, BoundingRect, Intersects};
use serde::Serialize;

use crate::analysis::linkage::{link_units, LinkageReport};
use crate::model::{
    AlloggioPrivato, AlloggioPubblico, FlagPiano, Localizzazione, Model, Servizio, Stato,
    StatoPrivato,
};

/// Name the private units carry in linkage messages (in place of a public owner).
pub const ETICHETTA_PRIVATI: &str = "alloggi privati offerti";

/// Places the private units exactly as public units are placed: they go through
/// [`link_units`] itself (comune by ISTAT/Belfiore/name, interior point of the parcel named by
/// the cadastral reference, else `lon`/`lat`), so the two can never follow different rules.
/// The comuni and parcels are moved into a scratch model and back, not copied.
pub fn link_private_units(model: &mut Model) -> LinkageReport {
    let mut scratch = Model::empty(model.ambito.clone());
    std::mem::swap(&mut scratch.comuni, &mut model.comuni);
    std::mem::swap(&mut scratch.particelle, &mut model.particelle);
    scratch.alloggi_pubblici = model.alloggi_privati.iter().map(stand_in).collect();
    let report = link_units(&mut scratch);
    std::mem::swap(&mut scratch.comuni, &mut model.comuni);
    std::mem::swap(&mut scratch.particelle, &mut model.particelle);
    for (u, linked) in model
        .alloggi_privati
        .iter_mut()
        .zip(scratch.alloggi_pubblici)
    {
        u.comune_istat = linked.comune_istat;
        u.belfiore = linked.belfiore;
        u.comune_nome = linked.comune_nome;
        u.posizione = linked.posizione;
        u.localizzazione = linked.localizzazione;
    }
    report
}

/// The fields linkage reads, in the shape of a public unit.
fn stand_in(u: &AlloggioPrivato) -> AlloggioPubblico {
    AlloggioPubblico {
        ente_proprietario: ETICHETTA_PRIVATI.to_string(),
        codice_unita: u.codice.clone(),
        comune_istat: u.comune_istat.clone(),
        belfiore: u.belfiore.clone(),
        comune_nome: u.comune_nome.clone(),
        indirizzo: None,
        sezione: u.sezione.clone(),
        foglio: u.foglio.clone(),
        particella: u.particella.clone(),
        subalterno: u.subalterno.clone(),
        categoria_catastale: None,
        superficie_mq: None,
        servizio: Servizio::Altro,
        stato: Stato::Libero,
        sfitto_dal: None,
        flag: FlagPiano::default(),
        lonlat: u.lonlat,
        riga: u.riga,
        posizione: None,
        localizzazione: Localizzazione::NonLocalizzato,
    }
}

/// Assigns each area estimate to the comune holding most of its polygon (largest intersection
/// area). An area that overlaps no comune keeps the comune declared in the file, if any.
/// Returns warnings (in Italian) for areas left without comune or assigned to a comune other
/// than the declared one.
pub fn assign_tracts(model: &mut Model) -> Vec<String> {
    let mut avvisi = Vec::new();
    let boxes: Vec<_> = model
        .comuni
        .iter()
        .map(|c| c.geometry.bounding_rect())
        .collect();
    for t in &mut model.stime_non_occupate {
        let tbox = t.geometry.bounding_rect();
        let mut best: Option<(f64, usize)> = None;
        for (i, c) in model.comuni.iter().enumerate() {
            let (Some(a), Some(b)) = (tbox, boxes[i]) else {
                continue;
            };
            if !a.intersects(&b) {
                continue;
            }
            let area = t.geometry.intersection(&c.geometry).unsigned_area();
            if area > 0.0 && best.is_none_or(|(x, _)| area > x) {
                best = Some((area, i));
            }
        }
        let nome = t
            .codice
            .clone()
            .unwrap_or_else(|| format!("n. {}", t.elemento));
        match best {
            Some((_, i)) => {
                let c = &model.comuni[i];
                if let Some(d) = &t.comune_istat_dichiarato {
                    if *d != c.istat {
                        avvisi.push(format!(
                            "Stime abitazioni non occupate, area {nome}: dichiarata nel comune {d}, \
                             ma ricade per la maggior parte in {} ({}); attribuita a {}.",
                            c.nome, c.istat, c.nome
                        ));
                    }
                }
                t.comune_istat = Some(c.istat.clone());
            }
            None => {
                let known = t
                    .comune_istat_dichiarato
                    .as_ref()
                    .filter(|d| model.comuni.iter().any(|c| &c.istat == *d));
                t.comune_istat = known.cloned();
                if known.is_none() {
                    avvisi.push(format!(
                        "Stime abitazioni non occupate, area {nome}: fuori dai comuni dell'Ambito; \
                         contata solo nel totale delle aree non attribuite."
                    ));
                }
            }
        }
    }
    avvisi
}

// ---------------------------------------------------------------------------------------------
// Dwelling rules of the rent-support measures (seed 002; DGR 5292/2025 and the measures like it)
// ---------------------------------------------------------------------------------------------

/// Cadastral categories excluded from the measures (luxury dwellings, villas, castles).
pub const CATEGORIE_ESCLUSE: [&str; 3] = ["A/1", "A/8", "A/9"];

/// Useful floor area allowed up to four household members, m².
pub const SUPERFICIE_BASE_MQ: f64 = 110.0;

/// Largest household size considered when looking for one a unit suits.
pub const COMPONENTI_MAX: u32 = 10;

/// Whether a (normalised, `A/1`) category is excluded from the measures.
pub fn categoria_esclusa(categoria: &str) -> bool {
    CATEGORIE_ESCLUSE.contains(&categoria)
}

/// Maximum useful floor area for a household of `componenti` members: 110 m² up to four,
/// "maggiorata del 10% per ogni componente dopo il quarto". The 10% is read as 10% of the
/// 110 m² base for each member beyond the fourth (11 m² each, **not compounding**): 5 → 121,
/// 6 → 132 (compounding would give 133.1), 7 → 143.
pub fn superficie_massima_mq(componenti: u32) -> f64 {
    let oltre = componenti.saturating_sub(4);
    // In tenths of m² to stay exact: 1100 + 110 per member beyond the fourth.
    f64::from(1100 + 110 * oltre) / 10.0
}

/// What the measures' dwelling rules say about one unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Idoneita {
    /// Category A/1, A/8 or A/9.
    pub categoria_esclusa: bool,
    /// The smallest household whose area limit the unit respects: 1 up to 110 m², 5 up to
    /// 121 m², 6 up to 132 m²… Since the limit grows with the household, every larger household
    /// is allowed too, so the area sets a minimum household, not a maximum. `None` when the area
    /// is unknown or would need more than [`COMPONENTI_MAX`] members.
    pub componenti_minimi: Option<u32>,
    /// Eligible for the measures: category not excluded and area within the limit of some
    /// household up to [`COMPONENTI_MAX`] members (unknown area or category: not excluded).
    pub ammissibile: bool,
}

/// The dwelling rules applied to a category and a useful floor area.
pub fn idoneita(categoria: Option<&str>, superficie_mq: Option<f64>) -> Idoneita {
    let esclusa = categoria.is_some_and(categoria_esclusa);
    let componenti_minimi = superficie_mq
        .and_then(|a| (1..=COMPONENTI_MAX).find(|&n| a <= superficie_massima_mq(n) + 1e-9));
    let troppo_grande = superficie_mq.is_some() && componenti_minimi.is_none();
    Idoneita {
        categoria_esclusa: esclusa,
        componenti_minimi,
        ammissibile: !esclusa && !troppo_grande,
    }
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

/// Which lettings count as "brought back to use": units let at agreed rent whose
/// `data_locazione` falls in `da_anno..=a_anno`. The default is the plan year and the year
/// before (the plan of 2026 counts lettings of 2025 and 2026).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FinestraRimessi {
    pub da_anno: i32,
    pub a_anno: i32,
}

impl FinestraRimessi {
    pub fn per_piano(anno: i32) -> FinestraRimessi {
        FinestraRimessi {
            da_anno: anno - 1,
            a_anno: anno,
        }
    }
    pub fn contiene(&self, anno: i32) -> bool {
        (self.da_anno..=self.a_anno).contains(&anno)
    }
}

/// Events of the offered units in one calendar year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnnoPrivato {
    pub anno: i32,
    /// Units offered (by `data_offerta`).
    pub offerti: u32,
    /// Units let at agreed rent (by `data_locazione`).
    pub locati_concordato: u32,
    /// Units withdrawn (by `data_ritiro`).
    pub ritirati: u32,
}

/// Private (and, beside them, public) figures of a comune or of the Ambito.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FigurePrivate {
    /// Dwellings in the area estimates assigned here.
    pub abitazioni_stimate: u32,
    /// Non-occupied dwellings in those estimates.
    pub abitazioni_non_occupate_stimate: u32,
    /// Non-occupied share of the estimated dwellings (0–1), `None` without estimates.
    pub quota_non_occupate: Option<f64>,
    /// Area estimates assigned here.
    pub aree_stima: u32,
    /// Units ever offered to the desk (every row of the file).
    pub privati_offerti: u32,
    /// Still offered, not let.
    pub privati_in_offerta: u32,
    pub privati_locati_concordato: u32,
    pub privati_ritirati: u32,
    /// Let at agreed rent with `data_locazione` in the [`FinestraRimessi`].
    pub privati_rimessi_in_uso: u32,
    /// Offered units that meet the dwelling rules of the rent-support measures.
    pub privati_ammissibili_misure: u32,
    /// Offered units excluded by category (A/1, A/8, A/9).
    pub privati_categoria_esclusa: u32,
    /// Unused public units (libero + sfitti), for the side-by-side view.
    pub pubblici_inutilizzati: u32,
    /// Events per calendar year, ascending.
    pub per_anno: Vec<AnnoPrivato>,
}

impl FigurePrivate {
    fn add_unit(&mut self, u: &AlloggioPrivato, finestra: FinestraRimessi) {
        self.privati_offerti += 1;
        match u.stato {
            StatoPrivato::Offerto => self.privati_in_offerta += 1,
            StatoPrivato::LocatoConcordato => {
                self.privati_locati_concordato += 1;
                if u.data_locazione
                    .is_some_and(|d| finestra.contiene(d.year()))
                {
                    self.privati_rimessi_in_uso += 1;
                }
            }
            StatoPrivato::Ritirato => self.privati_ritirati += 1,
        }
        let i = idoneita(u.categoria_catastale.as_deref(), u.superficie_mq);
        if i.categoria_esclusa {
            self.privati_categoria_esclusa += 1;
        }
        if i.ammissibile {
            self.privati_ammissibili_misure += 1;
        }
        let mut bump = |anno: i32, f: fn(&mut AnnoPrivato)| {
            let pos = match self.per_anno.binary_search_by_key(&anno, |a| a.anno) {
                Ok(p) => p,
                Err(p) => {
                    self.per_anno.insert(
                        p,
                        AnnoPrivato {
                            anno,
                            ..AnnoPrivato::default()
                        },
                    );
                    p
                }
            };
            f(&mut self.per_anno[pos]);
        };
        bump(u.data_offerta.year(), |a| a.offerti += 1);
        if let (StatoPrivato::LocatoConcordato, Some(d)) = (u.stato, u.data_locazione) {
            bump(d.year(), |a| a.locati_concordato += 1);
        }
        if let (StatoPrivato::Ritirato, Some(d)) = (u.stato, u.data_ritiro) {
            bump(d.year(), |a| a.ritirati += 1);
        }
    }

    fn add_estimate(&mut self, totali: u32, non_occupate: u32) {
        self.aree_stima += 1;
        self.abitazioni_stimate += totali;
        self.abitazioni_non_occupate_stimate += non_occupate;
    }

    fn finish(&mut self) {
        self.quota_non_occupate = (self.abitazioni_stimate > 0).then(|| {
            f64::from(self.abitazioni_non_occupate_stimate) / f64::from(self.abitazioni_stimate)
        });
    }
}

/// The figures of one comune.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrivatoComune {
    pub istat: String,
    pub nome: String,
    #[serde(flatten)]
    pub figure: FigurePrivate,
}

/// All private-stock figures of a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockPrivato {
    /// False when neither private input was given (the figures are then all zero).
    pub dati_presenti: bool,
    pub finestra_rimessi: FinestraRimessi,
    /// Every comune of the Ambito, in the model's order.
    pub per_comune: Vec<PrivatoComune>,
    pub ambito: FigurePrivate,
    /// Offered units whose comune is not one of the Ambito's (counted in the Ambito totals).
    pub privati_senza_comune: u32,
    /// Area estimates not assigned to any comune of the Ambito (not in the Ambito totals).
    pub aree_non_attribuite: u32,
}

/// Private-stock figures per comune and Ambito, with the plan year's default window.
pub fn stock_privato(model: &Model) -> StockPrivato {
    stock_privato_con(model, FinestraRimessi::per_piano(model.ambito.anno))
}

/// Private-stock figures per comune and Ambito with an explicit "brought back to use" window.
pub fn stock_privato_con(model: &Model, finestra: FinestraRimessi) -> StockPrivato {
    let mut per: BTreeMap<&str, FigurePrivate> = model
        .comuni
        .iter()
        .map(|c| (c.istat.as_str(), FigurePrivate::default()))
        .collect();
    let mut ambito = FigurePrivate::default();
    let mut senza_comune = 0;
    let mut non_attribuite = 0;
    for u in &model.alloggi_privati {
        ambito.add_unit(u, finestra);
        match u.comune_istat.as_deref().and_then(|k| per.get_mut(k)) {
            Some(f) => f.add_unit(u, finestra),
            None => senza_comune += 1,
        }
    }
    for t in &model.stime_non_occupate {
        match t.comune_istat.as_deref().and_then(|k| per.get_mut(k)) {
            Some(f) => {
                f.add_estimate(t.abitazioni_totali, t.abitazioni_non_occupate);
                ambito.add_estimate(t.abitazioni_totali, t.abitazioni_non_occupate);
            }
            None => non_attribuite += 1,
        }
    }
    for u in &model.alloggi_pubblici {
        if !u.stato.is_unused() {
            continue;
        }
        ambito.pubblici_inutilizzati += 1;
        if let Some(f) = u.comune_istat.as_deref().and_then(|k| per.get_mut(k)) {
            f.pubblici_inutilizzati += 1;
        }
    }
    ambito.finish();
    let per_comune = model
        .comuni
        .iter()
        .map(|c| {
            let mut figure = per.remove(c.istat.as_str()).unwrap_or_default();
            figure.finish();
            PrivatoComune {
                istat: c.istat.clone(),
                nome: c.nome.clone(),
                figure,
            }
        })
        .collect();
    StockPrivato {
        dati_presenti: !model.alloggi_privati.is_empty() || !model.stime_non_occupate.is_empty(),
        finestra_rimessi: finestra,
        per_comune,
        ambito,
        privati_senza_comune: senza_comune,
        aree_non_attribuite: non_attribuite,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_area_limit_adds_eleven_square_metres_per_member_beyond_four() {
        assert_eq!(superficie_massima_mq(1), 110.0);
        assert_eq!(superficie_massima_mq(4), 110.0);
        assert_eq!(superficie_massima_mq(5), 121.0);
        assert_eq!(superficie_massima_mq(6), 132.0);
        assert_eq!(superficie_massima_mq(7), 143.0);
    }

    #[test]
    fn minimum_household_at_the_edges() {
        assert_eq!(idoneita(None, Some(110.0)).componenti_minimi, Some(1));
        assert_eq!(idoneita(None, Some(110.5)).componenti_minimi, Some(5));
        assert_eq!(idoneita(None, Some(121.0)).componenti_minimi, Some(5));
        assert_eq!(idoneita(None, Some(121.1)).componenti_minimi, Some(6));
        assert_eq!(idoneita(None, Some(132.0)).componenti_minimi, Some(6));
        // 133 m² would fit six members only if the 10% compounded (133.1).
        assert_eq!(idoneita(None, Some(133.0)).componenti_minimi, Some(7));
        let huge = idoneita(Some("A/2"), Some(400.0));
        assert_eq!(huge.componenti_minimi, None);
        assert!(!huge.ammissibile);
        assert!(idoneita(Some("A/3"), None).ammissibile);
    }

    #[test]
    fn luxury_categories_are_excluded() {
        for c in ["A/1", "A/8", "A/9"] {
            let i = idoneita(Some(c), Some(80.0));
            assert!(i.categoria_esclusa && !i.ammissibile, "{c}");
        }
        for c in ["A/2", "A/3", "A/7", "A/10", "A/11"] {
            assert!(!categoria_esclusa(c), "{c}");
        }
    }
}
