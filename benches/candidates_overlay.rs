//! `cargo bench --bench candidates_overlay`
//!
//! 1. Screening of candidate social-housing standard areas on a province-size mosaic: the
//!    demo Ambito's comuni, PGT zones, vincoli, parcels, public units, service points and other
//!    public property replicated with offsets (11 copies of 24 comuni = 264 comuni), built-in
//!    rules.
//! 2. The overlay step alone on generated data (UTM metres): intersection of 2,000 zone
//!    squares with 200,000 parcel squares (R-tree prefilter + exact `geo::BooleanOps`), and an
//!    R-tree "intersects" join (index build included; the tree is built on the smaller side,
//!    then once more with the parcels split over the machine's threads). The data are written as WKT to
//!    `$CARGO_TARGET_DIR/bench-data/` and `benches/geopandas_overlay.py` runs GeoPandas /
//!    Shapely on the same files; the ratios are printed when Python and GeoPandas are present.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use abitare::analysis::candidates::{screen, Regole};
use abitare::index::{LayerIndex, ModelIndex};
use abitare::model::Model;
use abitare::pipeline;
use abitare::project::Project;
use geo::{BooleanOps, BoundingRect, Intersects, MultiPolygon, Polygon, Rect, Translate};

const COPIES: usize = 11;

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        out = Some(v);
    }
    (best, out.expect("at least one run"))
}

fn province(demo: &Model) -> Model {
    let mut m = Model::empty(demo.ambito.clone());
    for k in 0..COPIES {
        let (dx, dy) = ((k % 4) as f64 * 0.45, (k / 4) as f64 * 0.32);
        let shift = |g: &MultiPolygon<f64>| g.translate(dx, dy);
        let istat = |s: &str| format!("{s}-{k:02}");
        let belf = |s: &str| format!("{s}{k:02}");
        for c in &demo.comuni {
            let mut c = c.clone();
            c.istat = istat(&c.istat);
            c.belfiore = belf(&c.belfiore);
            c.geometry = shift(&c.geometry);
            m.comuni.push(c);
        }
        for z in &demo.pgt_zone {
            let mut z = z.clone();
            z.comune_istat = z.comune_istat.as_deref().map(istat);
            z.geometry = shift(&z.geometry);
            m.pgt_zone.push(z);
        }
        for v in &demo.vincoli {
            let mut v = v.clone();
            v.comune_istat = v.comune_istat.as_deref().map(istat);
            v.geometry = shift(&v.geometry);
            m.vincoli.push(v);
        }
        for p in &demo.particelle {
            let mut p = p.clone();
            p.belfiore = belf(&p.belfiore);
            p.geometry = shift(&p.geometry);
            m.particelle.push(p);
        }
        for s in &demo.servizi_puntuali {
            let mut s = s.clone();
            s.posizione = s.posizione.translate(dx, dy);
            m.servizi_puntuali.push(s);
        }
        for p in &demo.altra_proprieta_pubblica {
            let mut p = p.clone();
            p.belfiore = p.belfiore.as_deref().map(belf);
            p.comune_istat = p.comune_istat.as_deref().map(istat);
            m.altra_proprieta_pubblica.push(p);
        }
        for u in &demo.alloggi_pubblici {
            let mut u = u.clone();
            u.belfiore = u.belfiore.as_deref().map(belf);
            u.comune_istat = u.comune_istat.as_deref().map(istat);
            u.posizione = u.posizione.map(|p| p.translate(dx, dy));
            m.alloggi_pubblici.push(u);
        }
    }
    m
}

fn square(x: f64, y: f64, side: f64) -> Polygon<f64> {
    Rect::new((x, y), (x + side, y + side)).to_polygon()
}

/// 2,000 zone squares (150 m, on a 200 m grid, offset so that they cut parcels) and 200,000
/// parcel squares (20 m, 500 × 400).
fn overlay_data() -> (Vec<Polygon<f64>>, Vec<Polygon<f64>>) {
    let (x0, y0) = (560_000.0, 5_060_000.0);
    let mut zones = Vec::with_capacity(2000);
    for j in 0..40 {
        for i in 0..50 {
            zones.push(square(
                x0 + f64::from(i) * 200.0 + 28.0,
                y0 + f64::from(j) * 200.0 + 28.0,
                150.0,
            ));
        }
    }
    let mut parcels = Vec::with_capacity(200_000);
    for j in 0..400 {
        for i in 0..500 {
            parcels.push(square(
                x0 + f64::from(i) * 20.0,
                y0 + f64::from(j) * 20.0,
                20.0,
            ));
        }
    }
    (zones, parcels)
}

fn write_wkt(path: &Path, polys: &[Polygon<f64>]) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "id\twkt")?;
    for (i, p) in polys.iter().enumerate() {
        let pts: Vec<String> = p
            .exterior()
            .coords()
            .map(|c| format!("{} {}", c.x, c.y))
            .collect();
        writeln!(w, "{i}\tPOLYGON (({}))", pts.join(", "))?;
    }
    w.flush()
}

fn overlay(zones: &[Polygon<f64>], parcels: &[Polygon<f64>]) -> (usize, f64) {
    use geo::Area;
    let index = LayerIndex::from_boxes(parcels.iter().map(|p| p.bounding_rect()));
    let mut n = 0;
    let mut area = 0.0;
    for z in zones {
        let Some(b) = z.bounding_rect() else { continue };
        for i in index.query_bbox(b) {
            let r = z.intersection(&parcels[i]);
            let a = r.unsigned_area();
            if a > 0.0 {
                n += 1;
                area += a;
            }
        }
    }
    (n, area)
}

type Boxed = rstar::primitives::GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, usize>;

fn zone_tree(zones: &[Polygon<f64>]) -> rstar::RTree<Boxed> {
    rstar::RTree::bulk_load(
        zones
            .iter()
            .enumerate()
            .filter_map(|(i, z)| {
                let b = z.bounding_rect()?;
                Some(Boxed::new(
                    rstar::primitives::Rectangle::from_corners(
                        [b.min().x, b.min().y],
                        [b.max().x, b.max().y],
                    ),
                    i,
                ))
            })
            .collect(),
    )
}

fn join_part(tree: &rstar::RTree<Boxed>, zones: &[Polygon<f64>], part: &[Polygon<f64>]) -> usize {
    let mut n = 0;
    for p in part {
        let Some(b) = p.bounding_rect() else { continue };
        let env = rstar::AABB::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]);
        n += tree
            .locate_in_envelope_intersecting(&env)
            .filter(|e| zones[e.data].intersects(p))
            .count();
    }
    n
}

/// Intersects join: the R-tree is built on the smaller side (the zones), the parcels query it.
fn sjoin(zones: &[Polygon<f64>], parcels: &[Polygon<f64>]) -> usize {
    join_part(&zone_tree(zones), zones, parcels)
}

/// The same join with the parcels split over the machine's threads.
fn sjoin_threads(zones: &[Polygon<f64>], parcels: &[Polygon<f64>]) -> usize {
    let tree = zone_tree(zones);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = parcels.len().div_ceil(threads).max(1);
    std::thread::scope(|sc| {
        let handles: Vec<_> = parcels
            .chunks(chunk)
            .map(|part| {
                let tree = &tree;
                sc.spawn(move || join_part(tree, zones, part))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    })
}

fn data_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-data")
}

fn main() {
    // 1. Province mosaic.
    let tmp = std::env::temp_dir().join(format!("abitare-bench-candidates-{}", std::process::id()));
    let generated = abitare::demo::generate(&tmp).expect("demo");
    let project = Project::load(&generated.project).expect("project");
    let demo = pipeline::ingest(&project).expect("ingest").model;
    let _ = std::fs::remove_dir_all(&tmp);
    let m = province(&demo);
    let rules = Regole::predefinite();
    let (t_index, index) = best_of(1, || ModelIndex::build(&m));
    let (t_screen, s) = best_of(3, || screen(&m, &index, &rules));
    let cut = s
        .candidate
        .iter()
        .filter(|c| !c.esclusioni.is_empty())
        .count();
    println!(
        "province mosaic: {} comuni, {} PGT zones, {} vincoli, {} parcels, {} public units, {} service points, {} other public properties",
        m.comuni.len(),
        m.pgt_zone.len(),
        m.vincoli.len(),
        m.particelle.len(),
        m.alloggi_pubblici.len(),
        m.servizi_puntuali.len(),
        m.altra_proprieta_pubblica.len()
    );
    println!(
        "  index build {:.3} s; screening {:.3} s (best of 3): {} candidates ({} cut by exclusions), {} excluded",
        t_index.as_secs_f64(),
        t_screen.as_secs_f64(),
        s.candidate.len(),
        cut,
        s.escluse.len()
    );

    // 2. Overlay on generated data.
    let (zones, parcels) = overlay_data();
    let dir = data_dir();
    std::fs::create_dir_all(&dir).expect("bench-data dir");
    let (zf, pf) = (
        dir.join("overlay_zones.tsv"),
        dir.join("overlay_parcels.tsv"),
    );
    write_wkt(&zf, &zones).expect("zones");
    write_wkt(&pf, &parcels).expect("parcels");
    // Round trip through the same text the Python side reads.
    let reread = |p: &Path| -> Vec<Polygon<f64>> {
        std::fs::read_to_string(p)
            .expect("read")
            .lines()
            .skip(1)
            .map(|l| {
                let wkt = l.split('\t').nth(1).expect("wkt");
                let inner = wkt.trim_start_matches("POLYGON ((").trim_end_matches("))");
                let pts: Vec<(f64, f64)> = inner
                    .split(", ")
                    .map(|xy| {
                        let mut it = xy.split(' ').map(|v| v.parse::<f64>().expect("number"));
                        (it.next().expect("x"), it.next().expect("y"))
                    })
                    .collect();
                Polygon::new(pts.into(), vec![])
            })
            .collect()
    };
    let zones = reread(&zf);
    let parcels = reread(&pf);
    let (t_overlay, (n_overlay, area)) = best_of(3, || overlay(&zones, &parcels));
    let (t_sjoin, n_sjoin) = best_of(5, || sjoin(&zones, &parcels));
    let (t_sjoin_mt, n_mt) = best_of(5, || sjoin_threads(&zones, &parcels));
    assert_eq!(n_mt, n_sjoin);
    println!(
        "overlay {} zones × {} parcels: {:.3} s (best of 3), {} pieces, {:.0} m²",
        zones.len(),
        parcels.len(),
        t_overlay.as_secs_f64(),
        n_overlay,
        area
    );
    println!(
        "sjoin intersects (index build included): {:.3} s (best of 5), {} pairs; on {} threads {:.3} s",
        t_sjoin.as_secs_f64(),
        n_sjoin,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        t_sjoin_mt.as_secs_f64()
    );

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/geopandas_overlay.py");
    let out = Command::new("python3").arg(&script).arg(&dir).output();
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            let v: serde_json::Value = match serde_json::from_str(text.trim()) {
                Ok(v) => v,
                Err(e) => {
                    println!("geopandas: unreadable output ({e}): {text}");
                    return;
                }
            };
            let (go, gs) = (
                v["overlay_s"].as_f64().unwrap_or(f64::NAN),
                v["sjoin_s"].as_f64().unwrap_or(f64::NAN),
            );
            println!(
                "geopandas {} / shapely {}: overlay {:.3} s ({} rows), sjoin {:.3} s ({} rows)",
                v["geopandas"], v["shapely"], go, v["overlay_rows"], gs, v["sjoin_rows"]
            );
            println!(
                "ratio (geopandas / abitare): overlay {:.1}×, sjoin {:.1}× (one thread), {:.1}× (all threads)",
                go / t_overlay.as_secs_f64(),
                gs / t_sjoin.as_secs_f64(),
                gs / t_sjoin_mt.as_secs_f64()
            );
        }
        Ok(o) => println!(
            "geopandas comparison skipped: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => println!("geopandas comparison skipped: python3 not available ({e})"),
    }
}
