//! Heavy requests through the axum `Router`: exports computed once per (audience, layers,
//! format, options), a bounded queue answered with `503` when full while `/health` answers,
//! queued work of a client that left never started, running work told to stop, and OGC
//! property filters tested on the model records before any feature is rendered.
//! Every wait is bounded and no assertion is about speed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

use abitare::analysis::Analisi;
use abitare::output::export::{self, ExportError, Format, Options};
use abitare::output::geojson::{layer_features, layer_len, plain_property};
use abitare::output::layers::{self, Audience};
use abitare::server::app_with_heavy;
use abitare::server::heavy::{ExportKey, Heavy, HeavyLimits, HeavyMetrics};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// How long any wait for a condition may take.
const BOUND: Duration = Duration::from_secs(30);

fn small() -> Arc<Analisi> {
    Arc::new(Analisi::from_model(common::two_comuni_model()))
}

/// The demo Ambito, generated, built and loaded once for this binary.
fn demo() -> Arc<Analisi> {
    static D: OnceLock<(common::BuiltDemo, Arc<Analisi>)> = OnceLock::new();
    D.get_or_init(|| {
        let built = common::build_demo();
        let loaded = Arc::new(built.load());
        (built, loaded)
    })
    .1
    .clone()
}

fn limits(workers: usize, queue: usize) -> HeavyLimits {
    HeavyLimits {
        workers,
        queue,
        ..HeavyLimits::default()
    }
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

async fn get(router: &Router, uri: &str) -> Answer {
    let resp = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// Waits (bounded) until the counters satisfy `cond`.
async fn until(heavy: &Heavy, what: &str, cond: impl Fn(&HeavyMetrics) -> bool) {
    let start = std::time::Instant::now();
    while !cond(&heavy.metrics()) {
        assert!(
            start.elapsed() < BOUND,
            "{what}: not reached, {:?}",
            heavy.metrics()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Occupies one worker with a job that runs until the returned sender is dropped or sent to.
async fn occupy(heavy: &Arc<Heavy>) -> (mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<()>();
    let before = heavy.metrics().running;
    let h = heavy.clone();
    let task = tokio::spawn(async move {
        h.run(move |_| {
            let _ = rx.recv_timeout(BOUND);
        })
        .await
        .expect("blocking job");
    });
    until(heavy, "the blocking job runs", |m| m.running == before + 1).await;
    (tx, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_concurrent_exports_are_computed_once() {
    let heavy = Arc::new(Heavy::new(limits(2, 8)));
    let router = app_with_heavy(small(), heavy.clone());
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let r = router.clone();
        tasks.push(tokio::spawn(async move {
            get(&r, "/api/export/tutto.gpkg").await
        }));
    }
    let mut bodies = Vec::new();
    for t in tasks {
        let a = t.await.unwrap();
        assert_eq!(a.status, StatusCode::OK);
        bodies.push(a.body);
    }
    assert!(bodies.iter().all(|b| b == &bodies[0] && !b.is_empty()));
    assert_eq!(
        heavy.metrics().export_computations,
        1,
        "{:?}",
        heavy.metrics()
    );
    // Later requests are served from the cache; another format or option is another file.
    let a = get(&router, "/api/export/tutto.gpkg").await;
    assert_eq!(a.body, bodies[0]);
    assert!(heavy.metrics().export_cache_hits >= 1);
    assert_eq!(heavy.metrics().export_computations, 1);
    assert_eq!(
        get(&router, "/api/export/comuni.csv").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&router, "/api/export/comuni.csv?geometry=lonlat")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(heavy.metrics().export_computations, 3);
    assert!(heavy.export_cache_bytes() > 0);
}

#[tokio::test]
async fn the_cache_bound_keeps_no_file_larger_than_it() {
    let heavy = Arc::new(Heavy::new(HeavyLimits {
        export_cache_bytes: 0,
        ..limits(1, 4)
    }));
    let router = app_with_heavy(small(), heavy.clone());
    for _ in 0..2 {
        assert_eq!(
            get(&router, "/api/export/comuni.gpkg").await.status,
            StatusCode::OK
        );
    }
    assert_eq!(heavy.export_cache_bytes(), 0);
    assert_eq!(heavy.metrics().export_computations, 2);
}

#[test]
fn the_export_key_includes_the_audience() {
    let opts = Options::default();
    let same = export::resolve_layers(&["comuni".into()], Audience::Pubblico).unwrap();
    assert_ne!(
        ExportKey::new(&same, Format::Gpkg, opts, Audience::Pubblico, None),
        ExportKey::new(&same, Format::Gpkg, opts, Audience::Ufficio, None),
    );
    // The CRS and the comune make other files.
    let utm = Options {
        crs: 32632,
        ..Options::default()
    };
    assert_ne!(
        ExportKey::new(&same, Format::Gpkg, opts, Audience::Pubblico, None),
        ExportKey::new(&same, Format::Gpkg, utm, Audience::Pubblico, None),
    );
    assert_ne!(
        ExportKey::new(&same, Format::Gpkg, opts, Audience::Pubblico, None),
        ExportKey::new(
            &same,
            Format::Gpkg,
            opts,
            Audience::Pubblico,
            Some("016077")
        ),
    );
    let all = |a| export::resolve_layers(&["tutto".into()], a).unwrap();
    let public = ExportKey::new(
        &all(Audience::Pubblico),
        Format::Xlsx,
        opts,
        Audience::Pubblico,
        None,
    );
    let office = ExportKey::new(
        &all(Audience::Ufficio),
        Format::Xlsx,
        opts,
        Audience::Ufficio,
        None,
    );
    assert_ne!(public, office);
    assert_eq!(public.audience(), Audience::Pubblico);
    assert_eq!(office.audience(), Audience::Ufficio);
}

#[tokio::test]
async fn a_file_cached_for_the_office_is_never_served_to_the_public() {
    let state = small();
    let heavy = Heavy::new(limits(1, 4));
    let tutto = ["tutto".to_string()];
    let office = heavy
        .export(
            &state,
            &tutto,
            Format::Gpkg,
            Options::default(),
            Audience::Ufficio,
            None,
        )
        .await
        .unwrap();
    let public = heavy
        .export(
            &state,
            &tutto,
            Format::Gpkg,
            Options::default(),
            Audience::Pubblico,
            None,
        )
        .await
        .unwrap();
    assert_eq!(heavy.metrics().export_computations, 2);
    assert_eq!(heavy.metrics().export_cache_hits, 0);
    let has = |b: &[u8], s: &str| b.windows(s.len()).any(|w| w == s.as_bytes());
    assert!(has(&office, "alloggi_privati"));
    assert!(!has(&public, "alloggi_privati"));
    // The public file through the router is the public one.
    let router = app_with_heavy(state, Arc::new(heavy));
    let a = get(&router, "/api/export/tutto.gpkg").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!has(&a.body, "alloggi_privati"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_503_with_retry_after_while_health_answers() {
    let heavy = Arc::new(Heavy::new(limits(1, 0)));
    let router = app_with_heavy(small(), heavy.clone());
    let (release, blocker) = occupy(&heavy).await;

    let a = get(&router, "/api/export/comuni.gpkg").await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    let retry = a.headers.get("retry-after").expect("Retry-After");
    assert!(retry.to_str().unwrap().parse::<u64>().unwrap() > 0);
    assert_eq!(a.headers["content-type"], "application/problem+json");
    let v = a.json();
    assert_eq!(v["status"], 503);
    assert!(v["detail"].as_str().unwrap().contains("riprovare"), "{v}");
    assert_eq!(heavy.metrics().refused, 1);

    // Light routes do not wait behind heavy work.
    assert_eq!(get(&router, "/health").await.status, StatusCode::OK);
    assert_eq!(get(&router, "/api/layers").await.status, StatusCode::OK);

    release.send(()).unwrap();
    blocker.await.unwrap();
    let a = get(&router, "/api/export/comuni.gpkg").await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_layer_selections_are_heavy_work_and_small_ones_are_not() {
    let heavy = Arc::new(Heavy::new(limits(1, 0)));
    let router = app_with_heavy(demo(), heavy.clone());
    let (release, blocker) = occupy(&heavy).await;
    // Thousands of parcels: within the bound, so refused while it is full.
    let big = get(&router, "/api/layers/particelle?limit=5000").await;
    assert_eq!(big.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(big.headers.get("retry-after").is_some());
    // A few features: served at once.
    let small = get(&router, "/api/layers/particelle?limit=20").await;
    assert_eq!(small.status, StatusCode::OK);
    release.send(()).unwrap();
    blocker.await.unwrap();
    let big = get(&router, "/api/layers/particelle?limit=5000").await;
    assert_eq!(big.status, StatusCode::OK);
    assert_eq!(big.json()["features"].as_array().map(Vec::len), Some(5000));

    // The same for OGC pages, once the layer's facts are known (a small page computes them).
    let first = get(&router, "/collections/particelle/items?limit=5").await;
    assert_eq!(first.status, StatusCode::OK);
    let (release, blocker) = occupy(&heavy).await;
    let big_page = get(&router, "/collections/particelle/items?limit=5000").await;
    assert_eq!(big_page.status, StatusCode::SERVICE_UNAVAILABLE);
    let small_page = get(&router, "/collections/particelle/items?limit=50").await;
    assert_eq!(small_page.status, StatusCode::OK);
    release.send(()).unwrap();
    blocker.await.unwrap();
    let big_page = get(&router, "/collections/particelle/items?limit=5000").await;
    assert_eq!(big_page.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queued_work_of_a_dropped_request_never_starts() {
    let heavy = Arc::new(Heavy::new(limits(1, 1)));
    let router = app_with_heavy(small(), heavy.clone());
    let (release, blocker) = occupy(&heavy).await;

    let r = router.clone();
    let request = tokio::spawn(async move { get(&r, "/api/export/comuni.gpkg").await });
    until(&heavy, "the export waits for a worker", |m| m.waiting == 1).await;
    request.abort();
    assert!(request.await.unwrap_err().is_cancelled());
    assert_eq!(heavy.metrics().waiting, 0);

    release.send(()).unwrap();
    blocker.await.unwrap();
    let m = heavy.metrics();
    assert_eq!(m.started, 1, "{m:?}");
    assert_eq!(m.export_computations, 0, "{m:?}");
    assert_eq!(m.running, 0, "{m:?}");
    // Its queue place was given back.
    let a = get(&router, "/api/export/comuni.gpkg").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(heavy.metrics().export_computations, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_job_is_told_to_stop_when_its_request_is_dropped() {
    let heavy = Arc::new(Heavy::new(limits(1, 0)));
    let h = heavy.clone();
    let (tx, rx) = mpsc::channel::<bool>();
    let request = tokio::spawn(async move {
        h.run(move |cancel| {
            let start = std::time::Instant::now();
            while !cancel.is_cancelled() && start.elapsed() < BOUND {
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = tx.send(cancel.is_cancelled());
        })
        .await
    });
    until(&heavy, "the job runs", |m| m.running == 1).await;
    request.abort();
    let _ = request.await;
    let stopped = tokio::task::spawn_blocking(move || rx.recv_timeout(BOUND))
        .await
        .unwrap()
        .unwrap();
    assert!(stopped, "the job saw its cancellation");
    until(&heavy, "the job ended", |m| {
        m.running == 0 && m.cancelled == 1
    })
    .await;
    assert_eq!(heavy.metrics().finished, 0);
    // Its queue place was given back (the queue holds one job).
    assert!(heavy.run(|_| 1).await.is_ok());
}

#[test]
fn exports_stop_between_chunks_when_asked() {
    let state = demo();
    let layers = export::resolve_layers(&["tutto".into()], Audience::Pubblico).unwrap();
    assert!(matches!(
        export::tables_until(&state, &layers, &|| true),
        Err(ExportError::Interrupted)
    ));
    // Asked again after the first chunk: the parcels (more than one chunk) do not finish.
    let particelle = export::resolve_layers(&["particelle".into()], Audience::Pubblico).unwrap();
    assert!(layer_len(&state, particelle[0]) > export::ROW_CHUNK);
    let asked = std::sync::atomic::AtomicUsize::new(0);
    let stop = || asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= 1;
    assert!(matches!(
        export::tables_until(&state, &particelle, &stop),
        Err(ExportError::Interrupted)
    ));
    let tables = export::tables_until(&state, &layers[..1], &|| false).unwrap();
    assert!(matches!(
        export::encode_until(&state, &tables, Format::Xlsx, Options::default(), &|| true),
        Err(ExportError::Interrupted)
    ));
    assert!(
        export::encode_until(&state, &tables, Format::Gpkg, Options::default(), &|| false).is_ok()
    );
}

#[test]
fn plain_properties_equal_the_rendered_ones() {
    let state = demo();
    let mut plain_seen = 0;
    for layer in layers::visible(Audience::Ufficio) {
        let feats = layer_features(&state, layer, None);
        for (i, f) in feats.iter().enumerate() {
            let props = f.properties.as_ref().unwrap();
            for (k, v) in props {
                if let Some(p) = plain_property(&state, layer, i, k) {
                    assert_eq!(&p, v, "{} #{i} {k}", layer.name());
                    plain_seen += 1;
                }
            }
            assert_eq!(plain_property(&state, layer, i, "nessuna_proprieta"), None);
        }
        assert_eq!(plain_property(&state, layer, feats.len(), "comune"), None);
    }
    assert!(plain_seen > 10_000, "{plain_seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ogc_filters_read_the_records_and_render_only_what_they_must() {
    let state = demo();
    let heavy = Arc::new(Heavy::new(limits(1, 8)));
    let router = app_with_heavy(state.clone(), heavy.clone());
    let particelle = layers::layer("particelle", Audience::Pubblico).unwrap();
    let feats = layer_features(&state, particelle, None);
    assert!(feats.len() > 1_000);

    let a = get(&router, "/collections/particelle/items?foglio=999").await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    assert_eq!(v["numberMatched"], 0);
    assert_eq!(v["numberReturned"], 0);
    assert_eq!(heavy.metrics().filter_features_rendered, 0);

    // A real sheet: the same features as testing every rendered feature, none rendered.
    let prop = |f: &geojson::Feature, k: &str| f.properties.as_ref().unwrap()[k].clone();
    let foglio = prop(&feats[0], "foglio");
    let want: Vec<usize> = (0..feats.len())
        .filter(|&i| prop(&feats[i], "foglio") == foglio)
        .collect();
    let uri = format!(
        "/collections/particelle/items?foglio={}&limit=10000",
        foglio.as_str().unwrap()
    );
    let v = get(&router, &uri).await.json();
    assert_eq!(v["numberMatched"], want.len());
    let ids: Vec<Value> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["riferimento"].clone())
        .collect();
    let want_ids: Vec<Value> = want
        .iter()
        .take(10_000)
        .map(|&i| prop(&feats[i], "riferimento"))
        .collect();
    assert_eq!(ids, want_ids);
    assert_eq!(heavy.metrics().filter_features_rendered, 0);

    // A computed property (the area) still filters, by rendering the properties of the
    // candidates the plain filters left.
    let area = prop(&feats[0], "area_m2");
    let uri = format!(
        "/collections/particelle/items?foglio={}&area_m2={area}",
        foglio.as_str().unwrap()
    );
    let v = get(&router, &uri).await.json();
    let both = want
        .iter()
        .filter(|&&i| prop(&feats[i], "area_m2") == area)
        .count();
    assert!(both >= 1);
    assert_eq!(v["numberMatched"], both);
    assert_eq!(
        heavy.metrics().filter_features_rendered,
        want.len() as u64,
        "only the parcels of the sheet were rendered"
    );
}
