//! A real OGC API - Features client against the demo: GDAL's OAPIF driver (`ogrinfo`,
//! `ogr2ogr`) over a socket. Skipped with a notice where GDAL is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use abitare::auth::Role;
use abitare::pipeline;
use abitare::project::Project;
use axum::extract::Request;
use axum::middleware::{self, Next};

fn gdal_with_oapif() -> bool {
    match Command::new("ogrinfo").arg("--formats").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).contains("OAPIF"),
        _ => false,
    }
}

/// Runs a GDAL command off the async threads, with no proxy for the local server, with the
/// credentials of the Ambito office: its token as the password of HTTP Basic, as a QGIS
/// "Basic" configuration or GDAL's `GDAL_HTTP_USERPWD` sends it.
async fn run(program: &'static str, args: Vec<String>) -> Output {
    let token = common::signed().token(Role::Ufficio).to_string();
    run_env(
        program,
        args,
        vec![
            ("GDAL_HTTP_AUTH".into(), "BASIC".into()),
            ("GDAL_HTTP_USERPWD".into(), format!("ufficio:{token}")),
        ],
    )
    .await
}

/// Runs a GDAL command with the given environment (no credentials unless it holds them).
async fn run_env(program: &'static str, args: Vec<String>, env: Vec<(String, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(program)
            .args(&args)
            .envs(env)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .env("GDAL_HTTP_TIMEOUT", "60")
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"))
    })
    .await
    .expect("command task")
}

fn features(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).expect("ogr2ogr output");
    let v: serde_json::Value = serde_json::from_str(&text).expect("GeoJSON");
    v["features"].as_array().expect("features").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_lists_collections_and_pages_through_items() {
    if !common::available_or_skip(
        gdal_with_oapif(),
        "ogrinfo with the OAPIF driver not found (install gdal-bin)",
    ) {
        return;
    }
    // Every request the client makes, to check that it really pages.
    let (base, seen, _loaded, dir) = serve_logged().await;
    let url = format!("OAPIF:{base}/");

    let out = run("ogrinfo", vec!["-ro".into(), "-so".into(), url.clone()]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ogrinfo failed:\n{stdout}\n{stderr}");
    assert!(
        !stderr.contains("ERROR"),
        "ogrinfo reported errors:\n{stderr}"
    );
    for layer in abitare::output::layers::names(abitare::output::layers::Audience::Pubblico) {
        assert!(
            stdout.contains(&format!(": {layer} (")),
            "{layer} not listed:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("alloggi_pubblici (title: Alloggi pubblici) (Point)"),
        "{stdout}"
    );

    for (layer, expected, page) in [("alloggi_pubblici", 253, 50), ("comuni", 24, 5)] {
        let dest = dir.path().join(format!("{layer}.geojson"));
        let out = run(
            "ogr2ogr",
            vec![
                "-f".into(),
                "GeoJSON".into(),
                dest.display().to_string(),
                url.clone(),
                layer.into(),
                "-oo".into(),
                format!("PAGE_SIZE={page}"),
            ],
        )
        .await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "ogr2ogr {layer} failed:\n{stderr}");
        assert!(!stderr.contains("ERROR"), "ogr2ogr {layer}:\n{stderr}");
        let feats = features(&dest);
        assert_eq!(feats.len(), expected, "{layer}");
        let ids: BTreeSet<String> = feats
            .iter()
            .map(|f| f["properties"]["id"].to_string() + &f["properties"]["istat"].to_string())
            .collect();
        assert_eq!(ids.len(), expected, "{layer}: repeated features");
        // Lon/lat order survives the round trip (Ambito 9 lies around 9.9–10.2 E, 45.8–46.1 N).
        let c = &feats[0]["geometry"]["coordinates"];
        let lon = c[0]
            .as_f64()
            .or_else(|| c[0][0][0][0].as_f64())
            .expect("lon");
        assert!((9.7..10.3).contains(&lon), "{layer}: {c}");

        let pages = seen
            .lock()
            .map(|l| {
                l.iter()
                    .filter(|u| {
                        u.starts_with(&format!("/collections/{layer}/items?"))
                            && u.contains(&format!("limit={page}"))
                    })
                    .count()
            })
            .unwrap_or(0);
        assert!(
            pages >= expected.div_ceil(page),
            "{layer}: {pages} page requests with limit={page}"
        );
    }

    // The private units: read with the office's token as a Bearer header (QGIS "API
    // header"), refused without credentials and to the Tavolo's token.
    let info = |env: Vec<(String, String)>| {
        run_env(
            "ogrinfo",
            vec![
                "-ro".into(),
                "-so".into(),
                url.clone(),
                "alloggi_privati".into(),
            ],
            env,
        )
    };
    let bearer = |role: Role| {
        vec![(
            "GDAL_HTTP_HEADERS".to_string(),
            format!("Authorization: Bearer {}", common::signed().token(role)),
        )]
    };
    let out = info(bearer(Role::Ufficio)).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("Feature Count"),
        "ogrinfo alloggi_privati with the office's token:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for env in [Vec::new(), bearer(Role::Tavolo)] {
        let out = info(env).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !out.status.success() || !stdout.contains("Feature Count"),
            "alloggi_privati read without the office's credentials:\n{stdout}"
        );
        assert!(!stdout.contains("OFF-"), "{stdout}");
    }
}

/// The demo built and served on a free port with every request URI logged: its URL
/// (`http://127.0.0.1:PORT`), the log and the loaded state.
async fn serve_logged() -> (
    String,
    Arc<Mutex<Vec<String>>>,
    Arc<abitare::analysis::Analisi>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("demo");
    let loaded = tokio::task::spawn_blocking({
        let root = root.clone();
        move || {
            let generated = abitare::demo::generate(&root).expect("demo generation");
            let project = Project::load(&generated.project).expect("demo project");
            pipeline::build(&project).expect("demo build");
            pipeline::load_workspace(&root.join("workspace")).expect("workspace")
        }
    })
    .await
    .expect("build task");
    let loaded = Arc::new(loaded);
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let router = common::app_signed(loaded.clone()).layer(middleware::from_fn(
        move |req: Request, next: Next| {
            let log = log.clone();
            async move {
                if let Ok(mut l) = log.lock() {
                    l.push(req.uri().to_string());
                }
                next.run(req).await
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://127.0.0.1:{port}"), seen, loaded, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_pushes_where_to_the_server_as_a_cql2_filter() {
    if !common::available_or_skip(
        gdal_with_oapif(),
        "ogrinfo with the OAPIF driver not found (install gdal-bin)",
    ) {
        return;
    }
    let (base, seen, loaded, dir) = serve_logged().await;
    let layer = abitare::output::layers::layer(
        "aree_candidate",
        abitare::output::layers::Audience::Pubblico,
    )
    .expect("public layer");
    let rendered = abitare::output::geojson::layer_features(&loaded, layer, None);
    let page = 5;
    type Keep = fn(&serde_json::Map<String, serde_json::Value>) -> bool;
    // (the -where clause, the CQL2 GDAL sends, what the clause selects, what the sent part
    // selects on the server)
    let cases: [(&str, &str, Keep, Keep); 3] = [
        (
            "punteggio > 60",
            "punteggio > 60",
            |p| p["punteggio"].as_f64().is_some_and(|s| s > 60.0),
            |p| p["punteggio"].as_f64().is_some_and(|s| s > 60.0),
        ),
        (
            "punteggio > 40 AND fonte = 'servizi_previsti'",
            "(punteggio > 40) AND (fonte = 'servizi_previsti')",
            |p| {
                p["punteggio"].as_f64().is_some_and(|s| s > 40.0)
                    && p["fonte"] == "servizi_previsti"
            },
            |p| {
                p["punteggio"].as_f64().is_some_and(|s| s > 40.0)
                    && p["fonte"] == "servizi_previsti"
            },
        ),
        // GDAL 3.6 does not translate IN: it sends the other half of the AND and tests the
        // whole clause itself on what comes back.
        (
            "fonte IN ('ambito_trasformazione', 'servizi_previsti') AND alloggi_stimati >= 5",
            "alloggi_stimati >= 5",
            |p| {
                (p["fonte"] == "ambito_trasformazione" || p["fonte"] == "servizi_previsti")
                    && p["alloggi_stimati"].as_f64().is_some_and(|n| n >= 5.0)
            },
            |p| p["alloggi_stimati"].as_f64().is_some_and(|n| n >= 5.0),
        ),
    ];
    let filter_of = |uri: &str| -> Option<String> {
        let q = uri.split_once('?')?.1;
        q.split('&').find_map(|kv| {
            let v = kv.strip_prefix("filter=")?;
            percent_encoding::percent_decode_str(v)
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned())
        })
    };
    for (i, (clause, sent, keep, on_server)) in cases.iter().enumerate() {
        let server_side = rendered
            .iter()
            .filter(|f| on_server(f.properties.as_ref().expect("properties")))
            .count();
        let expected: BTreeSet<String> = rendered
            .iter()
            .filter(|f| keep(f.properties.as_ref().expect("properties")))
            .map(|f| f.properties.as_ref().expect("properties")["id"].to_string())
            .collect();
        assert!(
            !expected.is_empty() && expected.len() < rendered.len(),
            "{clause}: {} of {}",
            expected.len(),
            rendered.len()
        );
        seen.lock().expect("log").clear();
        let dest = dir.path().join(format!("where{i}.geojson"));
        // As the public: no credentials.
        let out = run_env(
            "ogr2ogr",
            vec![
                "-f".into(),
                "GeoJSON".into(),
                dest.display().to_string(),
                format!("OAPIF:{base}/"),
                "aree_candidate".into(),
                "-where".into(),
                clause.to_string(),
                "-oo".into(),
                format!("PAGE_SIZE={page}"),
            ],
            Vec::new(),
        )
        .await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "ogr2ogr -where {clause}:\n{stderr}");
        assert!(!stderr.contains("ERROR"), "{clause}:\n{stderr}");
        let got: BTreeSet<String> = features(&dest)
            .iter()
            .map(|f| f["properties"]["id"].to_string())
            .collect();
        assert_eq!(got, expected, "{clause}");

        // The server did the filtering: the pages asked for carry the filter, and there are
        // as many as the selection needs, not as many as the layer has.
        let log = seen.lock().expect("log").clone();
        let items: Vec<&String> = log
            .iter()
            .filter(|u| u.starts_with("/collections/aree_candidate/items?"))
            .collect();
        let filtered: Vec<&&String> = items
            .iter()
            .filter(|u| filter_of(u).as_deref() == Some(*sent))
            .collect();
        assert_eq!(
            filtered.len(),
            server_side.div_ceil(page),
            "{clause}: {items:#?}"
        );
        // At most one unfiltered page: the first one, read for the layer's schema.
        let unfiltered = items.iter().filter(|u| !u.contains("filter=")).count();
        assert!(unfiltered <= 1, "{clause}: a scan of the layer: {items:#?}");
        assert!(
            rendered.len().div_ceil(page) > filtered.len() + unfiltered,
            "{clause}: no fewer requests than a full scan"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_the_utm_answer_as_proj_reprojects_the_lonlat_one() {
    if !common::available_or_skip(
        gdal_with_oapif(),
        "ogrinfo with the OAPIF driver not found (install gdal-bin)",
    ) {
        return;
    }
    let (base, _seen, _loaded, dir) = serve_logged().await;
    // GDAL 3.6's OAPIF driver has no CRS option (it came with GDAL 3.7): PROJ reprojects the
    // CRS84 collection, and GDAL's GeoJSON driver reads the server's answer in EPSG:32632.
    let by_proj = dir.path().join("proj.geojson");
    let out = run_env(
        "ogr2ogr",
        vec![
            "-f".into(),
            "GeoJSON".into(),
            "-t_srs".into(),
            "EPSG:32632".into(),
            by_proj.display().to_string(),
            format!("OAPIF:{base}/"),
            "comuni".into(),
            "-oo".into(),
            "PAGE_SIZE=100".into(),
        ],
        Vec::new(),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let served = dir.path().join("served.geojson");
    let out = run_env(
        "ogr2ogr",
        vec![
            "-f".into(),
            "GeoJSON".into(),
            "-a_srs".into(),
            "EPSG:32632".into(),
            served.display().to_string(),
            format!(
                "{base}/collections/comuni/items?limit=100&crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F32632"
            ),
        ],
        Vec::new(),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let coords = |f: &serde_json::Value| -> Vec<(f64, f64)> {
        f["geometry"]["coordinates"]
            .as_array()
            .expect("polygons")
            .iter()
            .flat_map(|poly| poly.as_array().expect("rings").iter())
            .flat_map(|ring| ring.as_array().expect("ring").iter())
            .map(|p| (p[0].as_f64().expect("x"), p[1].as_f64().expect("y")))
            .collect()
    };
    let a = features(&by_proj);
    let b = features(&served);
    assert_eq!(a.len(), 24);
    assert_eq!(b.len(), a.len());
    let mut worst = 0.0f64;
    for fa in &a {
        let id = &fa["properties"]["istat"];
        let fb = b
            .iter()
            .find(|f| &f["properties"]["istat"] == id)
            .unwrap_or_else(|| panic!("{id} in the served answer"));
        let (ca, cb) = (coords(fa), coords(fb));
        assert_eq!(ca.len(), cb.len(), "{id}");
        assert!(ca[0].0 > 500_000.0 && ca[0].1 > 5_000_000.0, "{id}: metres");
        for (p, q) in ca.iter().zip(&cb) {
            let d = ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt();
            worst = worst.max(d);
        }
    }
    assert!(worst < 1.0, "worst vertex {worst} m from PROJ");
}
