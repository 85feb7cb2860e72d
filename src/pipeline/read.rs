//! Stage 1: every input of the project read into one unchecked, unlinked [`Model`], with the
//! Ambito filter (cadastre, CXF) and where each feature came from, for the checks' messages.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use geo::MultiPolygon;

use super::PipelineError;
use crate::crs;
use crate::ingest::archive::{self, ArchiveError};
use crate::ingest::boundaries::read_boundaries;
use crate::ingest::cxf::{cxf_files, read_cxf};
use crate::ingest::gml::CadastralFeature;
use crate::ingest::inventory::{read_inventory, InventoryOptions};
use crate::ingest::pgt::{read_pgt, Mappatura, PgtError};
use crate::ingest::private::{read_estimates, read_private_units};
use crate::ingest::public_assets::{read_altra_proprieta, read_servizi_puntuali};
use crate::model::{Comune, Model};
use crate::project::{Project, ProjectError};

/// What the readers gave: the model as read, the files to record in the manifest, and the
/// readers' warnings.
#[derive(Debug)]
pub struct Inputs {
    /// Every layer as read: geometry unchecked, units not linked.
    pub model: Model,
    /// The file (or nested archive entry) of each run of features, for the Lombardy check.
    pub sources: Vec<Source>,
    /// The parcels and sheets read from cadastral GML (a prefix of `model.particelle` and
    /// `model.fogli`), when the project has `[input] catasto`.
    pub gml_cadastre: Option<GmlCadastre>,
    /// Files read, in reading order, to be recorded (size and SHA-256) in the manifest.
    pub files: Vec<PathBuf>,
    /// The readers' warnings (skipped features, comuni outside the Ambito, unmapped values).
    pub avvisi: Vec<String>,
}

/// How many parcels and sheets the cadastral GML gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GmlCadastre {
    pub particelle: usize,
    pub fogli: usize,
}

/// A layer whose features carry a position to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Comuni,
    Fogli,
    Particelle,
    Fabbricati,
    StimeNonOccupate,
    ServiziPuntuali,
}

/// The features `range` of `layer` came from the file or entry `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub layer: Layer,
    pub range: Range<usize>,
    pub name: PathBuf,
}

/// Adds feature `index` of `layer` from `name`, extending the last run when it is the same.
fn note_source(sources: &mut Vec<Source>, layer: Layer, index: usize, name: &Path) {
    if let Some(last) = sources
        .iter_mut()
        .rev()
        .find(|s| s.layer == layer && s.range.end == index)
    {
        if last.name == name {
            last.range.end = index + 1;
            return;
        }
    }
    sources.push(Source {
        layer,
        range: index..index + 1,
        name: name.to_path_buf(),
    });
}

/// A run of features of `layer` just appended from `path`.
fn appended(sources: &mut Vec<Source>, layer: Layer, range: Range<usize>, path: &Path) {
    if !range.is_empty() {
        sources.push(Source {
            layer,
            range,
            name: path.to_path_buf(),
        });
    }
}

/// An archive error as a pipeline error: GML and I/O errors as such (their messages name the
/// file or the nested entry, `provincia.zip!C800_CLUSONE.zip!C800_CLUSONE_ple.gml`), the
/// archive's own errors (corrupt, limits, no GML) as [`PipelineError::Archive`].
fn archive_error(e: ArchiveError) -> PipelineError {
    match e {
        ArchiveError::Gml(g) => PipelineError::Gml(g),
        ArchiveError::Io { path, source } => PipelineError::Io { path, source },
        other => PipelineError::Archive(other),
    }
}

/// Reads every input of the project. Nothing is checked beyond what each reader checks.
pub fn read_inputs(project: &Project) -> Result<Inputs, PipelineError> {
    let mut r = Inputs {
        model: Model::empty(project.ambito_info()),
        sources: Vec::new(),
        gml_cadastre: None,
        files: Vec::new(),
        avvisi: Vec::new(),
    };
    read_comuni(project, &mut r)?;
    read_cadastre(project, &mut r)?;
    read_cxf_sheets(project, &mut r)?;
    read_pgt_sources(project, &mut r)?;
    read_tables(project, &mut r)?;
    Ok(r)
}

/// Comuni from the project, with their boundaries when given.
fn read_comuni(project: &Project, r: &mut Inputs) -> Result<(), PipelineError> {
    let mut geoms: BTreeMap<String, MultiPolygon<f64>> = BTreeMap::new();
    let mut boundaries: Option<PathBuf> = None;
    if let Some(confini) = &project.input.confini {
        let path = project.resolve(confini);
        let wanted: Vec<String> = project.comuni.iter().map(|c| c.istat.clone()).collect();
        for b in read_boundaries(&path, &wanted)? {
            geoms.insert(b.istat, b.geometry);
        }
        r.files.push(path.clone());
        boundaries = Some(path);
    } else if !project.comuni.is_empty() {
        r.avvisi.push(
            "Confini comunali non indicati ([input] confini): i comuni non hanno geometria.".into(),
        );
    }
    r.model.comuni = project
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
    if let Some(path) = boundaries {
        appended(
            &mut r.sources,
            Layer::Comuni,
            0..r.model.comuni.len(),
            &path,
        );
    }
    Ok(())
}

/// The Ambito's Belfiore codes (empty: every comune is kept).
fn belfiori(model: &Model) -> BTreeSet<String> {
    model.comuni.iter().map(|c| c.belfiore.clone()).collect()
}

/// Cadastre: keep the Ambito's comuni only (a province archive holds many more). Inputs are
/// GML files, folders, ZIPs of GML or province ZIPs of per-comune ZIPs.
fn read_cadastre(project: &Project, r: &mut Inputs) -> Result<(), PipelineError> {
    let belfiori = belfiori(&r.model);
    let keep = |belfiore: &str| belfiori.is_empty() || belfiori.contains(belfiore);
    let mut outside: BTreeMap<String, usize> = BTreeMap::new();
    let mut comuni_skipped: BTreeSet<String> = BTreeSet::new();
    for entry in &project.input.catasto {
        let path = project.resolve(entry);
        let (model, sources) = (&mut r.model, &mut r.sources);
        let summary = archive::read_cadastre(&path, &keep, &mut |source, f| match f {
            CadastralFeature::Particella(p) => {
                note_source(
                    sources,
                    Layer::Particelle,
                    model.particelle.len(),
                    Path::new(source),
                );
                model.particelle.push(p);
            }
            CadastralFeature::Foglio(s) => {
                note_source(sources, Layer::Fogli, model.fogli.len(), Path::new(source));
                model.fogli.push(s);
            }
        })
        .map_err(archive_error)?;
        for gml in summary.gml {
            r.avvisi.extend(gml.avvisi);
        }
        for (b, n) in summary.features_skipped {
            *outside.entry(b).or_default() += n;
        }
        comuni_skipped.extend(summary.comuni_skipped);
        for note in summary.ignored {
            r.avvisi.push(format!("Catasto: {note}."));
        }
        r.files.extend(summary.files);
    }
    for (b, n) in outside {
        r.avvisi.push(format!(
            "Catasto: {n} elementi del comune {b} ignorati (non fa parte dell'Ambito)."
        ));
    }
    if !comuni_skipped.is_empty() {
        r.avvisi.push(format!(
            "Catasto: file di {} comuni non letti (non fanno parte dell'Ambito): {}.",
            comuni_skipped.len(),
            comuni_skipped.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if !project.input.catasto.is_empty() {
        r.gml_cadastre = Some(GmlCadastre {
            particelle: r.model.particelle.len(),
            fogli: r.model.fogli.len(),
        });
    }
    Ok(())
}

/// CXF sheets (parcels and buildings); sheets of comuni outside the Ambito are counted and
/// left out.
fn read_cxf_sheets(project: &Project, r: &mut Inputs) -> Result<(), PipelineError> {
    let belfiori = belfiori(&r.model);
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
            r.files.push(path.clone());
            let belfiore = sheet.foglio_ref.belfiore.clone();
            if !belfiori.is_empty() && !belfiori.contains(&belfiore) {
                *outside_cxf.entry(belfiore).or_default() += sheet.fogli.len()
                    + sheet.particelle.len()
                    + sheet.strade_acque.len()
                    + sheet.fabbricati.len();
                continue;
            }
            let m = &mut r.model;
            let (fogli, particelle, fabbricati) =
                (m.fogli.len(), m.particelle.len(), m.fabbricati.len());
            m.fogli.extend(sheet.fogli);
            m.particelle.extend(sheet.particelle);
            m.particelle.extend(sheet.strade_acque);
            m.fabbricati.extend(sheet.fabbricati);
            let ends = (m.fogli.len(), m.particelle.len(), m.fabbricati.len());
            appended(&mut r.sources, Layer::Fogli, fogli..ends.0, &path);
            appended(&mut r.sources, Layer::Particelle, particelle..ends.1, &path);
            appended(&mut r.sources, Layer::Fabbricati, fabbricati..ends.2, &path);
            r.avvisi.extend(sheet.avvisi);
        }
    }
    for (b, n) in outside_cxf {
        r.avvisi.push(format!(
            "CXF: {n} elementi del comune {b} ignorati (non fa parte dell'Ambito)."
        ));
    }
    Ok(())
}

/// PGT: files and GDAL sources through the same mapping.
fn read_pgt_sources(project: &Project, r: &mut Inputs) -> Result<(), PipelineError> {
    let mappatura = if project.input.pgt.is_empty() && project.input.gdal.is_empty() {
        None
    } else {
        Some(match &project.input.pgt_mappatura {
            Some(file) => {
                let path = project.resolve(file);
                let mappatura = Mappatura::from_file(&path).map_err(PgtError::from)?;
                r.files.push(path);
                mappatura
            }
            None => Mappatura::regionale().map_err(PgtError::from)?,
        })
    };
    if let Some(mappatura) = &mappatura {
        for entry in &project.input.pgt {
            let read = read_pgt(&project.resolve(entry), mappatura)?;
            r.model.pgt_zone.extend(read.zone);
            r.model.vincoli.extend(read.vincoli);
            r.avvisi.extend(read.avvisi);
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
        let local = project.resolve(Path::new(&entry.sorgente));
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
        r.model.pgt_zone.extend(read.zone);
        r.model.vincoli.extend(read.vincoli);
        r.avvisi.extend(read.avvisi);
        if is_file && local.is_file() {
            r.files.push(local);
        }
    }
    Ok(())
}

/// The tables and point/area files: inventory, private stock (owners' names are dropped by
/// the reader; the individual units stay in `model.json` only, never in `layers/`, never
/// served), estimates, other public property and existing services.
fn read_tables(project: &Project, r: &mut Inputs) -> Result<(), PipelineError> {
    let opts = InventoryOptions::default();
    if let Some(inv) = &project.input.inventario {
        let path = project.resolve(inv);
        r.model.alloggi_pubblici = read_inventory(&path, &opts)?.units;
        r.files.push(path);
    }
    if let Some(file) = &project.input.alloggi_privati {
        let path = project.resolve(file);
        r.model.alloggi_privati = read_private_units(&path, &opts)?.units;
        r.files.push(path);
    }
    if let Some(file) = &project.input.stime_non_occupate {
        let path = project.resolve(file);
        r.model.stime_non_occupate = read_estimates(&path)?;
        let n = r.model.stime_non_occupate.len();
        appended(&mut r.sources, Layer::StimeNonOccupate, 0..n, &path);
        r.files.push(path);
    }
    if let Some(file) = &project.input.altra_proprieta_pubblica {
        let path = project.resolve(file);
        r.model.altra_proprieta_pubblica = read_altra_proprieta(&path, &opts)?.items;
        r.files.push(path);
    }
    if let Some(file) = &project.input.servizi_puntuali {
        let path = project.resolve(file);
        r.model.servizi_puntuali = read_servizi_puntuali(&path)?;
        let n = r.model.servizi_puntuali.len();
        appended(&mut r.sources, Layer::ServiziPuntuali, 0..n, &path);
        r.files.push(path);
    }
    Ok(())
}
