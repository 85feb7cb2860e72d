//! The TCP listener: accepts connections and serves the axum `Router` on each with hyper
//! (HTTP/1.1), within limits that no single slow or idle client can outlast.
//!
//! Every limit has an embedded default ([`Limits::default`]) and can be changed:
//! - **header read** (hyper's `header_read_timeout`): hyper starts this timer whenever the
//!   connection waits for a request head — at accept and again after every response — so it
//!   bounds a socket that never sends, a head trickled or left half-sent, and an idle
//!   keep-alive connection alike. On expiry hyper closes the connection without answering.
//! - **keep-alive idle**: a connection with no request being handled and no byte read or
//!   written for this long is closed. Since hyper's header timer also runs while a connection
//!   waits for its next request, an idle connection is closed after the shorter of the two;
//!   this bound also closes a client that stops reading a response.
//! - **request**: from the complete head to the response head; past it the answer is
//!   `408 Request Timeout` with `Connection: close`.
//! - **body**: size (`DefaultBodyLimit`, `413`) and stall time between two body chunks
//!   (tower-http `RequestBodyTimeoutLayer`: the handler's body extractor fails).
//! - **connections**: at most `max_connections` open at once. A connection is accepted only
//!   when a slot is free; beyond the cap new connections wait in the kernel's listen backlog
//!   ([`BACKLOG`]; they are neither refused nor answered `503`) and are accepted in order as
//!   slots free, which the bounds above guarantee within a bounded time. Past the backlog
//!   the kernel drops new SYNs and clients retry with back-off.
//! - **shutdown**: when the shutdown future resolves the listening socket is closed, every
//!   connection is asked to close after its current response, and the server waits up to
//!   `drain` for them before returning.
//!
//! Every response carries an `X-Request-Id` generated here (ids sent by clients are not
//! honoured), and every request is logged once (target `abitare::http`, level `info`):
//! method, path, query length in bytes (never the query itself), status, milliseconds to
//! the response head, request id. Client addresses are not logged.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde::Serialize;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tracing::Instrument;

use crate::model::workspace::Manifest;

/// Connections the kernel may hold completed but not yet accepted (capped by the system's
/// `net.core.somaxconn`): where clients wait when the connection cap is reached.
pub const BACKLOG: u32 = 1024;

/// The response header carrying the request id.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The bounds of the listener (module docs say what each one covers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Time to receive a complete request head, from accept or the previous response.
    pub header_read: Duration,
    /// Time a connection may stay with no request handled and no byte exchanged.
    pub keep_alive_idle: Duration,
    /// Time from the complete head to the response head.
    pub request: Duration,
    /// Time a request body may stall between two chunks.
    pub body_stall: Duration,
    /// Largest request body, in bytes.
    pub body_bytes: usize,
    /// Connections open at once.
    pub max_connections: usize,
    /// Time given to in-flight requests at shutdown.
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read: Duration::from_secs(10),
            keep_alive_idle: Duration::from_secs(5),
            request: Duration::from_secs(60),
            body_stall: Duration::from_secs(15),
            body_bytes: 1024 * 1024,
            max_connections: 512,
            drain: Duration::from_secs(10),
        }
    }
}

impl Limits {
    /// Refuses zero bounds: a zero time would close every connection, a zero cap would
    /// never accept one.
    pub fn check(&self) -> Result<(), ServeError> {
        let times = [
            ("header_read", self.header_read),
            ("keep_alive_idle", self.keep_alive_idle),
            ("request", self.request),
            ("body_stall", self.body_stall),
        ];
        if let Some((name, _)) = times.iter().find(|(_, d)| d.is_zero()) {
            return Err(ServeError::InvalidLimit(name));
        }
        if self.max_connections == 0 {
            return Err(ServeError::InvalidLimit("max_connections"));
        }
        if self.max_connections > Semaphore::MAX_PERMITS {
            return Err(ServeError::InvalidLimit("max_connections"));
        }
        Ok(())
    }
}

#[derive(Debug, Error)]
pub enum ServeError {
    #[error("impossibile ascoltare su {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("indirizzo del server non disponibile: {0}")]
    LocalAddr(#[source] io::Error),
    #[error("limite del server non valido: {0} deve essere maggiore di zero (e, per le connessioni, non enorme)")]
    InvalidLimit(&'static str),
}

/// Which workspace a server answers from, as `/health` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServedWorkspace {
    /// Build time (RFC 3339), from the manifest.
    pub creato: String,
    /// SHA-256 over the inputs' SHA-256 and sizes, sorted: equal for two builds of the same
    /// input files wherever they lie.
    pub sha256_input: String,
    pub versione_abitare: String,
}

impl ServedWorkspace {
    pub fn from_manifest(m: &Manifest) -> ServedWorkspace {
        use sha2::{Digest, Sha256};
        let mut lines: Vec<String> = m
            .input
            .iter()
            .map(|i| format!("{} {}\n", i.sha256, i.bytes))
            .collect();
        lines.sort();
        let mut h = Sha256::new();
        for l in &lines {
            h.update(l.as_bytes());
        }
        let sha256_input = h
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        ServedWorkspace {
            creato: m.creato.clone(),
            sha256_input,
            versione_abitare: m.versione_abitare.clone(),
        }
    }
}

/// Open connections, as the listener counts them.
#[derive(Debug, Default)]
pub struct Gauge {
    open: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// The most connections ever open at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    fn enter(self: &Arc<Gauge>) -> GaugeGuard {
        let now = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        GaugeGuard(self.clone())
    }
}

struct GaugeGuard(Arc<Gauge>);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A bound listening socket with its limits.
#[derive(Debug)]
pub struct Listener {
    inner: TcpListener,
    limits: Limits,
    gauge: Arc<Gauge>,
}

impl Listener {
    /// Binds `addr` with a listen backlog of [`BACKLOG`] (the standard library's 128 would
    /// leave most clients beyond the connection cap retrying their SYN with back-off).
    pub async fn bind(addr: SocketAddr, limits: Limits) -> Result<Listener, ServeError> {
        limits.check()?;
        let bind = || -> io::Result<TcpListener> {
            let socket = if addr.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            #[cfg(unix)]
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(BACKLOG)
        };
        let inner = bind().map_err(|source| ServeError::Bind { addr, source })?;
        Listener::new(inner, limits)
    }

    pub fn new(inner: TcpListener, limits: Limits) -> Result<Listener, ServeError> {
        limits.check()?;
        Ok(Listener {
            inner,
            limits,
            gauge: Arc::default(),
        })
    }

    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        self.inner.local_addr().map_err(ServeError::LocalAddr)
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The open-connection counter, readable while the server runs.
    pub fn gauge(&self) -> Arc<Gauge> {
        self.gauge.clone()
    }

    /// Serves `app` (with the request limits, id and log added) until `shutdown` resolves,
    /// then drains the open connections for at most [`Limits::drain`].
    pub async fn serve<F>(self, app: Router, shutdown: F) -> Result<(), ServeError>
    where
        F: Future<Output = ()> + Send,
    {
        let Listener {
            inner,
            limits,
            gauge,
        } = self;
        let app = with_request_limits(app, &limits);
        let slots = Arc::new(Semaphore::new(limits.max_connections));
        let graceful = GracefulShutdown::new();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read)
            .keep_alive(true);
        tokio::pin!(shutdown);
        loop {
            // A slot first, then accept: beyond the cap, connections wait in the backlog.
            let permit = tokio::select! {
                () = &mut shutdown => break,
                p = slots.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let (stream, peer) = tokio::select! {
                () = &mut shutdown => break,
                r = inner.accept() => match r {
                    Ok((stream, peer)) => (stream, peer),
                    Err(e) => {
                        accept_failed(&e).await;
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let activity = Arc::new(Activity::new());
            let io = TokioIo::new(Tracked {
                inner: stream,
                activity: activity.clone(),
            });
            let service = {
                let activity = activity.clone();
                let app = app.clone();
                hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                    req.extensions_mut().insert(ClientAddr(peer.ip()));
                    let busy = activity.busy();
                    let app = app.clone();
                    async move {
                        let res = app.oneshot(req).await;
                        drop(busy);
                        res
                    }
                })
            };
            let conn = graceful.watch(http.serve_connection(io, service));
            let open = gauge.enter();
            let idle = limits.keep_alive_idle;
            tokio::spawn(async move {
                let _slot = permit;
                let _open = open;
                tokio::select! {
                    r = conn => if let Err(e) = r {
                        tracing::debug!(target: "abitare::http", "connection closed: {e}");
                    },
                    () = idle_expired(&activity, idle) => {
                        tracing::debug!(target: "abitare::http", "connection closed after {idle:?} idle");
                    }
                }
            });
        }
        // Closing the listening socket stops accepting; connections still in the backlog
        // are reset by the kernel.
        drop(inner);
        tracing::info!(target: "abitare::http", open = gauge.open(), "shutting down: draining connections");
        match tokio::time::timeout(limits.drain, graceful.shutdown()).await {
            Ok(()) => tracing::info!(target: "abitare::http", "all connections closed"),
            Err(_) => tracing::warn!(
                target: "abitare::http",
                open = gauge.open(),
                "drain bound of {:?} reached: closing the remaining connections",
                limits.drain
            ),
        }
        Ok(())
    }
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("SIGINT handler not installed: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("SIGTERM handler not installed: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Errors that concern one connection only are skipped; others (such as running out of file
/// descriptors) are logged and retried after a pause, as axum's own loop does.
async fn accept_failed(e: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(target: "abitare::http", "accept failed: {e}");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// What the idle bound watches on one connection: requests being handled and the time of
/// the last byte read or written.
#[derive(Debug)]
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    busy: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn since_last(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }

    fn busy(self: &Arc<Activity>) -> BusyGuard {
        self.busy.fetch_add(1, Ordering::SeqCst);
        BusyGuard(self.clone())
    }
}

struct BusyGuard(Arc<Activity>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Resolves once the connection has had no request in hand and no traffic for `idle`.
async fn idle_expired(a: &Activity, idle: Duration) {
    loop {
        let since = a.since_last();
        let busy = a.busy.load(Ordering::SeqCst) > 0;
        if !busy && since >= idle {
            return;
        }
        let wait = if busy { idle } else { idle - since };
        tokio::time::sleep(wait.max(Duration::from_millis(10))).await;
    }
}

/// A TCP stream that records when bytes pass.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// `app` with the per-request limits, the request id and the request log. The log and id
/// layer is outermost, so answers of the inner limits (`408`, `413`) are logged and carry
/// an id too.
pub fn with_request_limits(app: Router, limits: &Limits) -> Router {
    app.layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(RequestBodyTimeoutLayer::new(limits.body_stall))
        .layer(middleware::from_fn_with_state(limits.request, observe))
}

/// The id of one request, as in its `X-Request-Id` (also in the request's extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// A process-wide counter behind a random per-process prefix: unique within a run,
    /// and unlikely to repeat across restarts.
    fn next() -> RequestId {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
        let prefix = *PREFIX.get_or_init(|| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(u64::from(std::process::id()));
            (h.finish() >> 32) as u32
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        RequestId(format!("{prefix:08x}-{n:012x}"))
    }
}

/// The address of the peer of the connection a request came on (the proxy's, behind one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// Times the request against `limit`, tags it with an id and logs it.
async fn observe(State(limit): State<Duration>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = RequestId::next();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query_bytes = req.uri().query().map_or(0, str::len);
    req.headers_mut().remove(X_REQUEST_ID);
    req.extensions_mut().insert(id.clone());
    let span = tracing::info_span!(target: "abitare::http", "request", request_id = %id.0);
    let mut res = match tokio::time::timeout(limit, next.run(req).instrument(span.clone())).await {
        Ok(r) => r,
        Err(_) => request_timeout(limit),
    };
    if let Ok(v) = HeaderValue::from_str(&id.0) {
        res.headers_mut().insert(X_REQUEST_ID, v);
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(
            target: "abitare::http",
            method = %method,
            path = %path,
            query_bytes,
            status = res.status().as_u16(),
            ms = format_args!("{ms:.1}"),
            "request"
        );
    });
    res
}

/// `408`: the request did not complete within the limit; the client may retry on a new
/// connection (RFC 9110 §15.5.9).
fn request_timeout(limit: Duration) -> Response {
    let body = serde_json::json!({
        "status": 408,
        "title": "Request Timeout",
        "detail": format!("richiesta non completata entro {} s: riprovare", limit.as_secs_f64()),
    });
    (
        StatusCode::REQUEST_TIMEOUT,
        [
            (header::CONTENT_TYPE, "application/problem+json"),
            (header::CONNECTION, "close"),
        ],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::workspace::InputRecord;

    #[test]
    fn defaults_are_bounded_and_valid() {
        let l = Limits::default();
        assert!(l.check().is_ok());
        assert!(l.header_read <= Duration::from_secs(30));
        assert!(l.max_connections > 0);
    }

    #[test]
    fn zero_limits_are_refused() {
        let l = Limits {
            header_read: Duration::ZERO,
            ..Limits::default()
        };
        assert!(matches!(
            l.check(),
            Err(ServeError::InvalidLimit("header_read"))
        ));
        let l = Limits {
            max_connections: 0,
            ..Limits::default()
        };
        assert!(l.check().is_err());
    }

    #[test]
    fn request_ids_differ() {
        let a = RequestId::next();
        let b = RequestId::next();
        assert_ne!(a, b);
        assert_eq!(a.0.len(), 21, "{a:?}");
    }

    #[test]
    fn input_hash_ignores_paths_and_order() {
        let rec = |path: &str, sha: &str| InputRecord {
            path: path.into(),
            bytes: 3,
            sha256: sha.into(),
        };
        let m = |input| Manifest {
            formato: "abitare-workspace".into(),
            versione_formato: 1,
            versione_abitare: "0".into(),
            creato: "2026-01-01T00:00:00Z".into(),
            ambito: "Prova".into(),
            dimostrativo: true,
            input,
            conteggi: Default::default(),
            avvisi: vec![],
            durata_ms: 0,
        };
        let a = ServedWorkspace::from_manifest(&m(vec![rec("/a/x", "aa"), rec("/a/y", "bb")]));
        let b = ServedWorkspace::from_manifest(&m(vec![rec("y", "bb"), rec("x", "aa")]));
        let c = ServedWorkspace::from_manifest(&m(vec![rec("x", "aa")]));
        assert_eq!(a.sha256_input, b.sha256_input);
        assert_ne!(a.sha256_input, c.sha256_input);
        assert_eq!(a.sha256_input.len(), 64);
    }
}
