//! Cadastral GML as downloaded: province ZIPs of per-comune ZIPs, flat ZIPs, folders mixing
//! ZIPs and GML, and the archives that must be rejected with a message naming the entry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use abitare::ingest::archive::{
    read_cadastre, read_cadastre_with, ArchiveError, ArchiveOptions, ArchiveSummary,
};
use abitare::ingest::gml::{CadastralFeature, GmlError};
use abitare::pipeline;
use abitare::project::Project;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

struct Demo {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// `(stem, ple bytes, map bytes)` per comune, e.g. `L938_VILLA D'OGNA`.
    comuni: Vec<(String, Vec<u8>, Vec<u8>)>,
}

/// The demo inputs, generated once for this test binary.
fn demo() -> &'static Demo {
    static D: OnceLock<Demo> = OnceLock::new();
    D.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("demo");
        abitare::demo::generate(&root).expect("demo generation");
        let catasto = root.join("input/catasto");
        let mut stems: Vec<String> = fs::read_dir(&catasto)
            .expect("catasto dir")
            .filter_map(|e| {
                let name = e.ok()?.file_name().to_string_lossy().into_owned();
                name.strip_suffix("_ple.gml").map(str::to_string)
            })
            .collect();
        stems.sort();
        let comuni = stems
            .into_iter()
            .map(|s| {
                let ple = fs::read(catasto.join(format!("{s}_ple.gml"))).expect("ple");
                let map = fs::read(catasto.join(format!("{s}_map.gml"))).expect("map");
                (s, ple, map)
            })
            .collect();
        Demo {
            _dir: dir,
            root,
            comuni,
        }
    })
}

fn ambito() -> BTreeSet<String> {
    demo()
        .comuni
        .iter()
        .map(|(s, _, _)| s[..4].to_string())
        .collect()
}

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

fn stored() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
}

/// A ZIP in memory of `(name, bytes)` entries.
fn zip_bytes(entries: &[(String, Vec<u8>)], options: SimpleFileOptions) -> Vec<u8> {
    let mut w = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        w.start_file(name.as_str(), options).expect("start_file");
        w.write_all(bytes).expect("write entry");
    }
    w.finish().expect("finish zip").into_inner()
}

/// One comune's files under another Belfiore code (names and content), as in another province.
fn renamed(
    stem: &str,
    ple: &[u8],
    map: &[u8],
    code: &str,
    name: &str,
) -> (String, Vec<u8>, Vec<u8>) {
    let from = &stem[..4];
    let sub = |b: &[u8]| String::from_utf8_lossy(b).replace(from, code).into_bytes();
    (format!("{code}_{name}"), sub(ple), sub(map))
}

/// The per-comune archive of the Agenzia: `<stem>.zip` holding `_ple.gml` and `_map.gml`.
fn comune_zip(stem: &str, ple: &[u8], map: &[u8]) -> (String, Vec<u8>) {
    (
        format!("{stem}.zip"),
        zip_bytes(
            &[
                (format!("{stem}_ple.gml"), ple.to_vec()),
                (format!("{stem}_map.gml"), map.to_vec()),
            ],
            deflated(),
        ),
    )
}

/// A province archive: every demo comune plus one foreign comune, and a readme.
fn province_zip(path: &Path) {
    let d = demo();
    let mut entries: Vec<(String, Vec<u8>)> = d
        .comuni
        .iter()
        .map(|(s, p, m)| comune_zip(s, p, m))
        .collect();
    let (s, p, m) = &d.comuni[0];
    let (fs_, fp, fm) = renamed(s, p, m, "Z999", "ALTRO COMUNE");
    entries.push(comune_zip(&fs_, &fp, &fm));
    entries.push(("LEGGIMI.txt".into(), b"Cartografia catastale".to_vec()));
    fs::write(path, zip_bytes(&entries, stored())).expect("write province zip");
}

#[derive(Default)]
struct Read {
    parcels: usize,
    sheets: usize,
    sources: BTreeSet<String>,
}

fn read(path: &Path, options: &ArchiveOptions) -> Result<(ArchiveSummary, Read), ArchiveError> {
    let keep = ambito();
    let mut r = Read::default();
    let summary = read_cadastre_with(path, options, &|b| keep.contains(b), &mut |src, f| {
        r.sources.insert(src.to_string());
        match f {
            CadastralFeature::Particella(_) => r.parcels += 1,
            CadastralFeature::Foglio(_) => r.sheets += 1,
        }
    })?;
    Ok((summary, r))
}

fn read_ok(path: &Path) -> (ArchiveSummary, Read) {
    read(path, &ArchiveOptions::default())
        .unwrap_or_else(|e| panic!("{} should read: {e}", path.display()))
}

fn err_of(path: &Path, options: &ArchiveOptions) -> ArchiveError {
    match read(path, options) {
        Ok((s, _)) => panic!("{} should be rejected, read {s:?}", path.display()),
        Err(e) => {
            eprintln!("{e}");
            e
        }
    }
}

fn error_of(path: &Path, options: &ArchiveOptions) -> String {
    err_of(path, options).to_string()
}

/// The reference figures: the demo's plain folder.
fn folder_counts() -> &'static (usize, usize) {
    static C: OnceLock<(usize, usize)> = OnceLock::new();
    C.get_or_init(|| {
        let (summary, r) = read_ok(&demo().root.join("input/catasto"));
        assert_eq!(summary.files_read, 2 * demo().comuni.len());
        (r.parcels, r.sheets)
    })
}

#[test]
fn province_zip_of_comune_zips_builds_like_the_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zip = dir.path().join("provincia BG.zip");
    province_zip(&zip);
    let (summary, r) = read_ok(&zip);
    assert_eq!((r.parcels, r.sheets), *folder_counts());
    assert_eq!(summary.comuni_skipped, vec!["Z999".to_string()]);
    assert_eq!(summary.files_read, 2 * demo().comuni.len());
    assert_eq!(summary.files, vec![zip.clone()]);
    assert!(
        summary.ignored.iter().any(|n| n.contains("LEGGIMI.txt")),
        "{:?}",
        summary.ignored
    );
    let villa = format!(
        "{}!L938_VILLA D'OGNA.zip!L938_VILLA D'OGNA_ple.gml",
        zip.display()
    );
    assert!(r.sources.contains(&villa), "{:?}", r.sources);

    // Through the pipeline: same parcels as the demo's folder, the foreign comune noted.
    let mut project = Project::load(&demo().root.join("abitare.toml")).expect("project");
    let folder_model = pipeline::ingest(&project).expect("folder ingest").model;
    project.input.catasto = vec![zip.clone()];
    let pipeline::Ingested {
        model,
        inputs,
        avvisi,
        ..
    } = pipeline::ingest(&project).expect("zip ingest");
    assert_eq!(model.particelle.len(), folder_model.particelle.len());
    assert_eq!(model.fogli.len(), folder_model.fogli.len());
    assert_eq!(model.particelle.len(), folder_counts().0);
    assert!(model.particelle.iter().all(|p| p.belfiore != "Z999"));
    assert!(
        avvisi
            .iter()
            .any(|a| a.contains("Z999") && a.contains("non fanno parte dell'Ambito")),
        "{avvisi:?}"
    );
    assert!(inputs.iter().any(|i| i.path == zip.display().to_string()));
}

#[test]
fn flat_zip_of_gml_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zip = dir.path().join("catasto.zip");
    let mut entries = Vec::new();
    for (s, p, m) in &demo().comuni {
        entries.push((format!("{s}_ple.gml"), p.clone()));
        entries.push((format!("{s}_map.gml"), m.clone()));
    }
    fs::write(&zip, zip_bytes(&entries, deflated())).expect("write");
    let (summary, r) = read_ok(&zip);
    assert_eq!((r.parcels, r.sheets), *folder_counts());
    assert!(summary.comuni_skipped.is_empty());
}

#[test]
fn folder_mixing_zips_gml_and_unprefixed_answers() {
    let d = demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let half = d.comuni.len() / 2;
    fs::create_dir_all(dir.path().join("zip/sub")).expect("mkdir");
    for (i, (s, p, m)) in d.comuni.iter().enumerate() {
        if i < half {
            let (name, bytes) = comune_zip(s, p, m);
            fs::write(dir.path().join("zip/sub").join(name), bytes).expect("write");
        } else {
            fs::write(dir.path().join(format!("{s}_ple.gml")), p).expect("write");
            fs::write(dir.path().join(format!("{s}_map.gml")), m).expect("write");
        }
    }
    // A foreign comune's parcels in a file with no Belfiore prefix: filtered feature by feature.
    let (s, p, m) = &d.comuni[0];
    let (_, fp, _) = renamed(s, p, m, "Z998", "ALTRO");
    fs::write(dir.path().join("risposta wfs.gml"), &fp).expect("write");
    fs::write(dir.path().join("note.txt"), "x").expect("write");

    let (summary, r) = read_ok(dir.path());
    assert_eq!((r.parcels, r.sheets), *folder_counts());
    assert_eq!(summary.files_read, 2 * d.comuni.len() + 1);
    let foreign = summary.features_skipped.get("Z998").copied().unwrap_or(0);
    assert!(foreign > 100, "{:?}", summary.features_skipped);
    assert_eq!(summary.files.len(), half + 2 * (d.comuni.len() - half) + 1);
}

#[test]
fn gml_entry_holding_junk_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s, _, m) = &demo().comuni[0];
    let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let inner = comune_zip(s, &junk, m);
    let outer = dir.path().join("provincia.zip");
    fs::write(&outer, zip_bytes(&[inner], stored())).expect("write");
    let e = err_of(&outer, &ArchiveOptions::default());
    assert!(
        matches!(&e, ArchiveError::Gml(GmlError::Invalid { source_name, .. })
            if source_name.ends_with(&format!("provincia.zip!{s}.zip!{s}_ple.gml"))),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("provincia.zip!{s}.zip!{s}_ple.gml")),
        "{msg}"
    );
    assert!(msg.contains("XML"), "{msg}");
}

#[test]
fn zip_entry_that_is_not_a_zip_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outer = dir.path().join("provincia.zip");
    let entries = vec![(
        "C800_CLUSONE.zip".to_string(),
        b"<html>Servizio non disponibile</html>".to_vec(),
    )];
    fs::write(&outer, zip_bytes(&entries, deflated())).expect("write");
    let e = err_of(&outer, &ArchiveOptions::default());
    assert!(matches!(e, ArchiveError::Invalid { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("provincia.zip!C800_CLUSONE.zip:"), "{msg}");
    assert!(msg.contains("non è un archivio ZIP"), "{msg}");
}

#[test]
fn truncated_archive_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let full = dir.path().join("full.zip");
    province_zip(&full);
    let bytes = fs::read(&full).expect("read");
    let cut = dir.path().join("provincia troncata.zip");
    // Cut in the middle of the data, in the central directory, and in the end record.
    for len in [bytes.len() / 2, bytes.len() - 1000, bytes.len() - 10] {
        fs::write(&cut, &bytes[..len]).expect("write");
        let e = err_of(&cut, &ArchiveOptions::default());
        assert!(matches!(e, ArchiveError::Invalid { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("provincia troncata.zip:"), "{msg}");
        assert!(msg.contains("corrotto o troncato"), "{msg}");
    }
}

#[test]
fn corrupt_entry_data_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s, p, _) = &demo().comuni[1];
    let mut bytes = zip_bytes(&[(format!("{s}_ple.gml"), p.clone())], deflated());
    // Damage the compressed stream in the middle of the entry's data.
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5A;
    }
    let zip = dir.path().join("danneggiato.zip");
    fs::write(&zip, bytes).expect("write");
    let msg = error_of(&zip, &ArchiveOptions::default());
    assert!(
        msg.contains(&format!("danneggiato.zip!{s}_ple.gml")),
        "{msg}"
    );
}

#[test]
fn zip_bomb_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zeros = vec![0u8; 8 << 20];
    let inner = (
        "C800_CLUSONE.zip".to_string(),
        zip_bytes(&[("C800_CLUSONE_ple.gml".to_string(), zeros)], deflated()),
    );
    let outer = dir.path().join("bomba.zip");
    fs::write(&outer, zip_bytes(&[inner], stored())).expect("write");
    let small = ArchiveOptions {
        ratio_min_bytes: 1 << 20,
        ..ArchiveOptions::default()
    };
    let e = err_of(&outer, &small);
    match &e {
        ArchiveError::RatioExceeded {
            name, ratio, max, ..
        } => {
            assert!(
                name.ends_with("bomba.zip!C800_CLUSONE.zip!C800_CLUSONE_ple.gml"),
                "{name}"
            );
            assert!(ratio > max, "{e}");
        }
        other => panic!("ratio limit expected, got {other:?}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("bomba.zip!C800_CLUSONE.zip!C800_CLUSONE_ple.gml"),
        "{msg}"
    );

    // Size limits, per entry and in total.
    let tiny = ArchiveOptions {
        max_entry_bytes: 1 << 20,
        ..ArchiveOptions::default()
    };
    let e = err_of(&outer, &tiny);
    assert!(
        matches!(e, ArchiveError::TooLarge { max, .. } if max == 1 << 20),
        "{e:?}"
    );
    let total = ArchiveOptions {
        max_total_bytes: 4 << 20,
        ..ArchiveOptions::default()
    };
    let e = err_of(&outer, &total);
    assert!(
        matches!(e, ArchiveError::TotalTooLarge { max, .. } if max == 4 << 20),
        "{e:?}"
    );
}

#[test]
fn no_gml_anywhere_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zip = dir.path().join("vuoto.zip");
    fs::write(
        &zip,
        zip_bytes(&[("LEGGIMI.txt".into(), b"x".to_vec())], deflated()),
    )
    .expect("write");
    let e = err_of(&zip, &ArchiveOptions::default());
    assert!(matches!(e, ArchiveError::NoFiles { .. }), "{e:?}");
    let keep_all = |_: &str| true;
    assert!(read_cadastre(&zip, &keep_all, &mut |_, _| {}).is_err());
}

#[test]
fn failed_build_leaves_the_workspace_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("demo");
    let generated = abitare::demo::generate(&root).expect("demo");
    let project = Project::load(&generated.project).expect("project");
    let built = pipeline::build(&project).expect("first build");
    let manifest = built.workspace.join("manifest.json");
    let before = fs::read(&manifest).expect("manifest");

    let (s, _, m) = &demo().comuni[2];
    let bad = root.join("input/provincia.zip");
    let inner = comune_zip(s, b"\x00\x01\x02 not xml", m);
    fs::write(&bad, zip_bytes(&[inner], stored())).expect("write");
    let toml = fs::read_to_string(&generated.project).expect("toml");
    let toml = toml.replace(
        "catasto = [\"input/catasto\"]",
        "catasto = [\"input/provincia.zip\"]",
    );
    assert!(toml.contains("input/provincia.zip"));
    fs::write(&generated.project, toml).expect("write toml");
    let project = Project::load(&generated.project).expect("project");
    let err = pipeline::build(&project).expect_err("bad archive must fail");
    assert!(
        matches!(err, pipeline::PipelineError::Gml(GmlError::Invalid { .. })),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("provincia.zip!{s}.zip!{s}_ple.gml")),
        "{msg}"
    );
    assert_eq!(fs::read(&manifest).expect("manifest after"), before);
}

#[test]
fn sheets_joined_to_parcels() {
    let d = demo();
    let dir = tempfile::tempdir().expect("tempdir");
    // Comune 0: parcels only. Comune 1: its first sheet cut from the _map. Comune 2: sheets only.
    let (s0, p0, _) = &d.comuni[0];
    fs::write(dir.path().join(format!("{s0}_ple.gml")), p0).expect("write");
    let (s1, p1, m1) = &d.comuni[1];
    let map = String::from_utf8_lossy(m1).into_owned();
    let start = map.find("<wfs:member>").expect("member");
    let end = map.find("</wfs:member>").expect("member end") + "</wfs:member>".len();
    let cut = format!("{}{}", &map[..start], &map[end..]);
    fs::write(dir.path().join(format!("{s1}_ple.gml")), p1).expect("write");
    fs::write(dir.path().join(format!("{s1}_map.gml")), cut).expect("write");
    let (s2, _, m2) = &d.comuni[2];
    fs::write(dir.path().join(format!("{s2}_map.gml")), m2).expect("write");

    let mut project = Project::load(&d.root.join("abitare.toml")).expect("project");
    project.input.catasto = vec![dir.path().to_path_buf()];
    project.input.pgt.clear();
    let avvisi = pipeline::ingest(&project).expect("ingest").avvisi;
    let of = |b: &str| -> Vec<&String> {
        avvisi
            .iter()
            .filter(|a| a.starts_with(&format!("Catasto, comune {b}:")))
            .collect()
    };
    let a0 = of(&s0[..4]);
    assert_eq!(a0.len(), 1, "{avvisi:?}");
    assert!(a0[0].contains("manca il file _map"), "{a0:?}");
    let a1 = of(&s1[..4]);
    assert_eq!(a1.len(), 1, "{avvisi:?}");
    assert!(
        a1[0].contains("particelle senza foglio nel file _map"),
        "{a1:?}"
    );
    let a2 = of(&s2[..4]);
    assert_eq!(a2.len(), 1, "{avvisi:?}");
    assert!(a2[0].contains("manca il file _ple"), "{a2:?}");
    assert!(of(&d.comuni[3].0[..4]).is_empty());
}

#[test]
fn zip_bomb_stops_the_build_with_its_own_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 80 MB of zeros deflate to well over the default 200:1 ratio.
    let zeros = vec![0u8; 80 << 20];
    let inner = (
        "C800_CLUSONE.zip".to_string(),
        zip_bytes(&[("C800_CLUSONE_ple.gml".to_string(), zeros)], deflated()),
    );
    fs::write(dir.path().join("bomba.zip"), zip_bytes(&[inner], stored())).expect("write");
    let toml = dir.path().join("abitare.toml");
    fs::write(
        &toml,
        "[ambito]\nnome = \"Prova\"\nanno = 2026\n\n[input]\ncatasto = [\"bomba.zip\"]\n",
    )
    .expect("write");
    let project = Project::load(&toml).expect("project");
    let err = pipeline::ingest(&project).expect_err("zip bomb");
    assert!(
        matches!(
            &err,
            pipeline::PipelineError::Archive(ArchiveError::RatioExceeded { name, .. })
                if name.ends_with("bomba.zip!C800_CLUSONE.zip!C800_CLUSONE_ple.gml")
        ),
        "{err:?}"
    );
}
