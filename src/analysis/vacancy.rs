//! Unused public stock: counts per comune (where units stand), per owner and for the Ambito,
//! with rates and units per 1,000 inhabitants.
//!
//! "Unused" = libero + sfitto per carenze manutentive + sfitto per ristrutturazione (DOMAIN.md);
//! the counts cover every public unit (SAP, SAS, SAT, altro uso residenziale), `alloggi_sap`
//! the SAP ones.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use geo::GeodesicArea;
use serde::Serialize;

use crate::model::{AlloggioPubblico, Model, Servizio, Stato};

/// Counts of units by state.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Conteggi {
    pub alloggi: u32,
    pub alloggi_sap: u32,
    pub occupati: u32,
    pub liberi: u32,
    pub sfitto_carenze_manutentive: u32,
    pub sfitto_ristrutturazione: u32,
    pub inutilizzati: u32,
    /// Unused units with a known `sfitto_dal`.
    pub inutilizzati_con_data: u32,
    /// Mean months empty over the unused units with a known date.
    pub mesi_sfitto_medi: Option<f64>,
    /// Unused units empty for more than 24 months.
    pub sfitti_oltre_24_mesi: u32,
    #[serde(skip)]
    mesi_totali: u64,
}

impl Conteggi {
    pub fn add(&mut self, unit: &AlloggioPubblico, reference: NaiveDate) {
        self.alloggi += 1;
        if unit.servizio == Servizio::Sap {
            self.alloggi_sap += 1;
        }
        match unit.stato {
            Stato::Occupato => self.occupati += 1,
            Stato::Libero => self.liberi += 1,
            Stato::SfittoCarenzeManutentive => self.sfitto_carenze_manutentive += 1,
            Stato::SfittoRistrutturazione => self.sfitto_ristrutturazione += 1,
        }
        if unit.stato.is_unused() {
            self.inutilizzati += 1;
            if let Some(m) = unit.mesi_sfitto(reference) {
                self.inutilizzati_con_data += 1;
                self.mesi_totali += u64::from(m);
                if m > 24 {
                    self.sfitti_oltre_24_mesi += 1;
                }
                self.mesi_sfitto_medi =
                    Some(self.mesi_totali as f64 / f64::from(self.inutilizzati_con_data));
            }
        }
    }

    /// Unused share of the units, `None` when there are none.
    pub fn tasso_inutilizzo(&self) -> Option<f64> {
        (self.alloggi > 0).then(|| f64::from(self.inutilizzati) / f64::from(self.alloggi))
    }
}

fn per_1000(n: u32, population: u32) -> Option<f64> {
    (population > 0).then(|| f64::from(n) * 1000.0 / f64::from(population))
}

/// Figures of one comune.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatComune {
    pub istat: String,
    pub belfiore: String,
    pub nome: String,
    pub sub_ambito: Option<String>,
    pub popolazione: u32,
    /// Geodesic area of the boundary, km².
    pub area_km2: f64,
    #[serde(flatten)]
    pub conteggi: Conteggi,
    pub tasso_inutilizzo: Option<f64>,
    pub alloggi_per_1000_ab: Option<f64>,
    pub inutilizzati_per_1000_ab: Option<f64>,
    /// This comune's share of the Ambito's unused units (0–1).
    pub quota_inutilizzati_ambito: Option<f64>,
}

/// Figures of one owner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatEnte {
    pub ente: String,
    #[serde(flatten)]
    pub conteggi: Conteggi,
    pub tasso_inutilizzo: Option<f64>,
}

/// Figures of the Ambito.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatAmbito {
    pub popolazione: u32,
    #[serde(flatten)]
    pub conteggi: Conteggi,
    pub tasso_inutilizzo: Option<f64>,
    pub alloggi_per_1000_ab: Option<f64>,
    pub inutilizzati_per_1000_ab: Option<f64>,
}

/// All vacancy figures of a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vacancy {
    pub data_riferimento: NaiveDate,
    pub per_comune: Vec<StatComune>,
    pub per_ente: Vec<StatEnte>,
    pub ambito: StatAmbito,
    /// Units whose comune is not one of the Ambito's (counted in the owner and Ambito totals).
    pub senza_comune: u32,
}

/// Computes the vacancy figures. Pure: reads the model, no I/O.
pub fn vacancy(model: &Model) -> Vacancy {
    let reference = model.ambito.data_riferimento;
    let mut per_comune: BTreeMap<&str, Conteggi> = BTreeMap::new();
    let mut per_ente: BTreeMap<&str, Conteggi> = BTreeMap::new();
    let mut totale = Conteggi::default();
    let mut senza_comune = 0;
    for u in &model.alloggi_pubblici {
        totale.add(u, reference);
        per_ente
            .entry(u.ente_proprietario.as_str())
            .or_default()
            .add(u, reference);
        match u
            .comune_istat
            .as_deref()
            .filter(|i| model.comune_by_istat(i).is_some())
        {
            Some(istat) => per_comune.entry(istat).or_default().add(u, reference),
            None => senza_comune += 1,
        }
    }
    let popolazione: u32 = model.comuni.iter().map(|c| c.popolazione).sum();
    let comuni = model
        .comuni
        .iter()
        .map(|c| {
            let conteggi = per_comune
                .get(c.istat.as_str())
                .cloned()
                .unwrap_or_default();
            StatComune {
                istat: c.istat.clone(),
                belfiore: c.belfiore.clone(),
                nome: c.nome.clone(),
                sub_ambito: c.sub_ambito.clone(),
                popolazione: c.popolazione,
                area_km2: c.geometry.geodesic_area_unsigned() / 1e6,
                tasso_inutilizzo: conteggi.tasso_inutilizzo(),
                alloggi_per_1000_ab: per_1000(conteggi.alloggi, c.popolazione),
                inutilizzati_per_1000_ab: per_1000(conteggi.inutilizzati, c.popolazione),
                quota_inutilizzati_ambito: (totale.inutilizzati > 0)
                    .then(|| f64::from(conteggi.inutilizzati) / f64::from(totale.inutilizzati)),
                conteggi,
            }
        })
        .collect();
    let enti = per_ente
        .into_iter()
        .map(|(ente, conteggi)| StatEnte {
            ente: ente.to_string(),
            tasso_inutilizzo: conteggi.tasso_inutilizzo(),
            conteggi,
        })
        .collect();
    Vacancy {
        data_riferimento: reference,
        per_comune: comuni,
        per_ente: enti,
        ambito: StatAmbito {
            popolazione,
            tasso_inutilizzo: totale.tasso_inutilizzo(),
            alloggi_per_1000_ab: per_1000(totale.alloggi, popolazione),
            inutilizzati_per_1000_ab: per_1000(totale.inutilizzati, popolazione),
            conteggi: totale,
        },
        senza_comune,
    }
}
