//! CPU-heavy work of the server: whole-layer exports, the first computation of an OGC
//! layer's facts, the preparation of the tile source.
//!
//! - **Bound.** Every heavy job runs in `spawn_blocking` behind two semaphores: `workers`
//!   jobs run at once and at most `queue` more wait for a worker. A job that finds the queue
//!   full is refused at once with `503 Service Unavailable`, `Retry-After` and an Italian
//!   problem document. Light routes (`/health`, the map, pages of features) never take a
//!   permit, so they never wait behind heavy work.
//! - **Done once.** Export files are memoised per (audience, layers, format, options) of the
//!   loaded workspace: the first request computes the bytes, identical requests arriving
//!   meanwhile wait for that computation (a `OnceCell` per key), later ones get the cached
//!   [`Bytes`]. The cache is an LRU bounded in bytes; a file larger than the bound is served
//!   but not kept. The audience is part of the key, so a file holding restricted layers is
//!   never served to a narrower audience from the cache.
//! - **Stopped when the client leaves.** When the request future is dropped (the client
//!   went away), a job still waiting for a worker never starts (its queue place is freed at
//!   once); a running job is told through its [`Cancel`] flag, which the exports ask between
//!   layers and every [`crate::output::export::ROW_CHUNK`] rows, and gives its queue place
//!   back at once. Work between two checks (one chunk of rows, or the encoding of one layer,
//!   for XLSX the final compression of the workbook) is finished and dropped. If the
//!   computing request of an export leaves, a request waiting for the same file starts its own
//!   computation.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lru::LruCache;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

use super::ApiError;
use crate::analysis::Analisi;
use crate::output::export::{self, ExportError, Format, Options};
use crate::output::layers::{Audience, Layer};

/// Bounds of heavy work; [`HeavyLimits::from_env`] reads `ABITARE_HEAVY_WORKERS`,
/// `ABITARE_HEAVY_QUEUE` and `ABITARE_EXPORT_CACHE_MB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeavyLimits {
    /// Heavy jobs running at once.
    pub workers: usize,
    /// Heavy jobs waiting for a worker; one more is refused with `503`.
    pub queue: usize,
    /// Bytes of export files kept (`0`: none is kept, identical concurrent requests still
    /// share one computation).
    pub export_cache_bytes: usize,
    /// Seconds in the `Retry-After` of a refusal.
    pub retry_after_s: u64,
}

impl Default for HeavyLimits {
    /// One core is left to light routes: `workers` is the number of cores less one (at least
    /// 1, at most 4); 8 jobs may wait; 256 MB of export files are kept.
    fn default() -> HeavyLimits {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        HeavyLimits {
            workers: cores.saturating_sub(1).clamp(1, 4),
            queue: 8,
            export_cache_bytes: 256 << 20,
            retry_after_s: 5,
        }
    }
}

impl HeavyLimits {
    /// The defaults, with what the environment sets.
    pub fn from_env() -> HeavyLimits {
        let d = HeavyLimits::default();
        let var = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
        };
        HeavyLimits {
            workers: var("ABITARE_HEAVY_WORKERS").unwrap_or(d.workers).max(1),
            queue: var("ABITARE_HEAVY_QUEUE").unwrap_or(d.queue),
            export_cache_bytes: var("ABITARE_EXPORT_CACHE_MB")
                .map(|mb| mb.saturating_mul(1 << 20))
                .unwrap_or(d.export_cache_bytes),
            retry_after_s: d.retry_after_s,
        }
    }
}

/// Counters of heavy work since the router was built.
#[derive(Debug, Default)]
struct Counters {
    waiting: AtomicU64,
    running: AtomicU64,
    started: AtomicU64,
    finished: AtomicU64,
    cancelled: AtomicU64,
    refused: AtomicU64,
    export_computations: AtomicU64,
    export_cache_hits: AtomicU64,
    filter_features_rendered: AtomicU64,
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeavyMetrics {
    /// Jobs admitted and waiting for a worker now.
    pub waiting: u64,
    /// Jobs running now.
    pub running: u64,
    /// Jobs that started running.
    pub started: u64,
    /// Jobs that ran to their end for a client still waiting.
    pub finished: u64,
    /// Jobs whose client left: never started, or told to stop while running.
    pub cancelled: u64,
    /// Requests refused with `503` because the queue was full.
    pub refused: u64,
    /// Export files computed (started encoding).
    pub export_computations: u64,
    /// Export requests answered from the cache.
    pub export_cache_hits: u64,
    /// Features rendered by OGC items requests to test property filters that cannot be read
    /// from the model records.
    pub filter_features_rendered: u64,
}

/// Why heavy work gave no result.
#[derive(Debug, thiserror::Error)]
pub enum HeavyError {
    #[error("troppe elaborazioni in corso")]
    Busy { retry_after_s: u64 },
    /// The client left; nobody reads the answer.
    #[error("elaborazione interrotta")]
    Cancelled,
    #[error("esportazione: {0}")]
    Export(ExportError),
    #[error("elaborazione fallita: {0}")]
    Failed(String),
}

impl From<ExportError> for HeavyError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Interrupted => HeavyError::Cancelled,
            e => HeavyError::Export(e),
        }
    }
}

impl IntoResponse for HeavyError {
    fn into_response(self) -> Response {
        match self {
            HeavyError::Busy { retry_after_s } => {
                let mut r = ApiError {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    detail: format!(
                        "il server sta già preparando troppe esportazioni o elaborazioni \
                         pesanti; riprovare tra {retry_after_s} secondi"
                    ),
                }
                .into_response();
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
                r
            }
            HeavyError::Export(ExportError::UnknownLayer { name, available }) => {
                ApiError::not_found(format!(
                    "layer sconosciuto o non esportabile: {name:?} (disponibili: {available})"
                ))
                .into_response()
            }
            HeavyError::Export(
                e @ (ExportError::UnknownCrs(_)
                | ExportError::UnknownComune { .. }
                | ExportError::LonLatNeedsDegrees(_)
                | ExportError::UnknownCsvDialect(_)
                | ExportError::UnknownGeometryMode(_)),
            ) => ApiError::bad_request(e.to_string()).into_response(),
            // Cancelled: the client is gone and never reads this.
            e => ApiError::internal(e).into_response(),
        }
    }
}

/// The error of a route that may be refused for heavy work (`503` with `Retry-After`) as
/// well as fail as any route does.
#[derive(Debug)]
pub enum Refusal {
    Api(ApiError),
    Heavy(HeavyError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl From<HeavyError> for Refusal {
    fn from(e: HeavyError) -> Self {
        Refusal::Heavy(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Api(e) => e.into_response(),
            Refusal::Heavy(e) => e.into_response(),
        }
    }
}

/// Set when the request that waits for a job is dropped; the job asks it between chunks.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Lives in the request future: when the future is dropped before the job is done, the job
/// is cancelled and its queue place given back.
struct OnDrop {
    cancel: Cancel,
    place: Arc<Mutex<Option<OwnedSemaphorePermit>>>,
    armed: bool,
}

impl Drop for OnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.cancel.0.store(true, Ordering::Relaxed);
            if let Ok(mut p) = self.place.lock() {
                p.take();
            }
        }
    }
}

/// Adds one to a gauge for as long as it lives.
struct Gauge<'a>(&'a AtomicU64);

impl<'a> Gauge<'a> {
    fn enter(g: &'a AtomicU64) -> Gauge<'a> {
        g.fetch_add(1, Ordering::Relaxed);
        Gauge(g)
    }
}

impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The key of a memoised export file. The audience is part of it: the same layer names
/// resolve to different files for different audiences.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExportKey {
    audience: Audience,
    layers: Vec<&'static str>,
    format: &'static str,
    /// Only for CSV, the one format that reads them: geometry and dialect.
    csv: Option<(&'static str, &'static str)>,
    /// EPSG code of the coordinates.
    crs: u16,
    /// ISTAT code of the comune the rows are restricted to.
    comune: Option<String>,
}

impl ExportKey {
    /// The key of the file of `layers` (already resolved for `audience`) in `format`, in the
    /// CRS of `options`, restricted to `comune` when given.
    pub fn new(
        layers: &[Layer],
        format: Format,
        options: Options,
        audience: Audience,
        comune: Option<&str>,
    ) -> Self {
        ExportKey {
            audience,
            layers: layers.iter().map(|l| l.name()).collect(),
            format: format.name(),
            csv: (format == Format::Csv)
                .then_some((options.csv_geometry.name(), options.csv_dialect.name())),
            crs: options.crs,
            comune: comune.map(str::to_string),
        }
    }

    pub fn audience(&self) -> Audience {
        self.audience
    }
}

type Slot = Arc<OnceCell<Bytes>>;

struct ExportCache {
    /// The workspace the entries were computed from.
    workspace: Weak<Analisi>,
    lru: LruCache<ExportKey, Slot>,
}

/// Heavy work of one router: the bound, the export cache, the counters. The router keeps
/// one as an extension; [`super::app_with`] takes one the caller can inspect.
pub struct Heavy {
    limits: HeavyLimits,
    workers: Arc<Semaphore>,
    places: Arc<Semaphore>,
    counters: Arc<Counters>,
    exports: Mutex<ExportCache>,
}

impl std::fmt::Debug for Heavy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heavy")
            .field("limits", &self.limits)
            .field("metrics", &self.metrics())
            .finish()
    }
}

impl Default for Heavy {
    fn default() -> Self {
        Heavy::new(HeavyLimits::default())
    }
}

impl Heavy {
    pub fn new(limits: HeavyLimits) -> Heavy {
        let workers = limits.workers.max(1);
        Heavy {
            limits,
            workers: Arc::new(Semaphore::new(workers)),
            places: Arc::new(Semaphore::new(workers.saturating_add(limits.queue))),
            counters: Arc::new(Counters::default()),
            exports: Mutex::new(ExportCache {
                workspace: Weak::new(),
                lru: LruCache::unbounded(),
            }),
        }
    }

    pub fn limits(&self) -> HeavyLimits {
        self.limits
    }

    pub fn metrics(&self) -> HeavyMetrics {
        let c = &self.counters;
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        HeavyMetrics {
            waiting: l(&c.waiting),
            running: l(&c.running),
            started: l(&c.started),
            finished: l(&c.finished),
            cancelled: l(&c.cancelled),
            refused: l(&c.refused),
            export_computations: l(&c.export_computations),
            export_cache_hits: l(&c.export_cache_hits),
            filter_features_rendered: l(&c.filter_features_rendered),
        }
    }

    /// Counts features rendered to test property filters.
    pub(super) fn count_filter_renders(&self, n: usize) {
        self.counters
            .filter_features_rendered
            .fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Runs `job` on a blocking thread within the bound: refused at once with
    /// [`HeavyError::Busy`] when the queue is full, and never started if the returned future
    /// is dropped while it waits for a worker. `job` should stop early once its [`Cancel`]
    /// is set (the future was dropped while it ran).
    pub async fn run<T, F>(&self, job: F) -> Result<T, HeavyError>
    where
        T: Send + 'static,
        F: FnOnce(&Cancel) -> T + Send + 'static,
    {
        let Ok(place) = self.places.clone().try_acquire_owned() else {
            self.counters.refused.fetch_add(1, Ordering::Relaxed);
            return Err(HeavyError::Busy {
                retry_after_s: self.limits.retry_after_s,
            });
        };
        let place = Arc::new(Mutex::new(Some(place)));
        let mut on_drop = OnDrop {
            cancel: Cancel::default(),
            place: place.clone(),
            armed: true,
        };
        let worker = {
            let _waiting = Gauge::enter(&self.counters.waiting);
            // A dropped future here frees the queue place; the job was never spawned.
            self.workers.clone().acquire_owned().await
        };
        let Ok(worker) = worker else {
            return Err(HeavyError::Failed("semaforo chiuso".into()));
        };
        let cancel = on_drop.cancel.clone();
        let counters = self.counters.clone();
        let handle = tokio::task::spawn_blocking(move || {
            let _worker = worker;
            let _place = place;
            if cancel.is_cancelled() {
                counters.cancelled.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            counters.started.fetch_add(1, Ordering::Relaxed);
            let out = {
                let _running = Gauge::enter(&counters.running);
                job(&cancel)
            };
            if cancel.is_cancelled() {
                counters.cancelled.fetch_add(1, Ordering::Relaxed);
            } else {
                counters.finished.fetch_add(1, Ordering::Relaxed);
            }
            Some(out)
        });
        let out = handle.await;
        on_drop.armed = false;
        match out {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(HeavyError::Cancelled),
            Err(e) => Err(HeavyError::Failed(e.to_string())),
        }
    }

    /// The slot of `key` for the workspace `state` (a new workspace empties the cache).
    fn slot(&self, state: &Arc<Analisi>, key: &ExportKey) -> Slot {
        let mut c = match self.exports.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        if !c
            .workspace
            .upgrade()
            .is_some_and(|w| Arc::ptr_eq(&w, state))
        {
            c.lru.clear();
            c.workspace = Arc::downgrade(state);
        }
        if let Some(s) = c.lru.get(key) {
            return s.clone();
        }
        let s = Slot::default();
        c.lru.put(key.clone(), s.clone());
        s
    }

    /// Drops least recently used files until the cache is within its bound.
    fn trim(&self) {
        let mut c = match self.exports.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        let size = |s: &Slot| s.get().map_or(0, Bytes::len);
        let mut total: usize = c.lru.iter().map(|(_, s)| size(s)).sum();
        while total > self.limits.export_cache_bytes {
            match c.lru.pop_lru() {
                Some((_, s)) => total -= size(&s),
                None => break,
            }
        }
    }

    /// Bytes of cached export files.
    pub fn export_cache_bytes(&self) -> usize {
        match self.exports.lock() {
            Ok(c) => c
                .lru
                .iter()
                .map(|(_, s)| s.get().map_or(0, Bytes::len))
                .sum(),
            Err(_) => 0,
        }
    }

    /// The export file of `layers` in `format` for `audience` (only the rows of the comune
    /// whose ISTAT code is `comune`, when given): from the cache, from the computation an
    /// identical request already started, or computed now within the bound.
    pub async fn export(
        &self,
        state: &Arc<Analisi>,
        layers: &[String],
        format: Format,
        options: Options,
        audience: Audience,
        comune: Option<&str>,
    ) -> Result<Bytes, HeavyError> {
        let resolved = export::resolve_layers(layers, audience)?;
        options.check(format)?;
        if let Some(c) = comune {
            export::comune(state, c)?;
        }
        let key = ExportKey::new(&resolved, format, options, audience, comune);
        let comune = comune.map(str::to_string);
        let slot = self.slot(state, &key);
        if let Some(b) = slot.get() {
            self.counters
                .export_cache_hits
                .fetch_add(1, Ordering::Relaxed);
            return Ok(b.clone());
        }
        let bytes = slot
            .get_or_try_init(|| {
                let state = state.clone();
                let counters = self.counters.clone();
                async move {
                    let out = self
                        .run(move |cancel| {
                            counters.export_computations.fetch_add(1, Ordering::Relaxed);
                            let stop = || cancel.is_cancelled();
                            let comune = comune
                                .as_deref()
                                .map(|c| export::comune(&state, c))
                                .transpose()?;
                            let tables = export::tables_in(&state, &resolved, comune, &stop)?;
                            export::encode_until(&state, &tables, format, options, &stop)
                        })
                        .await??;
                    Ok::<_, HeavyError>(Bytes::from(out))
                }
            })
            .await?
            .clone();
        self.trim();
        Ok(bytes)
    }
}
