//! The graphql-transport-ws protocol (the `graphql-ws` library's): the messages a client
//! sends, the ones we answer with, and the close codes, as the protocol document defines them.

use serde::Deserialize;
use serde_json::{Value, json};

/// The subprotocol we speak.
pub const SUBPROTOCOL: &str = "graphql-transport-ws";

/// Close codes (the protocol's, plus the websocket standard's 1001 at shutdown).
pub mod close {
    /// Invalid message: not JSON, an unknown `type`, a `subscribe` without id or query.
    pub const BAD_REQUEST: u16 = 4400;
    /// `subscribe` before the connection was acknowledged.
    pub const UNAUTHORIZED: u16 = 4401;
    /// `connection_init` with a key that was not accepted.
    pub const FORBIDDEN: u16 = 4403;
    /// The client asked for a subprotocol other than `graphql-transport-ws`.
    pub const SUBPROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
    /// No `connection_init` within `websocket.init_timeout_secs`.
    pub const INIT_TIMEOUT: u16 = 4408;
    /// A `subscribe` with the id of an operation still running.
    pub const SUBSCRIBER_EXISTS: u16 = 4409;
    /// A second `connection_init`, or a key that already holds its cap of sockets.
    pub const TOO_MANY: u16 = 4429;
    /// The server could not check the key (database unavailable); try again.
    pub const INTERNAL: u16 = 4500;
    /// The server is shutting down, or the peer stopped answering pings.
    pub const GOING_AWAY: u16 = 1001;
}

/// A `subscribe` message's payload.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    pub query: String,
    #[serde(default)]
    pub variables: Option<Value>,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub extensions: Option<serde_json::Map<String, Value>>,
}

/// What a client may send.
#[derive(Debug)]
pub enum ClientMessage {
    Init(Option<Value>),
    Ping(Option<Value>),
    Pong,
    Subscribe { id: String, payload: Payload },
    Complete { id: String },
}

/// Reads one text frame; `Err` is the reason for closing with [`close::BAD_REQUEST`].
pub fn parse(text: &str) -> Result<ClientMessage, String> {
    let v: Value = serde_json::from_str(text).map_err(|_| "Invalid message received")?;
    let Value::Object(mut m) = v else {
        return Err("Invalid message received".into());
    };
    let ty = m
        .get("type")
        .and_then(Value::as_str)
        .ok_or("Invalid message received: no type")?
        .to_owned();
    let id = || -> Result<String, String> {
        match m.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => Ok(id.to_owned()),
            _ => Err(format!("Invalid message received: {ty} without an id")),
        }
    };
    let payload = |m: &mut serde_json::Map<String, Value>| match m.remove("payload") {
        None | Some(Value::Null) => Ok(None),
        Some(p @ Value::Object(_)) => Ok(Some(p)),
        Some(_) => Err(format!(
            "Invalid message received: {ty}'s payload is not an object"
        )),
    };
    match ty.as_str() {
        "connection_init" => Ok(ClientMessage::Init(payload(&mut m)?)),
        "ping" => Ok(ClientMessage::Ping(payload(&mut m)?)),
        "pong" => Ok(ClientMessage::Pong),
        "subscribe" => {
            let id = id()?;
            let payload = payload(&mut m)?.ok_or_else(|| {
                format!("Invalid message received: subscribe {id} has no payload")
            })?;
            let payload: Payload = serde_json::from_value(payload)
                .map_err(|e| format!("Invalid message received: subscribe {id}'s payload: {e}"))?;
            Ok(ClientMessage::Subscribe { id, payload })
        }
        "complete" => Ok(ClientMessage::Complete { id: id()? }),
        other => Err(format!("Invalid message received: unknown type {other:?}")),
    }
}

pub fn ack() -> String {
    json!({"type": "connection_ack"}).to_string()
}

pub fn pong(payload: Option<Value>) -> String {
    match payload {
        Some(p) => json!({"type": "pong", "payload": p}),
        None => json!({"type": "pong"}),
    }
    .to_string()
}

/// A message with a payload, written straight from it (no intermediate JSON tree: this runs
/// once per event per subscriber).
fn with_payload(kind: &'static str, id: &str, payload: &impl serde::Serialize) -> String {
    #[derive(serde::Serialize)]
    struct Message<'a, P> {
        #[serde(rename = "type")]
        kind: &'static str,
        id: &'a str,
        payload: &'a P,
    }
    serde_json::to_string(&Message { kind, id, payload }).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a graphql-ws payload could not be written as JSON");
        json!({"type": "error", "id": id, "payload": [{
            "message": "the answer could not be written",
            "extensions": {"code": "INTERNAL"},
        }]})
        .to_string()
    })
}

pub fn next(id: &str, payload: &impl serde::Serialize) -> String {
    with_payload("next", id, payload)
}

pub fn error(id: &str, errors: &impl serde::Serialize) -> String {
    with_payload("error", id, errors)
}

/// A message around a payload already written as JSON (an answer shared by subscribers).
fn with_written(kind: &str, id: &str, payload: &str) -> String {
    let id = serde_json::to_string(id).unwrap_or_else(|_| "\"\"".into());
    format!(r#"{{"type":"{kind}","id":{id},"payload":{payload}}}"#)
}

pub fn next_written(id: &str, payload: &str) -> String {
    with_written("next", id, payload)
}

pub fn error_written(id: &str, errors: &str) -> String {
    with_written("error", id, errors)
}

pub fn complete(id: &str) -> String {
    json!({"type": "complete", "id": id}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_message_and_refuses_malformed_ones() {
        assert!(matches!(
            parse(r#"{"type":"connection_init","payload":{"apiKey":"k"}}"#),
            Ok(ClientMessage::Init(Some(_)))
        ));
        assert!(matches!(
            parse(r#"{"type":"subscribe","id":"1","payload":{"query":"{a}"}}"#),
            Ok(ClientMessage::Subscribe { .. })
        ));
        assert!(matches!(
            parse(r#"{"type":"complete","id":"1"}"#),
            Ok(ClientMessage::Complete { .. })
        ));
        for bad in [
            "not json",
            "[1]",
            r#"{"id":"1"}"#,
            r#"{"type":"start","id":"1"}"#,
            r#"{"type":"subscribe","id":"1"}"#,
            r#"{"type":"subscribe","payload":{"query":"{a}"}}"#,
            r#"{"type":"subscribe","id":"","payload":{"query":"{a}"}}"#,
            r#"{"type":"subscribe","id":"1","payload":{"variables":{}}}"#,
            r#"{"type":"subscribe","id":"1","payload":{"query":5}}"#,
            r#"{"type":"connection_init","payload":"key"}"#,
            r#"{"type":"complete"}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn written_payloads_keep_the_id_json() {
        let m = next_written("a\"b", r#"{"data":{"x":1}}"#);
        let v: Value = serde_json::from_str(&m).unwrap();
        assert_eq!(v["id"], "a\"b");
        assert_eq!(v["type"], "next");
        assert_eq!(v["payload"]["data"]["x"], 1);
        let e: Value = serde_json::from_str(&error_written("1", r#"[{"message":"m"}]"#)).unwrap();
        assert_eq!(e["payload"][0]["message"], "m");
    }
}
