//! Stage 2: the model as read, checked: every position in Lombardy (the error names the file
//! and the feature), `_map` sheets joined to `_ple` parcels, geometries checked and repaired.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use geo::{BoundingRect, MultiPolygon};

use super::read::{GmlCadastre, Layer, Source};
use super::PipelineError;
use crate::crs;
use crate::model::{Foglio, Model, Particella};

/// The model with its geometry checked and repaired, and this stage's warnings.
#[derive(Debug)]
pub struct Checked {
    pub model: Model,
    /// Sheet-join and geometry warnings.
    pub avvisi: Vec<String>,
}

/// Checks the model read from `sources` ([`Inputs::sources`]): Lombardy (an error), the sheet
/// join of the cadastral GML (warnings) and validity (warnings, repairs, features left without
/// polygons dropped).
///
/// [`Inputs::sources`]: super::read::Inputs::sources
pub fn check(
    mut model: Model,
    sources: &[Source],
    gml_cadastre: Option<GmlCadastre>,
) -> Result<Checked, PipelineError> {
    for source in sources {
        check_source(&model, source)?;
    }
    let mut avvisi = Vec::new();
    if let Some(gml) = gml_cadastre {
        avvisi.extend(sheet_join_avvisi(
            model.particelle.get(..gml.particelle).unwrap_or_default(),
            model.fogli.get(..gml.fogli).unwrap_or_default(),
        ));
    }
    avvisi.extend(repair_geometry(&mut model));
    Ok(Checked { model, avvisi })
}

/// Checks the features of one source lie in Lombardy.
fn check_source(model: &Model, source: &Source) -> Result<(), PipelineError> {
    let path = source.name.as_path();
    for i in source.range.clone() {
        match source.layer {
            Layer::Comuni => {
                let c = &model.comuni[i];
                check_in_lombardy(&c.geometry, path, &c.istat)?;
            }
            Layer::Fogli => {
                let f = &model.fogli[i];
                check_in_lombardy(&f.geometry, path, &f.riferimento)?;
            }
            Layer::Particelle => {
                let p = &model.particelle[i];
                check_in_lombardy(&p.geometry, path, &p.riferimento)?;
            }
            Layer::Fabbricati => {
                let b = &model.fabbricati[i];
                check_in_lombardy(&b.geometry, path, &format!("{}+", b.riferimento))?;
            }
            Layer::StimeNonOccupate => {
                let t = &model.stime_non_occupate[i];
                let name = t
                    .codice
                    .clone()
                    .unwrap_or_else(|| format!("n. {}", t.elemento));
                check_in_lombardy(&t.geometry, path, &name)?;
            }
            Layer::ServiziPuntuali => {
                let s = &model.servizi_puntuali[i];
                if let Some(message) =
                    crs::diagnose_outside_lombardy(s.posizione.x(), s.posizione.y())
                {
                    return Err(PipelineError::OutsideLombardy {
                        path: path.to_path_buf(),
                        feature: s
                            .nome
                            .clone()
                            .unwrap_or_else(|| format!("n. {}", i - source.range.start + 1)),
                        message,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Checks that a geometry lies in Lombardy; the error names the file and feature.
fn check_in_lombardy(
    g: &MultiPolygon<f64>,
    path: &Path,
    feature: &str,
) -> Result<(), PipelineError> {
    if let Some(r) = g.bounding_rect() {
        let c = r.center();
        if let Some(message) = crs::diagnose_outside_lombardy(c.x, c.y) {
            return Err(PipelineError::OutsideLombardy {
                path: path.to_path_buf(),
                feature: feature.to_string(),
                message,
            });
        }
    }
    Ok(())
}

/// Warnings on `_map` sheets joined to their parcels, one per comune and kind: parcels whose
/// (sezione, foglio) has no sheet, sheets with no parcel, or a whole `_map`/`_ple` missing.
fn sheet_join_avvisi(particelle: &[Particella], fogli: &[Foglio]) -> Vec<String> {
    type SheetKey<'a> = (Option<&'a str>, &'a str);
    #[derive(Default)]
    struct PerComune<'a> {
        parcels: BTreeMap<SheetKey<'a>, usize>,
        sheets: BTreeSet<SheetKey<'a>>,
    }
    let mut by_comune: BTreeMap<&str, PerComune<'_>> = BTreeMap::new();
    for p in particelle {
        *by_comune
            .entry(&p.belfiore)
            .or_default()
            .parcels
            .entry((p.sezione.as_deref(), &p.foglio))
            .or_default() += 1;
    }
    for f in fogli {
        by_comune
            .entry(&f.belfiore)
            .or_default()
            .sheets
            .insert((f.sezione.as_deref(), &f.foglio));
    }
    let mut out = Vec::new();
    for (b, c) in by_comune {
        let parcels: usize = c.parcels.values().sum();
        if c.sheets.is_empty() {
            out.push(format!(
                "Catasto, comune {b}: nessun foglio caricato (manca il file _map): \
                 le {parcels} particelle restano senza foglio."
            ));
            continue;
        }
        if c.parcels.is_empty() {
            out.push(format!(
                "Catasto, comune {b}: nessuna particella caricata (manca il file _ple): \
                 i {} fogli restano vuoti.",
                c.sheets.len()
            ));
            continue;
        }
        let orphans: usize = c
            .parcels
            .iter()
            .filter(|(k, _)| !c.sheets.contains(*k))
            .map(|(_, n)| n)
            .sum();
        if orphans > 0 {
            out.push(format!(
                "Catasto, comune {b}: {orphans} particelle senza foglio nel file _map."
            ));
        }
        let empty = c
            .sheets
            .iter()
            .filter(|k| !c.parcels.contains_key(*k))
            .count();
        if empty > 0 {
            out.push(format!(
                "Catasto, comune {b}: {empty} fogli del file _map senza particelle."
            ));
        }
    }
    out
}

/// Geometry validity: each polygon layer checked and repaired; features left without polygons
/// are dropped (comuni stay, even without geometry). Returns the warnings.
fn repair_geometry(model: &mut Model) -> Vec<String> {
    let mut avvisi = Vec::new();
    use crate::model::validity::{check_and_repair, riepilogo, Problema};
    /// Problems listed one by one before the summary by kind.
    const LISTED: usize = 50;
    let mut found: Vec<(String, Problema)> = Vec::new();
    let mut dropped: Vec<String> = Vec::new();
    let mut check = |label: String, g: &mut MultiPolygon<f64>| -> bool {
        let was_empty = g.0.is_empty();
        for p in check_and_repair(g) {
            found.push((label.clone(), p));
        }
        let keep = was_empty || !g.0.is_empty();
        if !keep {
            dropped.push(label);
        }
        keep
    };
    for c in &mut model.comuni {
        // A comune stays even without geometry.
        check(format!("comune {} ({})", c.nome, c.istat), &mut c.geometry);
    }
    model
        .fogli
        .retain_mut(|f| check(format!("foglio {}", f.riferimento), &mut f.geometry));
    model
        .particelle
        .retain_mut(|p| check(format!("particella {}", p.riferimento), &mut p.geometry));
    model
        .fabbricati
        .retain_mut(|f| check(format!("fabbricato {}", f.riferimento), &mut f.geometry));
    let mut n = 0;
    model.pgt_zone.retain_mut(|z| {
        n += 1;
        let name = z.legenda.as_deref().unwrap_or(z.classe.code());
        check(
            format!("zona PGT {} n. {n} ({name})", z.fonte),
            &mut z.geometry,
        )
    });
    let mut n = 0;
    model.vincoli.retain_mut(|v| {
        n += 1;
        check(
            format!("vincolo {} n. {n} ({})", v.fonte, v.nome),
            &mut v.geometry,
        )
    });
    avvisi.extend(riepilogo(&found, LISTED));
    if !dropped.is_empty() {
        avvisi.push(format!(
            "Geometrie: {} elementi eliminati perché senza poligoni validi: {}",
            dropped.len(),
            dropped
                .iter()
                .take(LISTED)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    avvisi
}
