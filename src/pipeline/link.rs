//! Stage 3: the checked model linked: private offers and public units placed on parcels and
//! buildings (comune by ISTAT/Belfiore/name), estimate areas assigned to comuni, the other
//! public property resolved against the Ambito's comuni.

use std::path::Path;

use crate::analysis::linkage::{link_units, LinkageReport};
use crate::analysis::private::{assign_tracts, link_private_units};
use crate::model::{Localizzazione, Model};
use crate::project::Project;

/// The linked model, the public units' linkage report and this stage's warnings.
#[derive(Debug)]
pub struct Linked {
    pub model: Model,
    pub linkage: LinkageReport,
    /// Units outside the Ambito or matching nothing, estimates and property outside it.
    pub avvisi: Vec<String>,
}

/// Links the model of `project`.
pub fn link(project: &Project, mut model: Model) -> Linked {
    let mut avvisi = Vec::new();
    if project.input.alloggi_privati.is_some() {
        avvisi.extend(link_private(&mut model));
    }
    if project.input.stime_non_occupate.is_some() {
        avvisi.extend(assign_tracts(&mut model));
    }
    if let Some(file) = &project.input.altra_proprieta_pubblica {
        avvisi.extend(resolve_property_comuni(&mut model, &project.resolve(file)));
    }
    let linkage = link_units(&mut model);
    avvisi.extend(linkage.fuori_ambito.iter().cloned());
    for u in &linkage.non_collegate {
        avvisi.push(format!(
            "Inventario, riga {}: {} unità {}: {}",
            u.riga, u.ente, u.codice_unita, u.motivo
        ));
    }
    Linked {
        model,
        linkage,
        avvisi,
    }
}

/// Places the private offers by the same rules as the public units; returns the warnings.
fn link_private(model: &mut Model) -> Vec<String> {
    let mut avvisi = Vec::new();
    let linked = link_private_units(model);
    avvisi.extend(
        linked
            .fuori_ambito
            .iter()
            .map(|m| format!("Alloggi privati, {m}")),
    );
    // A unit given only by coordinates is placed as intended: no warning for it.
    let by_coordinates_only = |riga: usize| {
        model.alloggi_privati.iter().any(|p| {
            p.riga == riga
                && p.foglio.is_none()
                && p.particella.is_none()
                && p.localizzazione == Localizzazione::Coordinate
        })
    };
    for u in linked
        .non_collegate
        .iter()
        .filter(|u| !by_coordinates_only(u.riga))
    {
        avvisi.push(format!(
            "Alloggi privati, riga {}: offerta {}: {}",
            u.riga, u.codice_unita, u.motivo
        ));
    }
    avvisi
}

/// Completes the comune codes of the other public property from the Ambito's comuni; rows of
/// comuni outside the Ambito are dropped with a warning.
fn resolve_property_comuni(model: &mut Model, path: &Path) -> Vec<String> {
    let mut avvisi = Vec::new();
    let comuni = model.comuni.clone();
    model.altra_proprieta_pubblica.retain_mut(|p| {
        let found = comuni.iter().find(|c| {
            p.comune_istat.as_deref() == Some(c.istat.as_str())
                || p.belfiore
                    .as_deref()
                    .is_some_and(|b| b.eq_ignore_ascii_case(&c.belfiore))
                || p.comune_nome
                    .as_deref()
                    .is_some_and(|n| n.trim().eq_ignore_ascii_case(c.nome.trim()))
        });
        match found {
            Some(c) => {
                p.comune_istat = Some(c.istat.clone());
                p.belfiore = Some(c.belfiore.clone());
                p.comune_nome = Some(c.nome.clone());
                true
            }
            None => {
                avvisi.push(format!(
                    "{}: riga {}: immobile {}: comune non appartenente all'Ambito, ignorato",
                    path.display(),
                    p.riga,
                    p.codice
                ));
                false
            }
        }
    });
    avvisi
}
