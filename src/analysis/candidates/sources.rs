//! Where candidate areas come from: the PGT zone classes the rules name (planned services,
//! ambiti di trasformazione, regeneration), parcels of public owners with unused housing
//! units, and other public property listed by cadastral reference.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use geo::{BoundingRect, Contains, MultiPolygon, Point};

use super::rules::{stato_proprieta, Regole};
use super::FonteCandidata;
use crate::index::ModelIndex;
use crate::italiano::numero_it;
use crate::model::cadref::ParcelKey;
use crate::model::{ClasseZona, Model, StatoProprieta};

/// One area a source proposes, before screening.
pub(super) struct Source {
    pub(super) id: String,
    pub(super) fonte: FonteCandidata,
    pub(super) comune_istat: Option<String>,
    pub(super) comune_nome: Option<String>,
    pub(super) denominazione: Option<String>,
    pub(super) geometry: MultiPolygon<f64>,
    pub(super) quota: f64,
    pub(super) area_minima_mq: f64,
    /// The source's own reason, in Italian.
    pub(super) motivo: String,
    /// Public owners of the area, when it is public property.
    pub(super) proprietari: Vec<String>,
    /// Unused public units that made it a source (not counted again as "nearby").
    pub(super) unita_proprie: BTreeSet<usize>,
}

/// Every area the active sources propose: PGT zones first, then public property.
pub(super) fn collect(model: &Model, index: &ModelIndex, rules: &Regole) -> Vec<Source> {
    let mut out = zone_pgt(model, index, rules);
    out.extend(patrimonio_pubblico(model, index, rules));
    out.extend(altra_proprieta_pubblica(model, rules));
    out
}

fn comune_name(model: &Model, istat: Option<&str>) -> Option<String> {
    istat
        .and_then(|k| model.comune_by_istat(k))
        .map(|c| c.nome.clone())
}

/// The comune holding the box centre, for zones that name none.
fn locate_comune(model: &Model, index: &ModelIndex, g: &MultiPolygon<f64>) -> Option<String> {
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
fn parcels_by_key(model: &Model) -> HashMap<ParcelKey, usize> {
    model
        .particelle
        .iter()
        .enumerate()
        .map(|(i, p)| (p.key(), i))
        .rev()
        .collect()
}

/// Planned service areas, ambiti di trasformazione and regeneration areas of the PGT, numbered
/// per source and comune.
fn zone_pgt(model: &Model, index: &ModelIndex, rules: &Regole) -> Vec<Source> {
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
    out
}

/// Parcels of the listed public owners holding enough unused units (one candidate a parcel).
fn patrimonio_pubblico(model: &Model, index: &ModelIndex, rules: &Regole) -> Vec<Source> {
    let pp = &rules.fonti.patrimonio_pubblico;
    if !pp.attiva {
        return Vec::new();
    }
    let min_default = rules.generale.area_minima_mq;
    let mut out = Vec::new();
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
    out
}

/// Other public property in the states of use the rules name, found by cadastral reference.
fn altra_proprieta_pubblica(model: &Model, rules: &Regole) -> Vec<Source> {
    let ap = &rules.fonti.altra_proprieta_pubblica;
    if !ap.attiva || model.altra_proprieta_pubblica.is_empty() {
        return Vec::new();
    }
    let min_default = rules.generale.area_minima_mq;
    let mut out = Vec::new();
    let stati: Vec<StatoProprieta> = ap.stati.iter().filter_map(|s| stato_proprieta(s)).collect();
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
        let key = ParcelKey::new(
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
    out
}
