//! The build: project file → readers → model → linkage → index → analyses → workspace.
//! Also loads a built workspace back into memory for `serve` and `report`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use geo::{BoundingRect, MultiPolygon};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::analysis::candidates::{screen, Regole, RegoleError, Screening};
use crate::analysis::linkage::{link_units, LinkageReport};
use crate::analysis::piano_annuale::{piano_annuale, Avviso, Contesto, PianoAnnuale};
use crate::analysis::private::{assign_tracts, link_private_units, stock_privato, StockPrivato};
use crate::analysis::vacancy::{vacancy, Vacancy};
use crate::crs;
use crate::index::ModelIndex;
use crate::ingest::boundaries::read_boundaries;
use crate::ingest::gml::{CadastralFeature, GmlError};
use crate::ingest::inventory::{read_inventory, InventoryOptions};
use crate::ingest::pgt::{read_pgt, Mappatura, PgtError};
use crate::ingest::private::{read_estimates, read_private_units};
use crate::ingest::public_assets::{read_altra_proprieta, read_servizi_puntuali};
use crate::ingest::ReadError;
use crate::model::workspace::{self, InputRecord, Manifest, Staging, WorkspaceError};
use crate::model::{Comune, Localizzazione, Model};
use crate::output::candidates_report::{self, FormatoCandidate};
use crate::output::geojson::{collection, layer_features, PublicLayer};
use crate::output::report::{self, Formato};
use crate::project::{Project, ProjectError};

#[derive(Debug, Error)]
pub enum PipelineError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Gml(#[from] GmlError),
    /// A cadastral archive that is corrupt, beyond the safety limits or without GML.
    #[error(transparent)]
    Archive(crate::ingest::archive::ArchiveError),
    /// A GDAL/OGR source (`input.gdal`) that cannot be read.
    #[cfg(feature = "gdal")]
    #[error("input.gdal: {0}")]
    Gdal(#[from] crate::ingest::gdal_source::GdalSourceError),
    /// `input.gdal` in a build without the `gdal` feature.
    #[error(
        "{path}: input.gdal richiede abitare compilato con --features gdal \
         (cargo build --no-default-features --features gdal)"
    )]
    GdalUnavailable { path: PathBuf },
    /// A table or feature reader (inventory, private stock, other public property, service
    /// points, estimates, boundaries).
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Pgt(#[from] PgtError),
    #[error(transparent)]
    Cxf(#[from] crate::ingest::cxf::CxfError),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Regole(#[from] RegoleError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: elemento {feature}: {message}")]
    OutsideLombardy {
        path: PathBuf,
        feature: String,
        message: String,
    },
}

/// Everything the server and the reports need, in memory.
#[derive(Debug)]
pub struct Loaded {
    pub model: Model,
    pub index: ModelIndex,
    pub vacancy: Vacancy,
    pub report: PianoAnnuale,
    /// Private-stock figures (aggregates; individual private units stay in `model`).
    pub privato: StockPrivato,
    /// Candidate social-housing standard areas (also in `model.aree_candidate`) and the
    /// areas excluded whole.
    pub candidate: Screening,
    /// The rules the candidates were screened with.
    pub regole: Regole,
}

/// The workspace file holding the rules the candidates were screened with.
pub const REGOLE_WORKSPACE: &str = "regole_aree_candidate.toml";

impl Loaded {
    /// Indexes a model and runs the analyses (candidates with the built-in rules).
    pub fn from_model(model: Model) -> Loaded {
        Loaded::from_model_with_rules(model, Regole::predefinite())
    }

    /// Indexes a model and runs the analyses, screening candidates with `regole`.
    pub fn from_model_with_rules(mut model: Model, regole: Regole) -> Loaded {
        let mut index = ModelIndex::build(&model);
        let vacancy = vacancy(&model);
        let report = piano_annuale(&model.alloggi_pubblici, &report_context(&model));
        let privato = stock_privato(&model);
        let candidate = screen(&model, &index, &regole);
        model.aree_candidate = candidate.candidate.clone();
        model.aree_escluse = candidate.escluse.clone();
        index.index_candidates(&model);
        Loaded {
            model,
            index,
            vacancy,
            report,
            privato,
            candidate,
            regole,
        }
    }
}

/// The candidate rules of a project: its `input.regole_candidate` over the built-in ones.
pub fn project_rules(project: &Project) -> Result<Regole, PipelineError> {
    match &project.input.regole_candidate {
        None => Ok(Regole::predefinite()),
        Some(p) => {
            let path = project.resolve(p);
            let text = fs::read_to_string(&path).map_err(io(&path))?;
            Ok(Regole::del_progetto(&text, &path.display().to_string())?)
        }
    }
}

/// The report context of a model: the Ambito, the owners expected (every comune), and
/// data-quality warnings about units not linked to the cadastre.
pub fn report_context(model: &Model) -> Contesto {
    let mut avvisi = Vec::new();
    let unlinked: Vec<_> = model
        .alloggi_pubblici
        .iter()
        .filter(|u| u.localizzazione != Localizzazione::Particella)
        .collect();
    if model.particelle.is_empty() {
        if !model.alloggi_pubblici.is_empty() {
            avvisi.push(Avviso {
                codice: "catasto_assente".into(),
                messaggio: format!(
                    "Catasto non caricato: le {} unità non sono collegate alle particelle.",
                    model.alloggi_pubblici.len()
                ),
            });
        }
    } else {
        for u in unlinked {
            avvisi.push(Avviso {
                codice: "unita_non_collegata".into(),
                messaggio: format!(
                    "{} – unità {} (riga {}): nessuna particella corrisponde al riferimento catastale{}.",
                    u.ente_proprietario,
                    u.codice_unita,
                    u.riga,
                    match u.localizzazione {
                        Localizzazione::Coordinate => "; posizionata dalle coordinate",
                        _ => "; non rappresentata sulla mappa",
                    }
                ),
            });
        }
    }
    Contesto {
        ambito: model.ambito.nome.clone(),
        anno: model.ambito.anno,
        dimostrativo: model.ambito.dimostrativo,
        enti_attesi: model
            .comuni
            .iter()
            .map(|c| format!("Comune di {}", c.nome))
            .collect(),
        avvisi,
    }
}

/// Loads a built workspace.
pub fn load_workspace(dir: &Path) -> Result<Loaded, PipelineError> {
    let model = workspace::load_model(dir)?;
    // The rules of the build, when the workspace has them (older workspaces do not).
    let rules_path = dir.join(REGOLE_WORKSPACE);
    let regole = if rules_path.is_file() {
        let text = fs::read_to_string(&rules_path).map_err(io(&rules_path))?;
        Regole::parse(&text, &rules_path.display().to_string())?
    } else {
        Regole::predefinite()
    };
    Ok(Loaded::from_model_with_rules(model, regole))
}

/// What a build did.
#[derive(Debug)]
pub struct BuildOutcome {
    pub workspace: PathBuf,
    pub manifest: Manifest,
    pub linkage: LinkageReport,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PipelineError + '_ {
    move |source| PipelineError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn record_input(path: &Path, records: &mut Vec<InputRecord>) -> Result<(), PipelineError> {
    let mut f = fs::File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
    let digest = hasher.finalize();
    records.push(InputRecord {
        path: path.display().to_string(),
        bytes,
        sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
    });
    Ok(())
}

/// An archive error as a pipeline error: GML and I/O errors as such (their messages name the
/// file or the nested entry, `provincia.zip!C800_CLUSONE.zip!C800_CLUSONE_ple.gml`), the
/// archive's own errors (corrupt, limits, no GML) as [`PipelineError::Archive`].
fn archive_error(e: crate::ingest::archive::ArchiveError) -> PipelineError {
    use crate::ingest::archive::ArchiveError;
    match e {
        ArchiveError::Gml(g) => PipelineError::Gml(g),
        ArchiveError::Io { path, source } => PipelineError::Io { path, source },
        other => PipelineError::Archive(other),
    }
}

/// Warnings on `_map` sheets joined to their parcels, one per comune and kind: parcels whose
/// (sezione, foglio) has no sheet, sheets with no parcel, or a whole `_map`/`_ple` missing.
fn sheet_join_avvisi(model: &Model) -> Vec<String> {
    type SheetKey<'a> = (Option<&'a str>, &'a str);
    #[derive(Default)]
    struct PerComune<'a> {
        parcels: BTreeMap<SheetKey<'a>, usize>,
        sheets: BTreeSet<SheetKey<'a>>,
    }
    let mut by_comune: BTreeMap<&str, PerComune<'_>> = BTreeMap::new();
    for p in &model.particelle {
        *by_comune
            .entry(&p.belfiore)
            .or_default()
            .parcels
            .entry((p.sezione.as_deref(), &p.foglio))
            .or_default() += 1;
    }
    for f in &model.fogli {
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

/// Reads every input of the project into a linked model. Nothing is written.
pub fn ingest(
    project: &Project,
) -> Result<(Model, LinkageReport, Vec<InputRecord>, Vec<String>), PipelineError> {
    let mut model = Model::empty(project.ambito_info());
    let mut inputs = Vec::new();
    let mut avvisi = Vec::new();

    // Comuni and their boundaries.
    let mut geoms: BTreeMap<String, MultiPolygon<f64>> = BTreeMap::new();
    if let Some(confini) = &project.input.confini {
        let path = project.resolve(confini);
        let wanted: Vec<String> = project.comuni.iter().map(|c| c.istat.clone()).collect();
        for b in read_boundaries(&path, &wanted)? {
            check_in_lombardy(&b.geometry, &path, &b.istat)?;
            geoms.insert(b.istat, b.geometry);
        }
        record_input(&path, &mut inputs)?;
    } else if !project.comuni.is_empty() {
        avvisi.push(
            "Confini comunali non indicati ([input] confini): i comuni non hanno geometria.".into(),
        );
    }
    model.comuni = project
        .comuni
        .iter()
        .map(|c| Comune {
            istat: c.istat.clone(),
            belfiore: c.belfiore.to_ascii_uppercase(),
            nome: c.nome.clone(),
            sub_ambito: c.sub_ambito.clone(),
            popolazione: c.popolazione,
            geometry: geoms.remove(&c.istat).unwrap_or(MultiPolygon(vec![])),
        })
        .collect();

    // Cadastre: keep the Ambito's comuni only (a province archive holds many more). Inputs
    // are GML files, folders, ZIPs of GML or province ZIPs of per-comune ZIPs.
    use crate::ingest::archive;
    let belfiori: BTreeSet<String> = model.comuni.iter().map(|c| c.belfiore.clone()).collect();
    let keep = |belfiore: &str| belfiori.is_empty() || belfiori.contains(belfiore);
    let mut outside: BTreeMap<String, usize> = BTreeMap::new();
    let mut comuni_skipped: BTreeSet<String> = BTreeSet::new();
    for entry in &project.input.catasto {
        let path = project.resolve(entry);
        let mut first_error: Option<PipelineError> = None;
        let summary = archive::read_cadastre(&path, &keep, &mut |source, f| {
            if first_error.is_some() {
                return;
            }
            let (geometry, riferimento) = match &f {
                CadastralFeature::Particella(p) => (&p.geometry, &p.riferimento),
                CadastralFeature::Foglio(s) => (&s.geometry, &s.riferimento),
            };
            if let Err(e) = check_in_lombardy(geometry, Path::new(source), riferimento) {
                first_error = Some(e);
                return;
            }
            match f {
                CadastralFeature::Particella(p) => model.particelle.push(p),
                CadastralFeature::Foglio(s) => model.fogli.push(s),
            }
        })
        .map_err(archive_error)?;
        if let Some(e) = first_error {
            return Err(e);
        }
        for gml in summary.gml {
            avvisi.extend(gml.avvisi);
        }
        for (b, n) in summary.features_skipped {
            *outside.entry(b).or_default() += n;
        }
        comuni_skipped.extend(summary.comuni_skipped);
        for note in summary.ignored {
            avvisi.push(format!("Catasto: {note}."));
        }
        for file in &summary.files {
            record_input(file, &mut inputs)?;
        }
    }
    for (b, n) in outside {
        avvisi.push(format!(
            "Catasto: {n} elementi del comune {b} ignorati (non fa parte dell'Ambito)."
        ));
    }
    if !comuni_skipped.is_empty() {
        avvisi.push(format!(
            "Catasto: file di {} comuni non letti (non fanno parte dell'Ambito): {}.",
            comuni_skipped.len(),
            comuni_skipped.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if !project.input.catasto.is_empty() {
        avvisi.extend(sheet_join_avvisi(&model));
    }

    // CXF sheets (parcels and buildings).
    {
        use crate::ingest::cxf::{cxf_files, read_cxf};
        let mut outside_cxf: BTreeMap<String, usize> = BTreeMap::new();
        for (i, entry) in project.input.cxf.iter().enumerate() {
            let epsg = crs::parse_declared(&entry.crs).map_err(|e| {
                PipelineError::Project(ProjectError::Invalid {
                    path: project.path.clone(),
                    message: format!(
                        "[[input.cxf]] n. {} (percorso = {:?}): crs = {:?} non valido: {e}. \
                         I file CXF non dichiarano il sistema di riferimento: indicare quello \
                         delle coordinate, ad esempio crs = \"EPSG:3003\"",
                        i + 1,
                        entry.percorso.display().to_string(),
                        entry.crs
                    ),
                })
            })?;
            let root = project.resolve(&entry.percorso);
            for path in cxf_files(&root)? {
                let sheet = read_cxf(&path, Some(epsg))?;
                let belfiore = sheet.foglio_ref.belfiore.clone();
                if !belfiori.is_empty() && !belfiori.contains(&belfiore) {
                    *outside_cxf.entry(belfiore).or_default() += sheet.fogli.len()
                        + sheet.particelle.len()
                        + sheet.strade_acque.len()
                        + sheet.fabbricati.len();
                    record_input(&path, &mut inputs)?;
                    continue;
                }
                for f in &sheet.fogli {
                    check_in_lombardy(&f.geometry, &path, &f.riferimento)?;
                }
                for p in sheet.particelle.iter().chain(&sheet.strade_acque) {
                    check_in_lombardy(&p.geometry, &path, &p.riferimento)?;
                }
                for b in &sheet.fabbricati {
                    check_in_lombardy(&b.geometry, &path, &format!("{}+", b.riferimento))?;
                }
                model.fogli.extend(sheet.fogli);
                model.particelle.extend(sheet.particelle);
                model.particelle.extend(sheet.strade_acque);
                model.fabbricati.extend(sheet.fabbricati);
                avvisi.extend(sheet.avvisi);
                record_input(&path, &mut inputs)?;
            }
        }
        for (b, n) in outside_cxf {
            avvisi.push(format!(
                "CXF: {n} elementi del comune {b} ignorati (non fa parte dell'Ambito)."
            ));
        }
    }

    // PGT: files and GDAL sources through the same mapping.
    let mappatura = if project.input.pgt.is_empty() && project.input.gdal.is_empty() {
        None
    } else {
        Some(match &project.input.pgt_mappatura {
            Some(file) => {
                let path = project.resolve(file);
                let mappatura = Mappatura::from_file(&path).map_err(PgtError::from)?;
                record_input(&path, &mut inputs)?;
                mappatura
            }
            None => Mappatura::regionale().map_err(PgtError::from)?,
        })
    };
    if let Some(mappatura) = &mappatura {
        for entry in &project.input.pgt {
            let read = read_pgt(&project.resolve(entry), mappatura)?;
            model.pgt_zone.extend(read.zone);
            model.vincoli.extend(read.vincoli);
            avvisi.extend(read.avvisi);
        }
    }

    // GDAL/OGR sources.
    #[cfg(not(feature = "gdal"))]
    if !project.input.gdal.is_empty() {
        return Err(PipelineError::GdalUnavailable {
            path: project.path.clone(),
        });
    }
    #[cfg(feature = "gdal")]
    for entry in &project.input.gdal {
        use crate::ingest::gdal_source::read_gdal_source;
        // Paths are relative to the project file; connection strings (`PG:…`) and GDAL
        // virtual paths (`/vsizip/…`) are passed as they are.
        let local = project.resolve(std::path::Path::new(&entry.sorgente));
        let is_file = !entry.sorgente.starts_with("PG:") && local.exists();
        let sorgente = if is_file {
            local.display().to_string()
        } else {
            entry.sorgente.clone()
        };
        let Some(mappatura) = &mappatura else {
            continue;
        };
        let read = read_gdal_source(
            &sorgente,
            entry.layer.as_deref(),
            entry.crs.as_deref(),
            mappatura,
        )?;
        model.pgt_zone.extend(read.zone);
        model.vincoli.extend(read.vincoli);
        avvisi.extend(read.avvisi);
        if is_file && local.is_file() {
            record_input(&local, &mut inputs)?;
        }
    }

    // Geometry validity.
    {
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
    }

    // Inventory.
    if let Some(inv) = &project.input.inventario {
        let path = project.resolve(inv);
        let read = read_inventory(&path, &InventoryOptions::default())?;
        model.alloggi_pubblici = read.units;
        record_input(&path, &mut inputs)?;
    }

    // Private stock. Owners' names are dropped by the reader; the individual units stay in
    // `model.json` only (never in `layers/`, never served).
    if let Some(file) = &project.input.alloggi_privati {
        let path = project.resolve(file);
        let read = read_private_units(&path, &InventoryOptions::default())?;
        model.alloggi_privati = read.units;
        record_input(&path, &mut inputs)?;
        let linked = link_private_units(&mut model);
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
    }
    if let Some(file) = &project.input.stime_non_occupate {
        let path = project.resolve(file);
        model.stime_non_occupate = read_estimates(&path)?;
        for t in &model.stime_non_occupate {
            let name = t
                .codice
                .clone()
                .unwrap_or_else(|| format!("n. {}", t.elemento));
            check_in_lombardy(&t.geometry, &path, &name)?;
        }
        record_input(&path, &mut inputs)?;
        avvisi.extend(assign_tracts(&mut model));
    }

    // Other public property and existing services, for the candidate areas.
    if let Some(file) = &project.input.altra_proprieta_pubblica {
        let path = project.resolve(file);
        let read = read_altra_proprieta(&path, &InventoryOptions::default())?;
        model.altra_proprieta_pubblica = read.items;
        record_input(&path, &mut inputs)?;
        avvisi.extend(resolve_property_comuni(&mut model, &path));
    }
    if let Some(file) = &project.input.servizi_puntuali {
        let path = project.resolve(file);
        model.servizi_puntuali = read_servizi_puntuali(&path)?;
        for (i, s) in model.servizi_puntuali.iter().enumerate() {
            if let Some(message) = crs::diagnose_outside_lombardy(s.posizione.x(), s.posizione.y())
            {
                return Err(PipelineError::OutsideLombardy {
                    path: path.clone(),
                    feature: s.nome.clone().unwrap_or_else(|| format!("n. {}", i + 1)),
                    message,
                });
            }
        }
        record_input(&path, &mut inputs)?;
    }

    let linkage = link_units(&mut model);
    avvisi.extend(linkage.fuori_ambito.iter().cloned());
    for u in &linkage.non_collegate {
        avvisi.push(format!(
            "Inventario, riga {}: {} unità {}: {}",
            u.riga, u.ente, u.codice_unita, u.motivo
        ));
    }
    Ok((model, linkage, inputs, avvisi))
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

/// Builds the workspace of a project: reads everything, then writes the new workspace beside
/// the old one and swaps it in. On any error the old workspace is left as it was.
pub fn build(project: &Project) -> Result<BuildOutcome, PipelineError> {
    let start = Instant::now();
    let (model, linkage, mut inputs, mut avvisi) = ingest(project)?;
    let regole = project_rules(project)?;
    if let Some(p) = &project.input.regole_candidate {
        record_input(&project.resolve(p), &mut inputs)?;
    }
    let target = project.workspace_dir();
    let loaded = Loaded::from_model_with_rules(model, regole);
    avvisi.extend(loaded.candidate.avvisi.iter().cloned());

    let staging = Staging::new(&target)?;
    staging.write_model(&loaded.model)?;
    let mut conteggi = BTreeMap::new();
    // Public layers only: `PublicLayer` cannot name the individual private units.
    for layer in PublicLayer::all() {
        let feats = layer_features(&loaded.model, &loaded.vacancy, &loaded.privato, layer, None);
        let name = layer.name();
        conteggi.insert(name.to_string(), feats.len());
        let fc = collection(feats, conteggi[name]);
        staging.write_file(&format!("layers/{name}.geojson"), |w| {
            serde_json::to_writer(w, &fc).map_err(std::io::Error::other)
        })?;
    }
    for (ext, f) in [
        ("json", Formato::Json),
        ("csv", Formato::Csv),
        ("html", Formato::Html),
    ] {
        let text = report::render_con_privato(&loaded.report, &loaded.privato, f);
        staging.write_file(&format!("report/piano_annuale.{ext}"), |w| {
            w.write_all(text.as_bytes())
        })?;
    }
    staging.write_file(REGOLE_WORKSPACE, |w| {
        w.write_all(loaded.regole.to_toml().as_bytes())
    })?;
    for f in [FormatoCandidate::Html, FormatoCandidate::Csv] {
        let text = candidates_report::render(
            &loaded.model.ambito,
            &loaded.model.comuni,
            &loaded.candidate,
            f,
        );
        staging.write_file(&format!("report/aree_candidate.{}", f.ext()), |w| {
            w.write_all(text.as_bytes())
        })?;
    }
    let manifest = Manifest {
        formato: workspace::FORMAT.into(),
        versione_formato: workspace::FORMAT_VERSION,
        versione_abitare: env!("CARGO_PKG_VERSION").into(),
        creato: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ambito: loaded.model.ambito.nome.clone(),
        dimostrativo: loaded.model.ambito.dimostrativo,
        input: inputs,
        conteggi,
        avvisi,
        durata_ms: start.elapsed().as_millis(),
    };
    staging.write_manifest(&manifest)?;
    let workspace = staging.commit()?;
    Ok(BuildOutcome {
        workspace,
        manifest,
        linkage,
    })
}

/// The report from a bare inventory file, with no project and no cadastre.
pub fn report_from_inventory(
    path: &Path,
    ambito: &str,
    anno: i32,
    skip_bad_rows: bool,
) -> Result<(PianoAnnuale, Vec<String>), PipelineError> {
    let read = read_inventory(path, &InventoryOptions { skip_bad_rows })?;
    let skipped: Vec<String> = read.skipped.iter().map(|r| r.to_string()).collect();
    let mut ctx = Contesto {
        ambito: ambito.to_string(),
        anno,
        dimostrativo: false,
        enti_attesi: vec![],
        avvisi: vec![],
    };
    for s in &skipped {
        ctx.avvisi.push(Avviso {
            codice: "riga_scartata".into(),
            messaggio: s.clone(),
        });
    }
    Ok((piano_annuale(&read.units, &ctx), skipped))
}
