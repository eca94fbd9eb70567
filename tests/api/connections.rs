//! The limits of the accept loop, over raw TCP: a request head that does not arrive in time
//! closes the connection (slowloris), so does a keep-alive connection that waits too long for
//! its next request, an HTTP/2 connection that goes quiet (the idle timeout), and one
//! connection more than `server.max_connections` is closed at accept while the others are
//! served.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{Backend, TestApp, wait_until};

async fn app(tweak: impl FnOnce(&mut orderhub::Config)) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |c| {
        c.dada.import_shops = Some(Vec::new());
        tweak(c);
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .expect("tcp connect")
}

/// Reads until the server closes; what it sent.
async fn until_closed(what: &str, tcp: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    if tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut seen))
        .await
        .is_err()
    {
        panic!("the server did not close {what}: {seen:?}");
    }
    seen
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: orderhub\r\n\r\n";

/// Sends a health check on `tcp` and reads the first bytes of the answer (empty: closed).
async fn health(tcp: &mut TcpStream) -> String {
    if tcp.write_all(HEALTHZ).await.is_err() {
        return String::new();
    }
    let mut buf = vec![0u8; 512];
    match tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf)).await {
        Ok(Ok(n)) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        _ => String::new(),
    }
}

#[tokio::test]
async fn slow_heads_and_idle_connections_are_closed() {
    let app = app(|c| {
        c.server.header_read_timeout_secs = 1;
        c.server.idle_timeout_secs = 1;
    })
    .await;

    // Half a request head, then nothing: closed, nothing served.
    let mut slow = connect(&app).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: orderhub\r\n")
        .await
        .unwrap();
    let seen = until_closed("a slow head", &mut slow).await;
    assert!(
        !String::from_utf8_lossy(&seen).contains("200 OK"),
        "{seen:?}"
    );

    // A served keep-alive connection that sends no next request: closed too.
    let mut idle = connect(&app).await;
    assert!(health(&mut idle).await.starts_with("HTTP/1.1 200"));
    until_closed("an idle keep-alive connection", &mut idle).await;

    // HTTP/2 (prior knowledge): the preface and SETTINGS, then silence → closed by the idle
    // timeout (with a GOAWAY frame, type 7).
    let mut h2 = connect(&app).await;
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let seen = until_closed("a quiet HTTP/2 connection", &mut h2).await;
    assert!(seen.windows(4).any(|w| w[3] == 7 && w[0] == 0), "{seen:?}");

    // The server still serves.
    let mut fresh = connect(&app).await;
    assert!(health(&mut fresh).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_at_accept() {
    const CAP: usize = 6;
    let app = app(|c| c.server.max_connections = CAP).await;
    // Open and use connections until one is refused. Background work of the server itself
    // (its sandboxes are served on the same port) may hold a place, so the refusal comes at
    // the cap or before it, never after.
    let mut served = Vec::new();
    let refused_at = loop {
        let mut tcp = connect(&app).await;
        let answer = health(&mut tcp).await;
        if answer.is_empty() {
            break served.len();
        }
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        served.push(tcp);
        assert!(
            served.len() <= CAP,
            "more than {CAP} connections served at once"
        );
    };
    assert!(refused_at >= CAP - 2, "refused after only {refused_at}");
    // Every held connection is still served.
    for tcp in &mut served {
        assert!(health(tcp).await.starts_with("HTTP/1.1 200"));
    }
    // One ends: a new one is served.
    served.pop();
    wait_until("a freed place", Duration::from_secs(10), || async {
        let mut tcp = connect(&app).await;
        let answer = health(&mut tcp).await;
        if answer.starts_with("HTTP/1.1 200") {
            Ok(tcp)
        } else {
            Err("refused")
        }
    })
    .await;
}
