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

    // Every request the client makes, to check that it really pages.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let router = common::app_signed(Arc::new(loaded)).layer(middleware::from_fn(
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
    let url = format!("OAPIF:http://127.0.0.1:{port}/");

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
