//! [`Analisi`]: a model with its R-trees and every analysis result, the one state that the
//! outputs render and the server serves. Results live here, beside the model, never inside it:
//! the candidate and excluded areas are screening results with their own R-trees.

use crate::index::{LayerIndex, ModelIndex};
use crate::model::Model;

use super::candidates::{screen, FonteCandidata, Regole, Screening};
use super::piano_annuale::{contesto, piano_annuale, PianoAnnuale};
use super::private::{stock_privato, StockPrivato};
use super::vacancy::{vacancy, Vacancy};

/// Everything the outputs, the server and the reports need, in memory.
#[derive(Debug)]
pub struct Analisi {
    pub model: Model,
    pub index: ModelIndex,
    pub vacancy: Vacancy,
    pub report: PianoAnnuale,
    /// Private-stock figures (aggregates; individual private units stay in `model`).
    pub privato: StockPrivato,
    /// Candidate social-housing standard areas and the areas excluded whole.
    pub candidate: Screening,
    /// R-trees of [`Screening::candidate`] and [`Screening::escluse`], by position.
    pub indice_candidate: LayerIndex,
    pub indice_escluse: LayerIndex,
    /// R-tree of the individual private units (`model.alloggi_privati`), by position.
    pub indice_privati: LayerIndex,
    /// The rules the candidates were screened with.
    pub regole: Regole,
    /// The candidate and excluded areas the public sees ([`VistaPubblica`]).
    pub vista_pubblica: VistaPubblica,
}

/// The screening as the public sees it: without the areas made from a public parcel because
/// it holds unused units ([`FonteCandidata::PatrimonioPubblico`]), whose outline and reasons
/// point at a building with empty flats. They are counted at comune level only (in the
/// panel's candidate figures). Positions in this view map to positions in [`Screening`].
#[derive(Debug)]
pub struct VistaPubblica {
    pub candidate: Vec<usize>,
    pub escluse: Vec<usize>,
    pub indice_candidate: LayerIndex,
    pub indice_escluse: LayerIndex,
}

impl VistaPubblica {
    fn of(s: &Screening) -> VistaPubblica {
        let public = |f: FonteCandidata| f != FonteCandidata::PatrimonioPubblico;
        let candidate: Vec<usize> = (0..s.candidate.len())
            .filter(|&i| public(s.candidate[i].fonte))
            .collect();
        let escluse: Vec<usize> = (0..s.escluse.len())
            .filter(|&i| public(s.escluse[i].fonte))
            .collect();
        VistaPubblica {
            indice_candidate: LayerIndex::from_polygons(
                candidate.iter().map(|&i| &s.candidate[i].geometry),
            ),
            indice_escluse: LayerIndex::from_polygons(
                escluse.iter().map(|&i| &s.escluse[i].geometry),
            ),
            candidate,
            escluse,
        }
    }
}

impl Analisi {
    /// Indexes a model and runs the analyses (candidates with the built-in rules).
    pub fn from_model(model: Model) -> Analisi {
        Analisi::from_model_with_rules(model, Regole::predefinite())
    }

    /// Indexes a model and runs the analyses, screening candidates with `regole`.
    pub fn from_model_with_rules(model: Model, regole: Regole) -> Analisi {
        let index = ModelIndex::build(&model);
        let vacancy = vacancy(&model);
        let report = piano_annuale(&model.alloggi_pubblici, &contesto(&model));
        let privato = stock_privato(&model);
        let candidate = screen(&model, &index, &regole);
        let indice_candidate =
            LayerIndex::from_polygons(candidate.candidate.iter().map(|c| &c.geometry));
        let indice_escluse =
            LayerIndex::from_polygons(candidate.escluse.iter().map(|e| &e.geometry));
        let indice_privati =
            LayerIndex::from_points(model.alloggi_privati.iter().map(|u| u.posizione.as_ref()));
        let vista_pubblica = VistaPubblica::of(&candidate);
        Analisi {
            model,
            index,
            vacancy,
            report,
            privato,
            candidate,
            indice_candidate,
            indice_escluse,
            indice_privati,
            regole,
            vista_pubblica,
        }
    }
}
