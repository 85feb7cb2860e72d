//! Generation of the demonstration Ambito 9 as real-format input files (cadastral GML, PGT
//! shapefiles, inventory CSV, comune boundaries) plus its `abitare.toml`. The files then go
//! through exactly the same readers and pipeline as real data.
//!
//! The comune boundaries are the real ones (ISTAT/openpolis, CC-BY 4.0, embedded from
//! `data/ambito9_confini.geojson`); the cadastre and the PGT are synthesized on a 200 m grid
//! laid over them and clipped by the boundaries, so every parcel, sheet, zone and constraint
//! lies inside its comune.

use std::path::{Path, PathBuf};

use cadastre::Poly;
use territory::{Rng, Territory};

use thiserror::Error;

mod cadastre;
mod inventory;
mod pgt;
mod plan;
mod private;
mod public_assets;
mod territory;

#[derive(Debug, Error)]
pub enum DemoError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
    #[error(transparent)]
    Crs(#[from] crate::crs::CrsError),
}

/// What [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct GeneratedDemo {
    /// The project file, ready for `abitare build`.
    pub project: PathBuf,
    /// Every file written, relative to the output directory, in a stable order.
    pub files: Vec<PathBuf>,
}

/// Writes the demo Ambito's input files and project file into `out_dir` (created if needed).
/// Deterministic: the same bytes on every run.
pub fn generate(out_dir: &Path) -> Result<GeneratedDemo, DemoError> {
    let facts = territory::comuni_facts()?;
    let t = territory::build(&facts)?;
    let sheets = territory::sheets(&t);
    let to_ll = crate::crs::ToLonLat::new(32632)?;
    let mut files: Vec<PathBuf> = Vec::new();
    let write = |files: &mut Vec<PathBuf>, rel: PathBuf, bytes: &[u8]| -> Result<(), DemoError> {
        write_file(&out_dir.join(&rel), bytes)?;
        files.push(rel);
        Ok(())
    };

    let mut sites: Vec<Vec<inventory::Site>> = Vec::new();
    let mut service_rects: Vec<Vec<(f64, f64, f64, f64)>> = Vec::new();
    let mut features = Vec::new();
    for (k, fact) in facts.iter().enumerate() {
        let mut rng = Rng::new(0x0A81_7A4E_2026_0009 ^ fact.istat.parse::<u64>().unwrap_or(0));
        let plan = plan::plan(&t, k, fact.popolazione, &mut rng);
        let mut near = vec![false; t.ncells()];
        for &c in plan.agri.iter().chain(plan.at.iter().flatten()) {
            near[c] = true;
        }
        let (parcels, lots) = cadastre::parcels(&t, &sheets, k, &plan, &near, &mut rng);
        let stem = format!("{}_{}", fact.belfiore, fact.nome.to_uppercase());
        let ple = cadastre::parcels_gml(fact, &sheets, &parcels, &to_ll)?;
        write(
            &mut files,
            PathBuf::from(format!("input/catasto/{stem}_ple.gml")),
            ple.as_bytes(),
        )?;
        let own: Vec<(u32, bool, Vec<Poly>)> = sheets
            .iter()
            .filter(|s| s.comune == k)
            .map(|s| (s.numero, s.urban, zone_polys(&t, k, &s.cells)))
            .collect();
        let map = cadastre::sheets_gml(fact, &own, &to_ll)?;
        write(
            &mut files,
            PathBuf::from(format!("input/catasto/{stem}_map.gml")),
            map.as_bytes(),
        )?;

        // Existing services take a few core lots; the remaining lots can hold public housing.
        let mut lot_idx: Vec<usize> = (0..lots.len()).collect();
        rng.shuffle(&mut lot_idx);
        // The church stands in the historic centre.
        if let Some(pos) = lot_idx.iter().position(|&i| lots[i].naf) {
            let i = lot_idx.remove(pos);
            lot_idx.insert(0, i);
        }
        let service_lots: Vec<cadastre::Lot> =
            lot_idx.iter().take(5).map(|&i| lots[i].clone()).collect();
        service_rects.push(service_lots.iter().map(|l| l.rect).collect());
        let mut free: Vec<inventory::Site> = lot_idx
            .iter()
            .skip(5)
            .map(|&i| {
                let p = &parcels[lots[i].parcel];
                (sheets[p.sheet].numero, p.label.clone())
            })
            .collect();
        free.sort_by(|a, b| (a.0, a.1.len(), &a.1).cmp(&(b.0, b.1.len(), &b.1)));
        sites.push(free);

        let pgt_rel = PathBuf::from(format!("input/pgt/{}_{}", fact.istat, fact.nome));
        let pgt_files = pgt::write_pgt(
            &out_dir.join(&pgt_rel),
            &t,
            k,
            fact,
            &plan,
            &service_lots,
            &mut rng,
        )?;
        for f in pgt_files {
            if let Ok(rel) = f.strip_prefix(out_dir) {
                files.push(rel.to_path_buf());
            }
        }
        features.push(confine_feature(fact, &t.confini[k]));
    }

    let mut geojson = String::from(
        "{\n\"type\": \"FeatureCollection\",\n\"name\": \"confini_comuni\",\n\"features\": [\n",
    );
    geojson.push_str(&features.join(",\n"));
    geojson.push_str("\n]\n}\n");
    write(
        &mut files,
        PathBuf::from("input/confini_comuni.geojson"),
        geojson.as_bytes(),
    )?;

    let mut rng = Rng::new(0x1A7E_2026_0009_0001);
    let inv = inventory::inventory(&facts, &mut sites, &mut rng)?;
    write(
        &mut files,
        PathBuf::from("input/inventario_alloggi_pubblici.csv"),
        &inv,
    )?;

    // Private stock: offers to the housing desk on parcels left free, area estimates.
    let mut rng = Rng::new(0x9A1F_2026_0009_0002);
    let offerte = private::offered_units(&facts, &sites, &mut rng)?;
    write(
        &mut files,
        PathBuf::from("input/alloggi_privati_offerti.csv"),
        &offerte,
    )?;
    let stime = private::estimates(&facts, &t, &sheets, &to_ll, &mut rng)?;
    write(
        &mut files,
        PathBuf::from("input/stime_abitazioni_non_occupate.geojson"),
        stime.as_bytes(),
    )?;

    // Candidate areas: the comuni's other property and existing services as points.
    write(
        &mut files,
        PathBuf::from("input/altra_proprieta_pubblica.csv"),
        &public_assets::altra_proprieta(&facts, &sites),
    )?;
    write(
        &mut files,
        PathBuf::from("input/servizi_puntuali.geojson"),
        public_assets::servizi(&facts, &service_rects, &to_ll)?.as_bytes(),
    )?;

    write(
        &mut files,
        PathBuf::from("abitare.toml"),
        project_toml(&facts).as_bytes(),
    )?;
    files.sort();
    Ok(GeneratedDemo {
        project: out_dir.join("abitare.toml"),
        files,
    })
}

/// Writes a file, creating its directory.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), DemoError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| DemoError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, bytes).map_err(|source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Smallest part of a zone or sheet clipped by a comune's border, m².
const MIN_ZONE_M2: f64 = 1.0;

/// The outline of a set of cells of comune `k` in UTM metres, clipped to the comune's
/// boundary where the cells cross it.
pub(crate) fn zone_polys(t: &Territory, k: usize, cells: &[usize]) -> Vec<Poly> {
    t.clip_to_comune(k, cells, cell_polys(t, cells), MIN_ZONE_M2)
}

/// The outline of a set of cells as polygons in UTM metres.
pub(crate) fn cell_polys(t: &Territory, cells: &[usize]) -> Vec<Poly> {
    territory::trace(t, cells)
        .into_iter()
        .map(|(ext, holes)| {
            let ring = |r: &Vec<(i64, i64)>| r.iter().map(|&p| t.lattice_to_m(p)).collect();
            (ring(&ext), holes.iter().map(ring).collect())
        })
        .collect()
}

/// The boundary feature of one comune: its real shape (`data/ambito9_confini.geojson`,
/// positions unchanged) with the ISTAT/openpolis properties.
fn confine_feature(fact: &territory::ComuneFact, shape: &geo::MultiPolygon<f64>) -> String {
    let ring = |l: &geo::LineString<f64>| {
        serde_json::Value::Array(l.coords().map(|c| serde_json::json!([c.x, c.y])).collect())
    };
    let coords: Vec<serde_json::Value> = shape
        .0
        .iter()
        .map(|p| {
            serde_json::Value::Array(
                std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(ring)
                    .collect(),
            )
        })
        .collect();
    let props = format!(
        "{{\"name\": {}, \"com_istat_code\": \"{}\", \"com_istat_code_num\": {}, \"com_catasto_code\": \"{}\", \"prov_name\": \"Bergamo\", \"prov_istat_code\": \"016\", \"prov_acr\": \"BG\", \"reg_name\": \"Lombardia\", \"reg_istat_code\": \"03\"}}",
        serde_json::Value::String(fact.nome.clone()),
        fact.istat,
        fact.istat.trim_start_matches('0'),
        fact.belfiore
    );
    format!(
        "{{\"type\": \"Feature\", \"properties\": {props}, \"geometry\": {{\"type\": \"MultiPolygon\", \"coordinates\": {}}}}}",
        serde_json::Value::Array(coords)
    )
}

fn toml_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn project_toml(facts: &[territory::ComuneFact]) -> String {
    let mut s = String::from(
        "# Progetto abitare - Ambito 9 \"Valle Seriana Superiore e Valle di Scalve\" (DIMOSTRATIVO)\n\
         #\n\
         # Dati generati: catasto, PGT e inventario sono sintetici ma nei formati reali\n\
         # (GML dell'Agenzia delle Entrate, shapefile dello schema regionale, CSV dell'inventario).\n\
         # I confini comunali sono quelli reali (ISTAT / openpolis, CC-BY 4.0).\n\
         # I percorsi relativi sono risolti rispetto alla cartella di questo file.\n\
         \n\
         # Cartella in cui `abitare build` scrive il workspace.\n\
         workspace = \"workspace\"\n\
         \n\
         [ambito]\n\
         numero = 9\n\
         nome = \"Valle Seriana Superiore e Valle di Scalve\"\n\
         capofila = \"Clusone\"\n\
         # Anno del Piano annuale dell'offerta abitativa.\n\
         anno = 2026\n\
         # Data a cui si misurano i mesi di sfitto.\n\
         data_riferimento = \"2025-10-27\"\n\
         # Dati dimostrativi: segnalati nell'interfaccia e nei report.\n\
         dimostrativo = true\n\
         \n\
         # File di input.\n\
         [input]\n\
         # Confini comunali (GeoJSON EPSG:4326, proprietà ISTAT/openpolis).\n\
         # Fonte: ISTAT / openpolis, CC-BY 4.0.\n\
         confini = \"input/confini_comuni.geojson\"\n\
         # Cartografia catastale GML (particelle *_ple.gml e fogli *_map.gml), cartelle o file.\n\
         catasto = [\"input/catasto\"]\n\
         # Shapefile del PGT nello schema regionale, una cartella per comune.\n\
         pgt = [\"input/pgt\"]\n\
         # Inventario delle unità abitative pubbliche (CSV con separatore ;).\n\
         inventario = \"input/inventario_alloggi_pubblici.csv\"\n\
         # Alloggi offerti da proprietari privati allo sportello (CSV o XLSX; il nome del\n\
         # proprietario, se presente, viene scartato in lettura).\n\
         alloggi_privati = \"input/alloggi_privati_offerti.csv\"\n\
         # Stime delle abitazioni non occupate per area (GeoJSON EPSG:4326).\n\
         stime_non_occupate = \"input/stime_abitazioni_non_occupate.geojson\"\n\
         # Altri immobili pubblici (uffici, scuole, magazzini) per riferimento catastale, con lo\n\
         # stato di utilizzo: fonte di aree candidate se dismessi o sottoutilizzati.\n\
         altra_proprieta_pubblica = \"input/altra_proprieta_pubblica.csv\"\n\
         # Servizi esistenti come punti (scuole, sanità, negozi, fermate) per le aree candidate.\n\
         servizi_puntuali = \"input/servizi_puntuali.geojson\"\n\
         \n\
         # I comuni dell'Ambito: codice ISTAT, codice catastale (Belfiore), sub-ambito, popolazione 2024.\n",
    );
    for f in facts {
        s.push_str(&format!(
            "\n[[comuni]]\nistat = {}\nbelfiore = {}\nnome = {}\nsub_ambito = {}\npopolazione = {}\n",
            toml_str(&f.istat),
            toml_str(&f.belfiore),
            toml_str(&f.nome),
            toml_str(&f.sub_ambito),
            f.popolazione
        ));
    }
    s
}

#[cfg(test)]
mod tests;
