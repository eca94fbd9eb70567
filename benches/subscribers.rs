//! Many subscribers, one event a second: delivery latency and the server's memory per
//! subscriber.
//!
//! `cargo bench --bench subscribers` (`BENCH_SUBSCRIBERS`, default 20000; `BENCH_EVENTS`,
//! default 20). The server is the release `orderhub` binary in its own process (SQLite in a
//! temp dir, every sandbox in-process, loopback, so no key), so its resident memory is its
//! own: read from /proc before any subscriber, and once all are subscribed. The subscribers
//! are graphql-transport-ws clients (tokio-tungstenite for the handshake and the subscribe,
//! then a plain read of the socket's bytes) in this process, each subscribed to
//! `orderStatusChanged`; once a second the bench has the 58 sandbox push an order, and each
//! subscriber notes when that order's event arrived. Latency is from the push request's
//! sending to the event's arrival at a subscriber, over every delivery.

mod common;

use std::{
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio_tungstenite::{
    MaybeTlsStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time (user + system) process `pid` has used so far.
fn cpu_time(pid: u32) -> Duration {
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name (which is in parentheses and may hold spaces).
            let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            let utime: u64 = rest.get(11)?.parse().ok()?;
            let stime: u64 = rest.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .unwrap_or(0);
    // The kernel counts in USER_HZ, 100 a second on Linux.
    Duration::from_millis(ticks * 10)
}

/// Raises this process's open-file limit (the server inherits it): to 65 536 where allowed
/// (root may raise the hard limit), else to the hard limit. Both ends of 20 000 websockets
/// need a descriptor each, one side in each process.
fn raise_nofile() {
    const WANT: u64 = 65_536;
    if rlimit::setrlimit(rlimit::Resource::NOFILE, WANT, WANT).is_err()
        && let Ok((_, hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE)
    {
        let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard);
    }
}

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(subscribers: usize) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let cap = (subscribers + 1000).to_string();
    let child = Command::new(env!("CARGO_BIN_EXE_orderhub"))
        .env("ORDERHUB_SERVER__PORT", port.to_string())
        .env(
            "ORDERHUB_DATABASE__URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("subs.db").display()),
        )
        .env("ORDERHUB_SERVER__MAX_CONNECTIONS", &cap)
        .env("ORDERHUB_WEBSOCKET__MAX_SOCKETS_PER_ADDRESS", &cap)
        .env("ORDERHUB_WEBSOCKET__MAX_SOCKETS_PER_KEY", &cap)
        .env("ORDERHUB_DAOWAY__POLL_INTERVAL_MS", "3600000")
        .env("ORDERHUB_DADA__POLL_INTERVAL_MS", "3600000")
        .env("ORDERHUB_WECHAT__POLL_INTERVAL_MS", "3600000")
        .env("ORDERHUB_DADA__IMPORT_SHOPS", "[]")
        // The subscribers read raw bytes and answer no ping (see `subscriber`).
        .env("ORDERHUB_WEBSOCKET__PING_INTERVAL_SECS", "3600")
        // Every subscriber is the one anonymous (loopback) caller: its cost budget must hold
        // them all (20 000 × 4 points; the default bucket holds 20 000 points).
        .env("ORDERHUB_LIMITS__COST_BUCKET", "1000000000")
        .env("ORDERHUB_LIMITS__COST_RESTORE_PER_SEC", "1000000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the orderhub binary starts");
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    }
}

/// One subscriber: connects, subscribes, then records the arrival of each event.
async fn subscriber(
    url: String,
    ready: tokio::sync::mpsc::Sender<bool>,
    sent: Arc<Mutex<Vec<Instant>>>,
    events: usize,
    handshake: tokio::sync::OwnedSemaphorePermit,
    ended: Arc<Mutex<std::collections::HashSet<String>>>,
) -> Vec<Duration> {
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let connect = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::connect_async(req),
    );
    let Ok(Ok((mut ws, _))) = connect.await else {
        drop(handshake);
        let _ = ready.send(false).await;
        return Vec::new();
    };
    let send = |v: Value| Message::text(v.to_string());
    let subscribed = tokio::time::timeout(Duration::from_secs(30), async {
        ws.send(send(json!({"type": "connection_init"})))
            .await
            .ok()?;
        loop {
            let m = ws.next().await?.ok()?;
            if m.to_text().is_ok_and(|t| t.contains("connection_ack")) {
                break;
            }
        }
        ws.send(send(json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription { orderStatusChanged { eventId orderId newStatus } }"
        }})))
        .await
        .ok()
    })
    .await;
    if !matches!(subscribed, Ok(Some(()))) {
        drop(handshake);
        let _ = ready.send(false).await;
        return Vec::new();
    }
    drop(handshake);
    let _ = ready.send(true).await;
    // From here on the subscriber reads the socket's bytes and counts the `next` messages in
    // them, without decoding frames: a websocket client costs more CPU per message than the
    // server does to send it, and client and server share the machine's two cores. (The
    // server's frames are not masked, so the JSON is in the bytes as sent; the bench sets the
    // server's ping interval beyond the run, so nothing needs an answer.)
    let MaybeTlsStream::Plain(mut tcp) = ws.into_inner() else {
        return Vec::new();
    };
    const NEXT: &[u8] = br#""type":"next""#;
    const ENDED: [&[u8]; 2] = [br#""type":"error""#, br#""type":"complete""#];
    let mut got = Vec::with_capacity(events);
    let mut buf = vec![0u8; 4096];
    // The end of the previous read, so a marker split across two reads is still found.
    let mut carry = 0usize;
    while got.len() < events {
        let n = match tokio::time::timeout(Duration::from_secs(120), tcp.read(&mut buf[carry..]))
            .await
        {
            Ok(Ok(n)) if n > 0 => n,
            _ => break,
        };
        let arrived = Instant::now();
        let window = &buf[..carry + n];
        let found = window.windows(NEXT.len()).filter(|w| *w == NEXT).count();
        for _ in 0..found {
            let at = sent
                .lock()
                .map(|s| s.get(got.len()).copied())
                .ok()
                .flatten();
            got.push(at.map_or(Duration::MAX, |at| arrived.duration_since(at)));
        }
        if ENDED
            .iter()
            .any(|m| window.windows(m.len()).any(|w| w == *m))
        {
            let reason = String::from_utf8_lossy(window)
                .chars()
                .take(300)
                .collect::<String>();
            if let Ok(mut seen) = ended.lock()
                && seen.insert(reason.clone())
            {
                println!("a subscription ended: {reason}");
            }
            break;
        }
        let keep = (NEXT.len() - 1).min(window.len());
        let tail = window.len() - keep;
        buf.copy_within(tail..carry + n, 0);
        carry = keep;
    }
    got
}

fn main() {
    let asked = env("BENCH_SUBSCRIBERS", 20_000);
    let events = env("BENCH_EVENTS", 20);
    raise_nofile();
    // Each process needs a descriptor per subscriber and some of its own.
    let limit = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft);
    let subscribers = asked.min(usize::try_from(limit.saturating_sub(200)).unwrap_or(asked));
    if subscribers < asked {
        println!(
            "open-file limit {limit} (and not raisable here): {subscribers} subscribers, not {asked}"
        );
    }
    let server = start_server(subscribers);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if http.get(format!("{}/healthz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let pid = server.child.id();
        let idle = common::rss_kib(pid);
        let url = format!("{}/graphql/ws", server.base.replace("http", "ws"));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(1024);
        let mut clients = Vec::with_capacity(subscribers);
        let gate = Arc::new(tokio::sync::Semaphore::new(256));
        let ended = Arc::new(Mutex::new(std::collections::HashSet::new()));
        for _ in 0..subscribers {
            let (url, ready, sent, gate, ended) =
                (url.clone(), ready_tx.clone(), sent.clone(), gate.clone(), ended.clone());
            clients.push(tokio::spawn(async move {
                // At most 256 handshakes at once (the permit goes once subscribed).
                let permit = gate.acquire_owned().await.expect("gate");
                subscriber(url, ready, sent, events, permit, ended).await
            }));
        }
        drop(ready_tx);
        let mut failed = 0usize;
        for _ in 0..subscribers {
            match ready_rx.recv().await {
                Some(true) => {}
                Some(false) => failed += 1,
                None => break,
            }
        }
        if failed > 0 {
            println!("{failed} subscribers could not connect or subscribe within 30 s");
        }
        // Let the server settle its buffers before reading its memory.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let subscribed = common::rss_kib(pid);
        let push = format!("{}/sandbox/daojia58/_control/push", server.base);
        let cpu_before = cpu_time(pid);
        let own_before = cpu_time(std::process::id());
        for _ in 0..events {
            let tick = Instant::now();
            if let Ok(mut s) = sent.lock() {
                s.push(tick);
            }
            let r = http.post(&push).json(&json!({})).send().await.expect("push");
            assert!(r.status().is_success(), "push: {}", r.status());
            tokio::time::sleep_until((tick + Duration::from_secs(1)).into()).await;
        }
        let mut all = Vec::new();
        let mut short = 0usize;
        // Every event has reached every subscriber or its wait ended.
        let clients: Vec<_> = futures::future::join_all(clients).await;
        let server_cpu = cpu_time(pid).saturating_sub(cpu_before);
        let client_cpu = cpu_time(std::process::id()).saturating_sub(own_before);
        for c in clients {
            let got = c.unwrap_or_default();
            if got.len() < events {
                short += 1;
            }
            all.extend(got);
        }
        all.sort_unstable();
        let at = |p: f64| all.get(((all.len().max(1) - 1) as f64 * p) as usize).copied().unwrap_or_default();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let per = (subscribed.saturating_sub(idle) as f64) / subscribers as f64;
        println!("subscribers: {subscribers}, events: {events} (one a second)");
        println!(
            "deliveries: {} of {} ({short} subscribers missed some); latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            all.len(),
            subscribers * events,
            ms(at(0.5)),
            ms(at(0.99)),
            ms(all.last().copied().unwrap_or_default()),
        );
        println!(
            "server CPU while delivering: {:.2} s, {:.1} µs per delivery",
            server_cpu.as_secs_f64(),
            server_cpu.as_secs_f64() * 1e6 / all.len().max(1) as f64,
        );
        println!(
            "the subscribers' own CPU (this process, same two cores): {:.2} s, {:.1} µs per delivery",
            client_cpu.as_secs_f64(),
            client_cpu.as_secs_f64() * 1e6 / all.len().max(1) as f64,
        );
        println!(
            "server RSS: {idle} KiB idle, {subscribed} KiB with every subscriber: {per:.1} KiB per subscriber"
        );
    });
}
