//! The real listener (`server::listen`) on 127.0.0.1 against raw TCP clients that are slow,
//! silent or idle. The limits are short (1 s); every check waits with a generous bound (5 s)
//! and asserts only that the server closed or answered within it, never how fast.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use abitare::analysis::Analisi;
use abitare::server::listen::{Gauge, Limits, Listener, ServeError};
use axum::body::Bytes;
use axum::routing::{get, post};
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// How long any single wait may take; a 1 s limit must act well within it.
const BOUND: Duration = Duration::from_secs(5);
/// A whole test may not take longer than this.
const TEST_BOUND: Duration = Duration::from_secs(30);

fn short() -> Limits {
    Limits {
        header_read: Duration::from_secs(1),
        keep_alive_idle: Duration::from_secs(1),
        request: Duration::from_secs(1),
        body_stall: Duration::from_secs(1),
        body_bytes: 1024,
        max_connections: 8,
        drain: Duration::from_secs(5),
    }
}

struct Running {
    addr: SocketAddr,
    gauge: Arc<Gauge>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServeError>>,
}

impl Running {
    /// Triggers the shutdown future, as SIGTERM does, and waits for the server to return.
    async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        timeout(BOUND * 2, self.task)
            .await
            .expect("server returned within the drain bound")
            .expect("server task")
    }
}

/// The application router with a slow route (which signals when entered) and a route that
/// reads a body.
fn router(entered: Arc<Notify>) -> Router {
    let m = common::two_comuni_model();
    abitare::server::app(Arc::new(Analisi::from_model(m)))
        .route(
            "/lento",
            get(move || {
                let entered = entered.clone();
                async move {
                    entered.notify_one();
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    "fatto"
                }
            }),
        )
        .route("/eco", post(|b: Bytes| async move { b }))
}

async fn start_with(limits: Limits, app: Router) -> Running {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    let listener = Listener::bind(any, limits).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let gauge = listener.gauge();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(listener.serve(app, async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        gauge,
        stop: Some(tx),
        task,
    }
}

async fn start(limits: Limits) -> Running {
    start_with(limits, router(Arc::new(Notify::new()))).await
}

async fn connect(addr: SocketAddr) -> TcpStream {
    timeout(BOUND, TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .expect("connect")
}

/// Reads until the peer closes (EOF or reset) and returns what came before; panics if the
/// connection is still open after [`BOUND`].
async fn closed_within_bound(s: &mut TcpStream, what: &str) -> Vec<u8> {
    let mut got = Vec::new();
    let r = timeout(BOUND, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(r.is_ok(), "{what}: still open after {BOUND:?}");
    got
}

/// An HTTP/1.1 response read off a socket: status, header block, body.
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

async fn read_answer(s: &mut TcpStream) -> Answer {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut chunk).await.expect("read head");
        assert!(
            n > 0,
            "closed before a complete answer: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    let mut a = Answer {
        status,
        head,
        body: buf[head_end + 4..].to_vec(),
    };
    let len: usize = a
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .expect("content-length");
    while a.body.len() < len {
        let n = s.read(&mut chunk).await.expect("read body");
        assert!(n > 0, "closed inside the body");
        a.body.extend_from_slice(&chunk[..n]);
    }
    a
}

/// One request on a fresh connection.
async fn request(addr: SocketAddr, raw: &str) -> Answer {
    let mut s = connect(addr).await;
    s.write_all(raw.as_bytes()).await.expect("write");
    timeout(BOUND, read_answer(&mut s))
        .await
        .expect("answer in time")
}

fn get_req(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

/// `/health` answers on a fresh connection.
async fn health_ok(addr: SocketAddr) {
    let a = request(addr, &get_req("/health")).await;
    assert_eq!(a.status, 200, "{}", a.head);
    let v: serde_json::Value = serde_json::from_slice(&a.body).expect("json");
    assert_eq!(v["stato"], "ok");
}

#[tokio::test]
async fn trickled_headers_are_cut() {
    timeout(TEST_BOUND, async {
        let srv = start(short()).await;
        let s = connect(srv.addr).await;
        let (mut rd, mut wr) = s.into_split();
        // One byte every 300 ms: always some traffic, never a complete head.
        let writer = tokio::spawn(async move {
            for b in b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Lento: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
                if wr.write_all(&[*b]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        });
        health_ok(srv.addr).await;
        let mut got = Vec::new();
        let r = timeout(BOUND, rd.read_to_end(&mut got)).await;
        assert!(r.is_ok(), "trickling client still connected after {BOUND:?}");
        let text = String::from_utf8_lossy(&got);
        assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
        writer.abort();
        health_ok(srv.addr).await;
        srv.shutdown().await.expect("shutdown");
    })
    .await
    .expect("test bound");
}

#[tokio::test]
async fn partial_headers_then_silence_are_closed() {
    timeout(TEST_BOUND, async {
        let srv = start(short()).await;
        let mut s = connect(srv.addr).await;
        s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
            .await
            .expect("write");
        health_ok(srv.addr).await;
        let got = closed_within_bound(&mut s, "partial head").await;
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 408"),
            "{text}"
        );
        srv.shutdown().await.expect("shutdown");
    })
    .await
    .expect("test bound");
}

#[tokio::test]
async fn silent_socket_is_closed() {
    timeout(TEST_BOUND, async {
        let srv = start(short()).await;
        let mut s = connect(srv.addr).await;
        health_ok(srv.addr).await;
        let got = closed_within_bound(&mut s, "silent socket").await;
        assert!(got.is_empty() || got.starts_with(b"HTTP/1.1 408"));
        srv.shutdown().await.expect("shutdown");
    })
    .await
    .expect("test bound");
}

#[tokio::test]
async fn idle_keep_alive_is_closed() {
    timeout(TEST_BOUND, async {
        let srv = start(short()).await;
        let mut s = connect(srv.addr).await;
        // Two requests on one connection: keep-alive works...
        for _ in 0..2 {
            s.write_all(get_req("/health").as_bytes())
                .await
                .expect("write");
            let a = timeout(BOUND, read_answer(&mut s)).await.expect("answer");
            assert_eq!(a.status, 200);
        }
        // ...and the idle connection is then closed.
        health_ok(srv.addr).await;
        let got = closed_within_bound(&mut s, "idle keep-alive").await;
        assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
        srv.shutdown().await.expect("shutdown");
    })
    .await
    .expect("test bound");
}

#[tokio::test]
async fn full_cap_waits_for_idle_sockets_to_be_dropped() {
    timeout(TEST_BOUND, async {
        let limits = short();
        let cap = limits.max_connections;
        let srv = start(limits).await;
        let mut idle = Vec::new();
        for _ in 0..cap {
            idle.push(connect(srv.addr).await);
        }
        // Wait until the listener has accepted them all.
        timeout(BOUND, async {
            while srv.gauge.open() < cap {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("all idle sockets accepted");
        // One more client: it waits in the backlog, then is served once the idle sockets
        // are dropped by the header/idle bound.
        let mut late = connect(srv.addr).await;
        late.write_all(get_req("/health").as_bytes())
            .await
            .expect("write");
        let a = timeout(BOUND, read_answer(&mut late))
            .await
            .expect("the late client is served within the bound");
        assert_eq!(a.status, 200);
        // It was served only after every idle socket had been closed.
        for (i, s) in idle.iter_mut().enumerate() {
            let got = closed_within_bound(s, &format!("idle socket {i}")).await;
            assert!(got.is_empty());
        }
        assert!(
            srv.gauge.peak() <= cap,
            "{} connections served at once, cap {cap}",
            srv.gauge.peak()
        );
        health_ok(srv.addr).await;
        assert!(srv.gauge.peak() <= cap);
        srv.shutdown().await.expect("shutdown");
    })
    .await
    .expect("test bound");
}

#[tokio::test]
async fn health_answers_while_slow_clients_hold_connections() {
    timeout(TEST_BOUND, async {
        let srv = start(short()).await;
        let mut held = Vec::new();
        for i in 0..5 {
            let mut s = connect(srv.addr).await;
            if i % 2 == 0 {
                s.write_all(b"GET /health HTTP/1.1\r\nHo")
                    .await
                    .expect("write");
            }
            held.push(s);
        }
        for _ in 0..3 {
            health_ok(srv.addr).await;
        }
        let v: serde_json::Value =
            serde_json::from_slice(&request(srv.addr, &get_req("/health")).await.body)
                .expect("json");
        // Served through `Listener` alone, without a workspace: the key is there, empty.
        assert!(v.get("workspace").is_some_and(|w| w.is_null()), "{v}");
        srv.shutdown().await.expect("shutdown");
    })
    .await
    .expect("test bound");
}

#[tokio::test]
async fn shutdown_drains_a_request_in_flight() {
    timeout(TEST_BOUND, async {
        let entered = Arc::new(Notify::new());
        let limits = Limits {
            request: Duration::from_secs(10),
            ..short()
        };
        let srv = start_with(limits, router(entered.clone())).await;
        let addr = srv.addr;
        let mut s = connect(addr).await;
        s.write_all(get_req("/lento").as_bytes())
            .await
            .expect("write");
        timeout(BOUND, entered.notified())
            .await
            .expect("slow handler entered");
        let reader = tokio::spawn(async move { timeout(BOUND, read_answer(&mut s)).await });
        // Shut down while the request is in flight: it still gets its answer.
        srv.shutdown().await.expect("shutdown returns Ok");
        let a = reader
            .await
            .expect("reader")
            .expect("answer within the bound");
        assert_eq!(a.status, 200);
        assert_eq!(a.body, b"fatto");
        // No longer accepting.
        match timeout(BOUND, TcpStream::connect(addr)).await {
            Ok(Err(_)) => {}
            Ok(Ok(mut late)) => {
                let _ = late.write_all(get_req("/health").as_bytes()).await;
                let got = closed_within_bound(&mut late, "connection after shutdown").await;
                assert!(got.is_empty(), "served after shutdown");
            }
            Err(_) => panic!("connect after shutdown hung"),
        }
    })
    .await
    .expect("test bound");
}

#[tokio::test]
async fn slow_handler_is_answered_408() {
    timeout(TEST_BOUND, async {
        let srv = start(short()).await;
        let a = request(srv.addr, &get_req("/lento")).await;
        assert_eq!(a.status, 408);
        assert_eq!(a.header("connection").as_deref(), Some("close"));
        assert!(a.header("x-request-id").is_some());
        let v: serde_json::Value = serde_json::from_slice(&a.body).expect("problem json");
        assert_eq!(v["status"], 408);
        srv.shutdown().await.expect("shutdown");
    })
    .await
    .expect("test bound");
}

#[tokio::test]
async fn request_bodies_are_bounded_in_size_and_time() {
    timeout(TEST_BOUND, async {
        let srv = start(short()).await;
        let small = "POST /eco HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nciao!";
        let a = request(srv.addr, small).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.body, b"ciao!");
        let big = format!(
            "POST /eco HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4096\r\n\r\n{}",
            "x".repeat(4096)
        );
        assert_eq!(request(srv.addr, &big).await.status, 413);
        // A body that stalls: refused or closed within the bound.
        let mut s = connect(srv.addr).await;
        s.write_all(b"POST /eco HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nabc")
            .await
            .expect("write");
        let got = closed_within_bound(&mut s, "stalled body").await;
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 4"),
            "stalled body answered {text}"
        );
        srv.shutdown().await.expect("shutdown");
    })
    .await
    .expect("test bound");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    timeout(TEST_BOUND, async {
        let srv = start(short()).await;
        let mut ids = Vec::new();
        for path in [
            "/health",
            "/api/layers",
            "/api/layers/sconosciuto",
            "/non-esiste.txt",
            "/api/layers/comuni?bbox=1,2",
        ] {
            let raw = format!(
                "GET {path} HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: dal-client\r\n\r\n"
            );
            let a = request(srv.addr, &raw).await;
            let id = a
                .header("x-request-id")
                .unwrap_or_else(|| panic!("{path} ({}): no X-Request-Id", a.status));
            assert_ne!(id, "dal-client", "a client's id is not honoured");
            ids.push(id);
        }
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "ids repeat: {ids:?}");
        srv.shutdown().await.expect("shutdown");
    })
    .await
    .expect("test bound");
}
