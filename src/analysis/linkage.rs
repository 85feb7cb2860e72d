//! Linkage of inventory units to the Ambito's comuni and to cadastral parcels.
//!
//! A unit is placed at the interior point of the parcel its cadastral reference names
//! (comune + sezione + foglio + particella); failing that, at its `lon`/`lat` when given;
//! otherwise it is counted but not drawn, and listed.
//!
//! Buildings refine where units stand: when the unit's parcel has buildings on it (CXF
//! `fabbricati`), the unit goes to the interior point of the largest of them instead.

use std::collections::HashMap;

use geo::{Area, InteriorPoint, Point};
use serde::Serialize;

use crate::model::cadref::ParcelKey;
use crate::model::{Localizzazione, Model};

/// A unit that could not be placed on its parcel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitaNonCollegata {
    pub ente: String,
    pub codice_unita: String,
    pub riga: usize,
    /// Why, in Italian.
    pub motivo: String,
    /// Whether it was placed from its coordinates instead.
    pub localizzata_da_coordinate: bool,
}

/// What linkage did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LinkageReport {
    pub collegate_a_particella: usize,
    /// Of `collegate_a_particella`, the units placed on a building of their parcel.
    pub collegate_a_fabbricato: usize,
    pub localizzate_da_coordinate: usize,
    pub non_localizzate: usize,
    pub non_collegate: Vec<UnitaNonCollegata>,
    /// Units whose comune is not one of the Ambito's, in Italian.
    pub fuori_ambito: Vec<String>,
}

fn fold(s: &str) -> String {
    s.trim()
        .to_lowercase()
        .replace(['’', '`'], "'")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Resolves each unit's comune against the Ambito's comuni (by ISTAT, Belfiore or name,
/// filling the other two), then places it. Mutates only the units' derived fields.
pub fn link_units(model: &mut Model) -> LinkageReport {
    let mut report = LinkageReport::default();

    let by_istat: HashMap<String, usize> = model
        .comuni
        .iter()
        .enumerate()
        .map(|(i, c)| (c.istat.clone(), i))
        .collect();
    let by_belfiore: HashMap<String, usize> = model
        .comuni
        .iter()
        .enumerate()
        .map(|(i, c)| (c.belfiore.to_ascii_uppercase(), i))
        .collect();
    let by_name: HashMap<String, usize> = model
        .comuni
        .iter()
        .enumerate()
        .map(|(i, c)| (fold(&c.nome), i))
        .collect();

    let parcels: HashMap<ParcelKey, usize> = model
        .particelle
        .iter()
        .enumerate()
        .map(|(i, p)| (p.key(), i))
        .collect();

    // Where a unit on a parcel stands: the interior point of the parcel's largest building.
    let mut largest: HashMap<ParcelKey, (f64, usize)> = HashMap::new();
    for (i, b) in model.fabbricati.iter().enumerate() {
        // Planar area in degrees: enough to compare buildings of one parcel.
        let area = b.geometry.unsigned_area();
        let entry = largest.entry(b.key()).or_insert((area, i));
        if area > entry.0 {
            *entry = (area, i);
        }
    }
    let on_building: HashMap<ParcelKey, Point<f64>> = largest
        .into_iter()
        .filter_map(|(k, (_, i))| Some((k, model.fabbricati[i].geometry.interior_point()?)))
        .collect();

    for unit in &mut model.alloggi_pubblici {
        let comune = unit
            .comune_istat
            .as_ref()
            .and_then(|k| by_istat.get(k))
            .or_else(|| {
                unit.belfiore
                    .as_ref()
                    .and_then(|k| by_belfiore.get(&k.to_ascii_uppercase()))
            })
            .or_else(|| {
                unit.comune_nome
                    .as_ref()
                    .and_then(|k| by_name.get(&fold(k)))
            })
            .copied();
        match comune {
            Some(i) => {
                let c = &model.comuni[i];
                unit.comune_istat = Some(c.istat.clone());
                unit.belfiore = Some(c.belfiore.clone());
                unit.comune_nome = Some(c.nome.clone());
            }
            None if !model.comuni.is_empty() => {
                let given = unit
                    .comune_istat
                    .clone()
                    .or_else(|| unit.belfiore.clone())
                    .or_else(|| unit.comune_nome.clone())
                    .unwrap_or_default();
                report.fuori_ambito.push(format!(
                    "riga {}: unità {} di {}: il comune {:?} non fa parte dell'Ambito",
                    unit.riga, unit.codice_unita, unit.ente_proprietario, given
                ));
            }
            None => {}
        }

        let parcel = unit.parcel_key().and_then(|k| parcels.get(&k).copied());
        let motivo = match (&parcel, unit.parcel_key()) {
            (Some(_), _) => None,
            (None, None) => Some(
                "riferimento catastale incompleto (servono comune, foglio e particella)"
                    .to_string(),
            ),
            (None, Some(_)) => Some(format!(
                "particella non trovata nel catasto: {} foglio {} particella {}",
                unit.belfiore.as_deref().unwrap_or("?"),
                unit.foglio.as_deref().unwrap_or("?"),
                unit.particella.as_deref().unwrap_or("?"),
            )),
        };
        let building = parcel.and_then(|i| on_building.get(&model.particelle[i].key()).copied());
        let position =
            building.or_else(|| parcel.and_then(|i| model.particelle[i].geometry.interior_point()));
        if let Some(p) = position {
            unit.posizione = Some(p);
            unit.localizzazione = Localizzazione::Particella;
            report.collegate_a_particella += 1;
            if building.is_some() {
                report.collegate_a_fabbricato += 1;
            }
        } else if let Some(p) = unit.lonlat {
            unit.posizione = Some(p);
            unit.localizzazione = Localizzazione::Coordinate;
            report.localizzate_da_coordinate += 1;
        } else {
            unit.posizione = None;
            unit.localizzazione = Localizzazione::NonLocalizzato;
            report.non_localizzate += 1;
        }
        if let Some(motivo) = motivo {
            report.non_collegate.push(UnitaNonCollegata {
                ente: unit.ente_proprietario.clone(),
                codice_unita: unit.codice_unita.clone(),
                riga: unit.riga,
                motivo,
                localizzata_da_coordinate: unit.localizzazione == Localizzazione::Coordinate,
            });
        }
    }
    report
}
