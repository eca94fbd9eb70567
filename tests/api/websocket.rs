//! graphql-ws as the protocol defines it, over a real socket: the close codes (4400 invalid
//! message, 4401 subscribe before init, 4403 refused key, 4406 other subprotocol, 4408 init
//! timeout, 4409 duplicate id, 4429 second init or a key's socket cap), `error` for a document
//! refused before it runs, the per-socket operation cap, the per-address cap at the upgrade,
//! server pings that keep a quiet client open and close a silent one, and 1001 at shutdown.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::helpers::{Backend, TestApp, wait_until};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn app(tweak: impl FnOnce(&mut orderhub::Config)) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |c| {
        c.dada.import_shops = Some(Vec::new());
        tweak(c);
    })
    .await
}

/// A socket speaking `protocol` (None: no subprotocol named), or the HTTP status refusing it.
async fn open(app: &TestApp, protocol: Option<&str>) -> Result<Socket, u16> {
    let url = format!("{}/graphql/ws", app.base.replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    if let Some(p) = protocol {
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", p.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("ws connect: {e}"),
    }
}

async fn socket(app: &TestApp) -> Socket {
    open(app, Some("graphql-transport-ws"))
        .await
        .expect("upgrade")
}

async fn send(ws: &mut Socket, m: Value) {
    ws.send(Message::text(m.to_string())).await.expect("send");
}

/// The next protocol message, or `{"type": "closed", "code": …, "reason": …}`.
async fn recv(ws: &mut Socket) -> Value {
    tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
                Some(Ok(Message::Close(f))) => {
                    return json!({
                        "type": "closed",
                        "code": f.as_ref().map(|f| u16::from(f.code)),
                        "reason": f.as_ref().map(|f| f.reason.to_string()),
                    });
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return json!({"type": "closed", "code": null}),
            }
        }
    })
    .await
    .expect("a message within 15 s")
}

async fn init(ws: &mut Socket, payload: Value) -> Value {
    send(ws, json!({"type": "connection_init", "payload": payload})).await;
    recv(ws).await
}

async fn acked(app: &TestApp) -> Socket {
    let mut ws = socket(app).await;
    assert_eq!(init(&mut ws, json!({})).await["type"], "connection_ack");
    ws
}

/// The code the server closes `ws` with after `m`.
async fn closes_with(ws: &mut Socket, m: Message) -> Option<u64> {
    ws.send(m).await.expect("send");
    loop {
        let got = recv(ws).await;
        if got["type"] == "closed" {
            return got["code"].as_u64();
        }
    }
}

#[tokio::test]
async fn the_protocol_close_codes() {
    let app = app(|c| c.websocket.init_timeout_secs = 1).await;

    // Subscribe before init → 4401; invalid messages → 4400; another subprotocol → 4406.
    let sub = json!({"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }"}});
    let mut ws = socket(&app).await;
    assert_eq!(
        closes_with(&mut ws, Message::text(sub.to_string())).await,
        Some(4401)
    );
    for bad in [
        Message::text("{not json"),
        Message::text(json!({"type": "start", "id": "1"}).to_string()),
        Message::text(json!({"type": "subscribe", "id": "1", "payload": {}}).to_string()),
        Message::text(json!({"type": "subscribe", "payload": {"query": "{ a }"}}).to_string()),
        Message::binary(vec![1, 2, 3]),
    ] {
        let mut ws = acked(&app).await;
        assert_eq!(
            closes_with(&mut ws, bad.clone()).await,
            Some(4400),
            "{bad:?}"
        );
    }
    let mut raw = raw_upgrade(&app, "graphql-ws").await;
    assert_eq!(close_code_at_end(&mut raw).await, Some(4406));

    // A second init → 4429; a reused id of a running operation → 4409.
    let mut ws = acked(&app).await;
    assert_eq!(
        closes_with(
            &mut ws,
            Message::text(json!({"type": "connection_init"}).to_string())
        )
        .await,
        Some(4429)
    );
    let long = json!({"type": "subscribe", "id": "s", "payload": {"query": "subscription { orderStatusChanged { eventId } }"}});
    let mut ws = acked(&app).await;
    send(&mut ws, long.clone()).await;
    assert_eq!(
        closes_with(&mut ws, Message::text(long.to_string())).await,
        Some(4409)
    );

    // No init within websocket.init_timeout_secs → 4408 (waiting for the close itself).
    let mut ws = socket(&app).await;
    let got = recv(&mut ws).await;
    assert_eq!(got["code"], 4408, "{got}");

    // A client that names no subprotocol is spoken to in graphql-transport-ws.
    let mut ws = open(&app, None).await.expect("upgrade");
    assert_eq!(init(&mut ws, json!({})).await["type"], "connection_ack");
}

#[tokio::test]
async fn operations_errors_and_the_per_socket_cap() {
    let app = app(|c| c.websocket.max_subscriptions_per_socket = 2).await;
    let mut ws = acked(&app).await;

    // A query runs: next, then complete. A document that does not parse or validate: one
    // `error` message with codes, no `next`, and the socket stays up.
    send(
        &mut ws,
        json!({"type": "subscribe", "id": "q", "payload": {"query": "{ __typename }"}}),
    )
    .await;
    let next = recv(&mut ws).await;
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(next["payload"]["data"]["__typename"], "Query");
    assert_eq!(recv(&mut ws).await, json!({"type": "complete", "id": "q"}));
    for bad in ["{ __typename", "{ noSuchField }"] {
        send(
            &mut ws,
            json!({"type": "subscribe", "id": "bad", "payload": {"query": bad}}),
        )
        .await;
        let got = recv(&mut ws).await;
        assert_eq!(got["type"], "error", "{got}");
        assert_eq!(got["id"], "bad");
        assert!(got["payload"][0]["message"].is_string(), "{got}");
    }

    // Two subscriptions run; a third is refused with an `error`; completing one makes room.
    let sub = |id: &str| json!({"type": "subscribe", "id": id, "payload": {"query": "subscription { orderStatusChanged { eventId } }"}});
    send(&mut ws, sub("a")).await;
    send(&mut ws, sub("b")).await;
    send(&mut ws, sub("c")).await;
    let got = recv(&mut ws).await;
    assert_eq!(got["type"], "error", "{got}");
    assert_eq!(got["id"], "c");
    assert_eq!(
        got["payload"][0]["extensions"]["code"],
        "TOO_MANY_SUBSCRIPTIONS"
    );
    send(&mut ws, json!({"type": "complete", "id": "a"})).await;
    send(&mut ws, sub("c")).await;
    // Still running after a round trip: no error for "c".
    send(&mut ws, json!({"type": "ping", "payload": {"n": 1}})).await;
    assert_eq!(
        recv(&mut ws).await,
        json!({"type": "pong", "payload": {"n": 1}})
    );
}

#[tokio::test]
async fn sockets_are_capped_per_key_and_per_address() {
    let app = app(|c| {
        c.auth.anonymous = orderhub::config::AnonymousAccess::Never;
        c.websocket.max_sockets_per_key = 2;
        c.websocket.max_sockets_per_address = 4;
    })
    .await;
    let key = app.key_for_tests().to_owned();
    let auth = json!({"Authorization": format!("Bearer {key}")});
    let acked_with_key = || async {
        let mut ws = open(&app, Some("graphql-transport-ws"))
            .await
            .map_err(|s| format!("upgrade refused: {s}"))?;
        let got = init(&mut ws, auth.clone()).await;
        if got["type"] == "connection_ack" {
            Ok(ws)
        } else {
            Err(got.to_string())
        }
    };
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(acked_with_key().await.expect("under the caps"));
    }

    // The address holds 2 sockets; 2 more may open (not yet initialised), then the upgrade
    // itself is refused with 429.
    let mut spare = Vec::new();
    for _ in 0..2 {
        spare.push(socket(&app).await);
    }
    assert_eq!(
        open(&app, Some("graphql-transport-ws")).await.err(),
        Some(429)
    );
    drop(spare);

    // The key holds 2: a third socket with it is closed with 4429 at init.
    let got = wait_until(
        "a place for the address again",
        Duration::from_secs(10),
        || async {
            let mut ws = open(&app, Some("graphql-transport-ws"))
                .await
                .map_err(|s| s.to_string())?;
            Ok::<_, String>(init(&mut ws, auth.clone()).await)
        },
    )
    .await;
    assert_eq!(got["code"], 4429, "{got}");

    // A socket that ends gives its place back.
    let mut first = held.remove(0);
    first.close(None).await.unwrap();
    drop(first);
    wait_until(
        "a freed place for the key",
        Duration::from_secs(10),
        || async { acked_with_key().await.map(drop) },
    )
    .await;
}

/// A raw websocket client (tungstenite would answer pings by itself, and refuses a server
/// that picks no subprotocol): the upgrade offering `protocol`.
async fn raw_upgrade(app: &TestApp, protocol: &str) -> tokio::net::TcpStream {
    let addr = app.base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "GET /graphql/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    // The response head, byte by byte, so no frame after it is consumed.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

/// Reads until the server ends the connection; the code of the close frame it sent last.
async fn close_code_at_end(tcp: &mut tokio::net::TcpStream) -> Option<u16> {
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut seen))
        .await
        .expect("the server ends the connection")
        .ok();
    // Server frames are unmasked: 0x88, a length under 126, then the code.
    let i = seen
        .windows(2)
        .rposition(|w| w[0] == 0x88 && w[1] >= 2 && w[1] < 126)?;
    Some(u16::from_be_bytes([*seen.get(i + 2)?, *seen.get(i + 3)?]))
}

/// A client that sends `connection_init` and then never answers a ping.
async fn silent_socket(app: &TestApp) -> tokio::net::TcpStream {
    let mut tcp = raw_upgrade(app, "graphql-transport-ws").await;
    // connection_init as one masked text frame (a zero mask leaves the bytes as they are).
    let body = br#"{"type":"connection_init"}"#;
    let mut frame = vec![0x81, 0x80 | body.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(body);
    tcp.write_all(&frame).await.unwrap();
    tcp
}

#[tokio::test]
async fn pings_keep_a_quiet_client_and_close_a_silent_one() {
    let app = app(|c| c.websocket.ping_interval_secs = 1).await;

    // A client that sends nothing but answers pings (as every websocket library does) stays:
    // after more than two intervals of its own silence it still gets answers.
    let mut ws = acked(&app).await;
    let mut pings = 0;
    while pings < 3 {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            other => panic!("expected server pings, got {other:?}"),
        }
    }
    send(
        &mut ws,
        json!({"type": "subscribe", "id": "q", "payload": {"query": "{ __typename }"}}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["type"], "next");

    // One that answers nothing is closed (1001) after two intervals: read until the end.
    let mut tcp = silent_socket(&app).await;
    assert_eq!(close_code_at_end(&mut tcp).await, Some(1001));
}

#[tokio::test]
async fn shutdown_closes_sockets_with_1001() {
    let app = app(|_| {}).await;
    let mut ws = acked(&app).await;
    send(&mut ws, json!({"type": "subscribe", "id": "s", "payload": {"query": "subscription { orderStatusChanged { eventId } }"}})).await;
    let stopping = tokio::spawn(app.stop());
    loop {
        let got = recv(&mut ws).await;
        if got["type"] == "closed" {
            assert_eq!(got["code"], 1001, "{got}");
            break;
        }
        assert_eq!(got["type"], "complete", "{got}");
    }
    stopping.await.unwrap();
}
