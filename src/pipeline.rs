//! The build: project file → readers → model → linkage → index → analyses → workspace.
//! Also loads a built workspace back into memory for `serve` and `report`.
//!
//! [`ingest`] runs the stages, each in its own module with its own result and warnings:
//! [`read`] (every input → [`read::Inputs`]), [`checks`] (Lombardy, sheet join, geometry
//! validity → [`checks::Checked`]), [`link`] (comuni, units to parcels → [`link::Linked`]);
//! [`manifest`] records the files read. [`build`] then writes the workspace.

pub mod checks;
pub mod link;
pub mod manifest;
pub mod read;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use thiserror::Error;

use crate::analysis::candidates::{Regole, RegoleError};
use crate::analysis::linkage::LinkageReport;
use crate::analysis::piano_annuale::{piano_annuale, Avviso, Contesto, PianoAnnuale};
use crate::analysis::Analisi;
use crate::atomic;
use crate::ingest::gml::GmlError;
use crate::ingest::inventory::{read_inventory, InventoryOptions};
use crate::ingest::pgt::PgtError;
use crate::ingest::ReadError;
use crate::model::workspace::{self, InputRecord, Manifest, Staging, WorkspaceError};
use crate::model::Model;
use crate::output::candidates_report::{self, FormatoCandidate};
use crate::output::geojson::{collection, layer_features};
use crate::output::layers::{self, Audience};
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

/// The workspace file holding the rules the candidates were screened with.
pub const REGOLE_WORKSPACE: &str = "regole_aree_candidate.toml";

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

/// Loads a built workspace.
pub fn load_workspace(dir: &Path) -> Result<Analisi, PipelineError> {
    let model = workspace::load_model(dir)?;
    // The rules of the build, when the workspace has them (older workspaces do not).
    let rules_path = dir.join(REGOLE_WORKSPACE);
    let regole = if rules_path.is_file() {
        let text = fs::read_to_string(&rules_path).map_err(io(&rules_path))?;
        Regole::parse(&text, &rules_path.display().to_string())?
    } else {
        Regole::predefinite()
    };
    Ok(Analisi::from_model_with_rules(model, regole))
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

/// A project's inputs read, checked and linked: what [`ingest`] returns.
#[derive(Debug)]
pub struct Ingested {
    pub model: Model,
    pub linkage: LinkageReport,
    /// The manifest's records of the files read.
    pub inputs: Vec<InputRecord>,
    /// Every stage's warnings: readers, checks, linkage.
    pub avvisi: Vec<String>,
}

/// Reads every input of the project into a checked, linked model: [`read`], [`checks`],
/// [`link`], and the input records of [`manifest`]. Nothing is written.
pub fn ingest(project: &Project) -> Result<Ingested, PipelineError> {
    let read::Inputs {
        model,
        sources,
        gml_cadastre,
        files,
        mut avvisi,
    } = read::read_inputs(project)?;
    let checked = checks::check(model, &sources, gml_cadastre)?;
    avvisi.extend(checked.avvisi);
    let linked = link::link(project, checked.model);
    avvisi.extend(linked.avvisi);
    Ok(Ingested {
        model: linked.model,
        linkage: linked.linkage,
        inputs: manifest::record_inputs(&files)?,
        avvisi,
    })
}

/// Builds the workspace of a project: locks it (a second build at once is refused), reads
/// everything, then writes the new workspace beside the old one and swaps it in. On any error,
/// or a kill at any point, the old workspace is left as it was (see [`crate::atomic`]).
pub fn build(project: &Project) -> Result<BuildOutcome, PipelineError> {
    let start = Instant::now();
    let target = project.workspace_dir();
    let staging = Staging::new(&target)?;
    atomic::fault_point("pipeline:locked");
    let Ingested {
        model,
        linkage,
        mut inputs,
        mut avvisi,
    } = ingest(project)?;
    let regole = project_rules(project)?;
    if let Some(p) = &project.input.regole_candidate {
        manifest::record_input(&project.resolve(p), &mut inputs)?;
    }
    let loaded = Analisi::from_model_with_rules(model, regole);
    avvisi.extend(loaded.candidate.avvisi.iter().cloned());

    staging.write_model(&loaded.model)?;
    let mut conteggi = BTreeMap::new();
    // The workspace's `layers/` is for anyone: the public audience's layers only.
    for layer in layers::visible(Audience::Pubblico) {
        let feats = layer_features(&loaded, layer, None);
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
    atomic::fault_point("pipeline:written");
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
