//! GML parse throughput and R-tree build on the demo cadastre scaled up 100×.
//!
//! Generates the demo Ambito, concatenates the `wfs:member` elements of all its `_ple.gml`
//! files `SCALE` times into one WFS answer on disk (duplicated parcels: the parser does the
//! same work per feature either way), then measures:
//! - streaming parse of that file (parcels/s, MB/s), counting features only;
//! - parse + collect into `Vec<Particella>`;
//! - `rstar` bulk load of the parcels' bounding boxes.
//!
//! Run: `cargo bench --bench gml_parse` (`ABITARE_BENCH_SCALE` overrides the factor 100).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Write;
use std::time::Instant;

use abitare::index::LayerIndex;
use abitare::ingest::gml::{read_gml_file, CadastralFeature};

fn peak_rss_mb() -> Option<f64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful either way.
    let scale: usize = std::env::var("ABITARE_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    let demo = abitare::demo::generate(dir.path())?;
    println!(
        "demo generated in {:.2} s ({} files)",
        t.elapsed().as_secs_f64(),
        demo.files.len()
    );

    // Collect the members of every parcel file.
    let mut members = String::new();
    let mut parcels_once = 0usize;
    for f in &demo.files {
        let name = f.to_string_lossy();
        if !name.ends_with("_ple.gml") {
            continue;
        }
        let text = fs::read_to_string(dir.path().join(f))?;
        let (Some(start), Some(end)) = (text.find("<wfs:member>"), text.rfind("</wfs:member>"))
        else {
            continue;
        };
        members.push_str(&text[start..end + "</wfs:member>".len()]);
        members.push('\n');
        parcels_once += text.matches("<CP:CadastralParcel ").count();
    }
    let big = dir.path().join("scaled_ple.gml");
    {
        let mut w = std::io::BufWriter::new(fs::File::create(&big)?);
        writeln!(
            w,
            "<?xml version='1.0' encoding=\"UTF-8\" ?>\n<wfs:FeatureCollection xmlns:CP=\"http://mapserver.gis.umn.edu/mapserver\" xmlns:gml=\"http://www.opengis.net/gml/3.2\" xmlns:wfs=\"http://www.opengis.net/wfs/2.0\" timeStamp=\"2026-01-01T00:00:00\" numberMatched=\"unknown\" numberReturned=\"{}\">",
            parcels_once * scale
        )?;
        for _ in 0..scale {
            w.write_all(members.as_bytes())?;
        }
        writeln!(w, "</wfs:FeatureCollection>")?;
    }
    let bytes = fs::metadata(&big)?.len() as f64;
    println!(
        "input: {} parcels × {scale} = {} parcels, {:.0} MB",
        parcels_once,
        parcels_once * scale,
        bytes / 1e6
    );

    // 1. Streaming parse, counting only.
    let mut best = f64::MAX;
    let mut count = 0usize;
    for _ in 0..3 {
        count = 0;
        let t = Instant::now();
        read_gml_file(&big, &mut |f| {
            if let CadastralFeature::Particella(_) = f {
                count += 1;
            }
        })?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "parse (stream, count): {count} parcels in {best:.2} s = {:.0} parcels/s, {:.0} MB/s (best of 3)",
        count as f64 / best,
        bytes / 1e6 / best
    );

    // 2. Parse and keep every parcel.
    let t = Instant::now();
    let mut parcels = Vec::with_capacity(count);
    read_gml_file(&big, &mut |f| {
        if let CadastralFeature::Particella(p) = f {
            parcels.push(p);
        }
    })?;
    let parse_collect = t.elapsed().as_secs_f64();
    println!(
        "parse + collect: {} parcels in {parse_collect:.2} s = {:.0} parcels/s",
        parcels.len(),
        parcels.len() as f64 / parse_collect
    );

    // 3. R-tree bulk load.
    let t = Instant::now();
    let index = LayerIndex::from_polygons(parcels.iter().map(|p| &p.geometry));
    let build = t.elapsed().as_secs_f64();
    println!(
        "R-tree bulk load: {} boxes in {build:.2} s = {:.0} boxes/s",
        index.len(),
        index.len() as f64 / build
    );
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS: {mb:.0} MB");
    }
    Ok(())
}
