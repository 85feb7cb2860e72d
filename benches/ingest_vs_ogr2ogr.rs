//! Province-size cadastral ingest, abitare against `ogr2ogr -f GPKG`.
//!
//! Builds a province in the Agenzia's bulk form from the demo Ambito: the demo's 24 comuni are
//! merged four by four into 6 larger comuni (about 4,500 parcels each, a mid-size Lombard
//! comune), which are replicated under new Belfiore codes (text substitution in names and
//! content) up to `ABITARE_BENCH_COMUNI` comuni (default 252, about 1.15 M parcels). The set is
//! written as a plain folder of `_ple.gml`/`_map.gml` files and as a province ZIP of
//! per-comune ZIPs (inner ZIPs deflated, outer stored, as the Agenzia ships them), then:
//! - `archive::read_cadastre` on the folder and on the province ZIP, collecting every feature;
//! - the same ZIP with an Ambito filter of 24 comuni (whole comuni skipped unread);
//! - `ogr2ogr -f GPKG` over the same GML files, one run per file: on a sample of
//!   `ABITARE_BENCH_OGR_COMUNI` comuni (default 24; 0 = all), scaled linearly by bytes.
//!
//! Each abitare run is a fresh process of this benchmark, so its peak RSS (VmHWM of
//! /proc/self/status) is its own; for ogr2ogr it is the largest `%M` of `/usr/bin/time` over
//! its runs.
//!
//! Run: `cargo bench --bench ingest_vs_ogr2ogr`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use abitare::ingest::archive::read_cadastre;
use abitare::ingest::gml::CadastralFeature;
use abitare::model::{Foglio, Particella};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

type Error = Box<dyn std::error::Error>;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mb() -> Option<f64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0); harmless where unsupported.
fn reset_peak_rss() {
    let _ = fs::write("/proc/self/clear_refs", "5");
}

/// One merged comune: the `_ple` and `_map` texts with every demo code replaced by `CODE`.
struct Template {
    name: String,
    ple: String,
    map: String,
}

const CODE: &str = "#CODE#";

/// Concatenates the `wfs:member`s of several WFS answers under the first one's envelope.
fn merge(texts: &[String]) -> String {
    let mut out = String::new();
    for (i, t) in texts.iter().enumerate() {
        let (Some(start), Some(end)) = (t.find("<wfs:member>"), t.rfind("</wfs:member>")) else {
            continue;
        };
        let end = end + "</wfs:member>".len();
        if i == 0 {
            out.push_str(&t[..start]);
        }
        out.push_str(&t[start..end]);
        out.push('\n');
        if i + 1 == texts.len() {
            out.push_str(&t[end..]);
        }
    }
    out
}

fn templates(catasto: &Path) -> Result<Vec<Template>, Error> {
    let mut stems: Vec<String> = fs::read_dir(catasto)?
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            name.strip_suffix("_ple.gml").map(str::to_string)
        })
        .collect();
    stems.sort();
    let mut out = Vec::new();
    for group in stems.chunks(4) {
        let mut ple = Vec::new();
        let mut map = Vec::new();
        for stem in group {
            let code = &stem[..4];
            ple.push(
                fs::read_to_string(catasto.join(format!("{stem}_ple.gml")))?.replace(code, CODE),
            );
            map.push(
                fs::read_to_string(catasto.join(format!("{stem}_map.gml")))?.replace(code, CODE),
            );
        }
        out.push(Template {
            name: group[0][5..].to_string(),
            ple: merge(&ple),
            map: merge(&map),
        });
    }
    Ok(out)
}

/// The Belfiore-like code of synthetic comune `i`.
fn code(i: usize) -> String {
    format!("{}{:03}", char::from(b'A' + (i / 1000) as u8), i % 1000)
}

struct Province {
    folder: PathBuf,
    zip: PathBuf,
    /// Per comune: its code and the paths of its two GML files in the folder.
    comuni: Vec<(String, PathBuf, PathBuf)>,
    gml_bytes: u64,
}

fn write_province(dir: &Path, templates: &[Template], n: usize) -> Result<Province, Error> {
    let folder = dir.join("catasto");
    fs::create_dir_all(&folder)?;
    let zip_path = dir.join("provincia.zip");
    let mut outer = ZipWriter::new(std::io::BufWriter::new(fs::File::create(&zip_path)?));
    let stored = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(true);
    let deflated = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1));
    let mut comuni = Vec::new();
    let mut gml_bytes = 0u64;
    for i in 0..n {
        let t = &templates[i % templates.len()];
        let c = code(i);
        // Every seventh name gets an apostrophe, as in VILLA D'OGNA.
        let name = if i % 7 == 0 {
            format!("{} D'{}", t.name, i)
        } else {
            format!("{} {}", t.name, i)
        };
        let stem = format!("{c}_{name}");
        let ple = t.ple.replace(CODE, &c);
        let map = t.map.replace(CODE, &c);
        gml_bytes += (ple.len() + map.len()) as u64;
        let ple_path = folder.join(format!("{stem}_ple.gml"));
        let map_path = folder.join(format!("{stem}_map.gml"));
        fs::write(&ple_path, &ple)?;
        fs::write(&map_path, &map)?;
        let mut inner = ZipWriter::new(std::io::Cursor::new(Vec::new()));
        inner.start_file(format!("{stem}_ple.gml"), deflated)?;
        inner.write_all(ple.as_bytes())?;
        inner.start_file(format!("{stem}_map.gml"), deflated)?;
        inner.write_all(map.as_bytes())?;
        let inner = inner.finish()?.into_inner();
        outer.start_file(format!("{stem}.zip"), stored)?;
        outer.write_all(&inner)?;
        comuni.push((c, ple_path, map_path));
    }
    outer.finish()?.flush()?;
    Ok(Province {
        folder,
        zip: zip_path,
        comuni,
        gml_bytes,
    })
}

struct Run {
    parcels: usize,
    sheets: usize,
    files: usize,
    secs: f64,
    peak_mb: Option<f64>,
}

fn ingest(path: &Path, keep: &dyn Fn(&str) -> bool) -> Result<Run, Error> {
    reset_peak_rss();
    let mut parcels: Vec<Particella> = Vec::new();
    let mut sheets: Vec<Foglio> = Vec::new();
    let t = Instant::now();
    let summary = read_cadastre(path, keep, &mut |_, f| match f {
        CadastralFeature::Particella(p) => parcels.push(p),
        CadastralFeature::Foglio(s) => sheets.push(s),
    })?;
    let secs = t.elapsed().as_secs_f64();
    Ok(Run {
        parcels: parcels.len(),
        sheets: sheets.len(),
        files: summary.files_read,
        secs,
        peak_mb: peak_rss_mb(),
    })
}

const CHILD: &str = "ABITARE_BENCH_CHILD";

/// Runs [`ingest`] in a fresh process of this benchmark, so that each figure of peak RSS is
/// its own. `keep`: the Belfiore codes wanted, all when `None`.
fn ingest_apart(path: &Path, keep: Option<&[String]>) -> Result<Run, Error> {
    let spec = format!(
        "{}\t{}",
        path.display(),
        keep.map(|k| k.join(",")).unwrap_or_else(|| "*".into())
    );
    let out = Command::new(std::env::current_exe()?)
        .env(CHILD, spec)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| format!("ingest failed: {}", String::from_utf8_lossy(&out.stderr)))?;
    let f: Vec<f64> = line
        .split_whitespace()
        .map(|x| x.parse::<f64>())
        .collect::<Result<_, _>>()?;
    let [parcels, sheets, files, secs, peak] = f[..] else {
        return Err(format!("unexpected child output: {line}").into());
    };
    Ok(Run {
        parcels: parcels as usize,
        sheets: sheets as usize,
        files: files as usize,
        secs,
        peak_mb: (peak > 0.0).then_some(peak),
    })
}

/// The child side of [`ingest_apart`].
fn child(spec: &str) -> Result<(), Error> {
    let (path, keep) = spec.split_once('\t').ok_or("bad child spec")?;
    let wanted: Vec<&str> = keep.split(',').collect();
    let r = ingest(Path::new(path), &|b| keep == "*" || wanted.contains(&b))?;
    println!(
        "RESULT {} {} {} {} {}",
        r.parcels,
        r.sheets,
        r.files,
        r.secs,
        r.peak_mb.unwrap_or(0.0)
    );
    Ok(())
}

fn print_run(label: &str, r: &Run, bytes: u64) {
    println!(
        "{label:<34} {:>9} parcels {:>6} sheets {:>4} files in {:>6.2} s: {:>7.0}k parcels/s, {:>5.0} MB/s, peak RSS {}",
        r.parcels,
        r.sheets,
        r.files,
        r.secs,
        r.parcels as f64 / r.secs / 1e3,
        bytes as f64 / 1e6 / r.secs,
        r.peak_mb
            .map(|m| format!("{m:.0} MB"))
            .unwrap_or_else(|| "n/a".into())
    );
}

fn have_ogr2ogr() -> bool {
    Command::new("ogr2ogr")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs ogr2ogr once per file; returns seconds and the largest peak RSS (MB) seen.
fn ogr2ogr(files: &[PathBuf], out_dir: &Path) -> Result<(f64, Option<f64>), Error> {
    let timer = Path::new("/usr/bin/time").exists();
    let rss_file = out_dir.join("rss.txt");
    let mut peak: Option<f64> = None;
    let t = Instant::now();
    for (i, f) in files.iter().enumerate() {
        let out = out_dir.join(format!("out{i}.gpkg"));
        let mut cmd = if timer {
            let mut c = Command::new("/usr/bin/time");
            c.arg("-f")
                .arg("%M")
                .arg("-o")
                .arg(&rss_file)
                .arg("ogr2ogr");
            c
        } else {
            Command::new("ogr2ogr")
        };
        let status = cmd
            .args(["-f", "GPKG", "-oo", "DOWNLOAD_SCHEMA=NO"])
            .arg(&out)
            .arg(f)
            .status()?;
        if !status.success() {
            return Err(format!("ogr2ogr failed on {}", f.display()).into());
        }
        if timer {
            if let Some(kb) = fs::read_to_string(&rss_file)
                .ok()
                .and_then(|s| s.trim().lines().last()?.trim().parse::<f64>().ok())
            {
                peak = Some(peak.unwrap_or(0.0).max(kb / 1024.0));
            }
        }
    }
    Ok((t.elapsed().as_secs_f64(), peak))
}

fn main() -> Result<(), Error> {
    if let Ok(spec) = std::env::var(CHILD) {
        return child(&spec);
    }
    let n_comuni = env_usize("ABITARE_BENCH_COMUNI", 252);
    let n_ogr = env_usize("ABITARE_BENCH_OGR_COMUNI", 24);
    let dir = tempfile::tempdir()?;

    let t = Instant::now();
    let demo_dir = dir.path().join("demo");
    abitare::demo::generate(&demo_dir)?;
    let templates = templates(&demo_dir.join("input/catasto"))?;
    let province = write_province(dir.path(), &templates, n_comuni)?;
    let zip_bytes = fs::metadata(&province.zip)?.len();
    println!(
        "province generated in {:.1} s: {} comuni, GML {:.0} MB as a folder, province ZIP {:.0} MB \
         (per-comune ZIPs deflated, level 1)",
        t.elapsed().as_secs_f64(),
        province.comuni.len(),
        province.gml_bytes as f64 / 1e6,
        zip_bytes as f64 / 1e6
    );
    drop(templates);

    // abitare: everything kept, folder and province ZIP.
    let folder = ingest_apart(&province.folder, None)?;
    print_run("abitare, folder of GML", &folder, province.gml_bytes);
    let zipped = ingest_apart(&province.zip, None)?;
    print_run("abitare, province ZIP of ZIPs", &zipped, province.gml_bytes);
    println!(
        "{:<34} (MB/s counts the uncompressed GML; the ZIP itself is {:.0} MB)",
        "",
        zip_bytes as f64 / 1e6
    );
    assert_eq!(folder.parcels, zipped.parcels);

    // The Ambito case: 24 comuni out of the province, the others skipped by name.
    let wanted: Vec<String> = province
        .comuni
        .iter()
        .step_by((province.comuni.len() / 24).max(1))
        .take(24)
        .map(|(c, _, _)| c.clone())
        .collect();
    let ambito = ingest_apart(&province.zip, Some(&wanted))?;
    let ambito_bytes: u64 = province
        .comuni
        .iter()
        .filter(|(c, _, _)| wanted.contains(c))
        .map(|(_, p, m)| {
            fs::metadata(p).map(|x| x.len()).unwrap_or(0)
                + fs::metadata(m).map(|x| x.len()).unwrap_or(0)
        })
        .sum();
    print_run(
        &format!("abitare, ZIP, Ambito of {} comuni", wanted.len()),
        &ambito,
        ambito_bytes,
    );

    // ogr2ogr over the same GML files.
    if !have_ogr2ogr() {
        println!(
            "NOTICE: ogr2ogr not found (install gdal-bin): abitare measured alone, no comparison"
        );
        return Ok(());
    }
    let version = Command::new("ogr2ogr").arg("--version").output()?;
    let sample: Vec<&(String, PathBuf, PathBuf)> = if n_ogr == 0 || n_ogr >= province.comuni.len() {
        province.comuni.iter().collect()
    } else {
        province
            .comuni
            .iter()
            .step_by(province.comuni.len() / n_ogr)
            .take(n_ogr)
            .collect()
    };
    // Fresh copies: ogr2ogr writes a .gfs schema beside each GML it reads.
    let ogr_dir = dir.path().join("ogr");
    fs::create_dir_all(&ogr_dir)?;
    let mut files = Vec::new();
    let mut sample_bytes = 0u64;
    for (_, p, m) in &sample {
        for f in [p, m] {
            let copy = ogr_dir.join(f.file_name().ok_or("file name")?);
            fs::copy(f, &copy)?;
            sample_bytes += fs::metadata(&copy)?.len();
            files.push(copy);
        }
    }
    let abitare_sample = ingest_apart(&ogr_dir, None)?;
    print_run(
        "abitare, the ogr2ogr sample (folder)",
        &abitare_sample,
        sample_bytes,
    );
    let sample_parcels = abitare_sample.parcels;
    let (secs, peak) = ogr2ogr(&files, &ogr_dir)?;
    let scale = province.gml_bytes as f64 / sample_bytes as f64;
    let est = secs * scale;
    println!(
        "{} (ogr2ogr -f GPKG out.gpkg <file>.gml, -oo DOWNLOAD_SCHEMA=NO, one run per file)",
        String::from_utf8_lossy(&version.stdout).trim()
    );
    println!(
        "ogr2ogr on {} of {} comuni ({} files, {} parcels, {:.0} MB): {:.2} s: {:.1}k parcels/s, {:.1} MB/s, peak RSS {}",
        sample.len(),
        province.comuni.len(),
        files.len(),
        sample_parcels,
        sample_bytes as f64 / 1e6,
        secs,
        sample_parcels as f64 / secs / 1e3,
        sample_bytes as f64 / 1e6 / secs,
        peak.map(|m| format!("{m:.0} MB")).unwrap_or_else(|| "n/a".into())
    );
    if scale > 1.0 {
        println!(
            "ogr2ogr, whole province: {est:.0} s (scaled linearly by bytes from the sample, ×{scale:.1}; not run)"
        );
    }
    println!(
        "ratio on the same sample files: abitare is {:.1}× faster than ogr2ogr",
        secs / abitare_sample.secs
    );
    println!(
        "ratio on the whole province: abitare (folder) {:.1}×, abitare (province ZIP) {:.1}× \
         faster than ogr2ogr's scaled time",
        est / folder.secs,
        est / zipped.secs
    );
    println!("(abitare keeps the features in memory as model types; ogr2ogr writes a GeoPackage)");
    Ok(())
}
