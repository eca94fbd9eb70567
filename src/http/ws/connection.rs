//! One graphql-ws socket: the `connection_init` handshake, then one task multiplexing the
//! client's messages, the operations' results and the server's pings.
//!
//! The loop polls running operations before it reads the next client message, so an
//! operation a client started has run up to its first wait (a subscription has joined the
//! event bus) before the server answers that client's next `ping`.

use std::{collections::HashMap, ops::ControlFlow, sync::Arc, time::Duration};

use async_graphql::{Response, Variables};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::{
    FutureExt, SinkExt, StreamExt,
    stream::{self, AbortHandle, Abortable, BoxStream, SelectAll, SplitSink, SplitStream},
};
use serde_json::{Value, json};
use tokio::{sync::broadcast::error::RecvError, time::Instant};

use super::{
    Claim, Holder, Sockets,
    protocol::{self, ClientMessage, close},
    shared::{Answer, Key},
};
use crate::{
    access::{AccessService, AuthError, Caller},
    graphql::{
        self, AppSchema, ResumeAfter,
        errors::codes,
        ids::{Kind, encode},
    },
};

/// Everything one socket needs.
pub(super) struct Conn {
    pub schema: AppSchema,
    pub access: AccessService,
    pub sockets: Arc<Sockets>,
    /// The key of the upgrade request's `Authorization` header, if it had one.
    pub header_key: Option<String>,
    /// The client address's place in its socket count.
    pub _address: Option<Claim>,
}

type Tx = SplitSink<WebSocket, Message>;
type Rx = SplitStream<WebSocket>;

/// One operation's output: its id, which run of that id, and what it produced.
type Output = (String, u64, Out);

/// What an operation produced.
enum Out {
    /// An answer of its own execution.
    Response(Box<Response>),
    /// A `next` payload of a shared execution, already written.
    Shared(Arc<str>),
    /// A shared execution was refused: the `error` payload, already written.
    Refused(Arc<str>),
    /// It fell behind its shared execution: continue alone after this event.
    Behind(Option<i64>),
    /// It ended.
    End,
}

/// An operation still running.
struct Running {
    run: u64,
    answered: bool,
    abort: AbortHandle,
    /// What the client asked (kept to continue alone a shared run that fell behind).
    payload: Option<protocol::Payload>,
}

pub(super) async fn run(socket: WebSocket, conn: Conn, speaks: bool) {
    metrics::gauge!("orderhub_ws_sockets").increment(1.0);
    let (mut tx, mut rx) = socket.split();
    if !speaks {
        shut(
            &mut tx,
            close::SUBPROTOCOL_NOT_ACCEPTABLE,
            "Subprotocol not acceptable: speak graphql-transport-ws",
        )
        .await;
    } else if let Some(accepted) = handshake(&mut tx, &mut rx, &conn).await {
        let Accepted {
            caller,
            resume,
            claim,
        } = accepted;
        Session::new(&conn, caller, resume)
            .serve(&mut tx, &mut rx)
            .await;
        drop(claim);
    }
    metrics::gauge!("orderhub_ws_sockets").decrement(1.0);
}

/// Closes the socket with `code`.
async fn shut(tx: &mut Tx, code: u16, reason: &str) {
    metrics::counter!("orderhub_ws_closed_total", "code" => code.to_string()).increment(1);
    // A close reason is at most 123 bytes.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let frame = CloseFrame {
        code,
        reason: reason[..end].into(),
    };
    let _ = tx.send(Message::Close(Some(frame))).await;
    let _ = tx.close().await;
}

/// What a read from the socket brought, as both phases of a connection tell it apart.
enum Frame {
    Text(axum::extract::ws::Utf8Bytes),
    /// A websocket ping or pong: the peer is alive.
    Control,
    /// The protocol is text only.
    Binary,
    /// Closed, failed or ended.
    Gone,
}

impl Frame {
    fn of(frame: Option<Result<Message, axum::Error>>) -> Self {
        match frame {
            Some(Ok(Message::Text(t))) => Frame::Text(t),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Frame::Control,
            Some(Ok(Message::Binary(_))) => Frame::Binary,
            Some(Ok(Message::Close(_)) | Err(_)) | None => Frame::Gone,
        }
    }
}

async fn refuse_binary(tx: &mut Tx) {
    shut(
        tx,
        close::BAD_REQUEST,
        "Invalid message received: binary frame",
    )
    .await;
}

/// The key a client sent in its `connection_init` payload: `Authorization: Bearer <key>` as
/// GraphiQL and most clients put their headers there (any capitalisation), or `apiKey`.
fn init_key(payload: &Value) -> Option<String> {
    let map = payload.as_object()?;
    if let Some(key) = map.get("apiKey").and_then(Value::as_str) {
        return Some(key.to_owned());
    }
    let value = map
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))?
        .1
        .as_str()?;
    super::super::bearer_key(value).map(str::to_owned)
}

/// An acknowledged connection: who it is, where its subscriptions resume, and its place in
/// the key's socket count.
struct Accepted {
    caller: Caller,
    resume: Option<ResumeAfter>,
    claim: Option<Claim>,
}

/// The connection-wide resume point: `lastEventId` in the `connection_init` payload.
fn resume_point(payload: Option<&Value>) -> Result<Option<ResumeAfter>, String> {
    match payload.and_then(|p| p.get("lastEventId")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => Ok(Some(ResumeAfter(id.clone().into()))),
        Some(_) => Err("Invalid message received: lastEventId is not a string".into()),
    }
}

/// Waits for `connection_init` (answering pings meanwhile), checks its key and acknowledges
/// it; None once the socket was closed instead.
async fn handshake(tx: &mut Tx, rx: &mut Rx, conn: &Conn) -> Option<Accepted> {
    let deadline = tokio::time::sleep(Duration::from_secs(
        conn.sockets.config.init_timeout_secs.max(1),
    ));
    tokio::pin!(deadline);
    loop {
        let frame = tokio::select! {
            _ = &mut deadline => {
                shut(tx, close::INIT_TIMEOUT, "Connection initialisation timeout").await;
                return None;
            }
            _ = conn.sockets.shutdown.cancelled() => {
                shut(tx, close::GOING_AWAY, "server shutting down").await;
                return None;
            }
            frame = rx.next() => frame,
        };
        let text = match Frame::of(frame) {
            Frame::Text(t) => t,
            Frame::Control => continue,
            Frame::Binary => {
                refuse_binary(tx).await;
                return None;
            }
            Frame::Gone => return None,
        };
        let payload = match protocol::parse(text.as_str()) {
            Err(reason) => {
                shut(tx, close::BAD_REQUEST, &reason).await;
                return None;
            }
            Ok(ClientMessage::Init(payload)) => payload,
            Ok(ClientMessage::Ping(p)) => {
                tx.send(Message::text(protocol::pong(p))).await.ok()?;
                continue;
            }
            Ok(ClientMessage::Pong | ClientMessage::Complete { .. }) => continue,
            Ok(ClientMessage::Subscribe { .. }) => {
                shut(tx, close::UNAUTHORIZED, "Unauthorized").await;
                return None;
            }
        };
        let resume = match resume_point(payload.as_ref()) {
            Ok(r) => r,
            Err(reason) => {
                shut(tx, close::BAD_REQUEST, &reason).await;
                return None;
            }
        };
        let key = payload
            .as_ref()
            .and_then(init_key)
            .or_else(|| conn.header_key.clone());
        let caller = match conn.access.authenticate(key.as_deref()).await {
            Ok(caller) => caller,
            Err(AuthError::Db(e)) => {
                tracing::error!(error = %e, "authenticating a websocket");
                shut(
                    tx,
                    close::INTERNAL,
                    "Internal error: could not check the key",
                )
                .await;
                return None;
            }
            Err(e) => {
                shut(tx, close::FORBIDDEN, &format!("Forbidden: {e}")).await;
                return None;
            }
        };
        let claim = match caller.key_id {
            Some(id) => {
                let cap = conn.sockets.config.max_sockets_per_key;
                match conn.sockets.claim(Holder::Key(id), cap) {
                    Some(c) => Some(c),
                    None => {
                        shut(
                            tx,
                            close::TOO_MANY,
                            "Too many sockets for this key (websocket.max_sockets_per_key)",
                        )
                        .await;
                        return None;
                    }
                }
            }
            None => None,
        };
        tx.send(Message::text(protocol::ack())).await.ok()?;
        return Some(Accepted {
            caller,
            resume,
            claim,
        });
    }
}

/// An acknowledged socket: its caller and running operations.
struct Session<'a> {
    conn: &'a Conn,
    caller: Caller,
    resume: Option<ResumeAfter>,
    running: HashMap<String, Running>,
    outputs: SelectAll<BoxStream<'static, Output>>,
    runs: u64,
    heard: Instant,
}

/// Results sent in a row before the loop looks at the client's messages regardless.
const FAIR_SHARE: u32 = 32;

impl<'a> Session<'a> {
    fn new(conn: &'a Conn, caller: Caller, resume: Option<ResumeAfter>) -> Self {
        Self {
            conn,
            caller,
            resume,
            running: HashMap::new(),
            outputs: SelectAll::new(),
            runs: 0,
            heard: Instant::now(),
        }
    }

    async fn serve(mut self, tx: &mut Tx, rx: &mut Rx) {
        let every = self.conn.sockets.ping_interval();
        let mut pings = tokio::time::interval_at(Instant::now() + every, every);
        let mut in_a_row = 0u32;
        loop {
            let step = tokio::select! {
                biased;
                _ = self.conn.sockets.shutdown.cancelled() => {
                    shut(tx, close::GOING_AWAY, "server shutting down").await;
                    return;
                }
                Some(out) = self.outputs.next(), if !self.outputs.is_empty() => {
                    in_a_row += 1;
                    let mut step = self.output(tx, out).await;
                    if step.is_continue() && in_a_row >= FAIR_SHARE {
                        in_a_row = 0;
                        if let Some(frame) = rx.next().now_or_never() {
                            step = self.incoming(tx, frame).await;
                        }
                    }
                    step
                }
                frame = rx.next() => {
                    in_a_row = 0;
                    self.incoming(tx, frame).await
                }
                _ = pings.tick() => self.ping(tx).await,
            };
            if step.is_break() {
                return;
            }
        }
    }

    /// A ping frame (every websocket answers it), or the end of a peer that stopped answering.
    async fn ping(&mut self, tx: &mut Tx) -> ControlFlow<()> {
        if self.heard.elapsed() > self.conn.sockets.ping_interval() * 2 {
            tracing::info!("websocket peer stopped answering pings; closing");
            shut(tx, close::GOING_AWAY, "no answer to pings").await;
            return ControlFlow::Break(());
        }
        match tx.send(Message::Ping(Default::default())).await {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    }

    async fn send(tx: &mut Tx, text: String) -> ControlFlow<()> {
        match tx.send(Message::text(text)).await {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    }

    async fn incoming(
        &mut self,
        tx: &mut Tx,
        frame: Option<Result<Message, axum::Error>>,
    ) -> ControlFlow<()> {
        let text = match Frame::of(frame) {
            Frame::Text(t) => t,
            Frame::Control => {
                self.heard = Instant::now();
                return ControlFlow::Continue(());
            }
            Frame::Binary => {
                refuse_binary(tx).await;
                return ControlFlow::Break(());
            }
            Frame::Gone => return ControlFlow::Break(()),
        };
        self.heard = Instant::now();
        match protocol::parse(text.as_str()) {
            Err(reason) => {
                shut(tx, close::BAD_REQUEST, &reason).await;
                ControlFlow::Break(())
            }
            Ok(ClientMessage::Init(_)) => {
                shut(tx, close::TOO_MANY, "Too many initialisation requests").await;
                ControlFlow::Break(())
            }
            Ok(ClientMessage::Ping(p)) => Self::send(tx, protocol::pong(p)).await,
            Ok(ClientMessage::Pong) => ControlFlow::Continue(()),
            Ok(ClientMessage::Complete { id }) => {
                if let Some(r) = self.running.remove(&id) {
                    r.abort.abort();
                }
                ControlFlow::Continue(())
            }
            Ok(ClientMessage::Subscribe { id, payload }) => {
                if self.running.contains_key(&id) {
                    shut(
                        tx,
                        close::SUBSCRIBER_EXISTS,
                        &format!("Subscriber for {id} already exists"),
                    )
                    .await;
                    return ControlFlow::Break(());
                }
                let cap = self.conn.sockets.config.max_subscriptions_per_socket;
                if self.running.len() >= cap {
                    let errors = json!([{
                        "message": format!("this socket already runs {cap} operations (websocket.max_subscriptions_per_socket); complete one first"),
                        "extensions": {"code": codes::TOO_MANY_SUBSCRIPTIONS},
                    }]);
                    return Self::send(tx, protocol::error(&id, &errors)).await;
                }
                self.start(id, payload, None);
                ControlFlow::Continue(())
            }
        }
    }

    /// The request a payload makes, as this socket's caller.
    fn request(&self, payload: &protocol::Payload) -> async_graphql::Request {
        let request = async_graphql::Request::new(payload.query.clone()).variables(
            Variables::from_json(payload.variables.clone().unwrap_or(Value::Null)),
        );
        let mut request = graphql::prepare(request, self.caller.clone());
        if let Some(name) = &payload.operation_name {
            request = request.operation_name(name);
        }
        if let Some(resume) = &self.resume {
            request = request.data(resume.clone());
        }
        for (name, value) in payload.extensions.clone().unwrap_or_default() {
            if let Ok(value) = async_graphql::Value::from_json(value) {
                request.extensions.insert(name, value);
            }
        }
        request
    }

    /// What makes this subscription the same as others, when it can share their execution:
    /// a subscription, live (no resume point), without extensions.
    fn shareable(&self, payload: &protocol::Payload) -> Option<Key> {
        if self.resume.is_some()
            || payload.extensions.as_ref().is_some_and(|e| !e.is_empty())
            || payload.query.contains("afterEventId")
        {
            return None;
        }
        let doc = async_graphql::parser::parse_query(&payload.query).ok()?;
        let mut ops = doc.operations.iter();
        let (_, op) = match &payload.operation_name {
            Some(name) => ops.find(|(n, _)| n.is_some_and(|n| n.as_str() == name))?,
            None => ops.next()?,
        };
        if op.node.ty != async_graphql::parser::types::OperationType::Subscription {
            return None;
        }
        Some(Key {
            caller: format!("{:?}", self.caller),
            query: payload.query.clone(),
            operation: payload.operation_name.clone(),
            variables: payload
                .variables
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default(),
        })
    }

    /// A shared subscription: this subscriber's own admission run, then the answers of the
    /// execution it shares.
    fn shared(&self, key: Key, payload: &protocol::Payload) -> BoxStream<'static, Out> {
        let probe = self.request(payload).data(graphql::Admission);
        let request = self.request(payload);
        let schema = self.conn.schema.clone();
        let groups = self.conn.sockets.groups.clone();
        async_stream::stream! {
            let mut admission = schema.execute_stream(probe);
            let mut refused = false;
            while let Some(response) = admission.next().await {
                refused = true;
                yield Out::Response(Box::new(response));
            }
            if refused {
                return;
            }
            let mut member = groups.join(&schema, key, request);
            let mut last = 0;
            loop {
                match member.answers.recv().await {
                    Ok(Answer::Next(event, text)) => {
                        last = event;
                        yield Out::Shared(text);
                    }
                    Ok(Answer::Refused(text)) => {
                        yield Out::Refused(text);
                        return;
                    }
                    Ok(Answer::End) | Err(RecvError::Closed) => return,
                    Err(RecvError::Lagged(missed)) => {
                        metrics::counter!("orderhub_ws_shared_subscriptions_total", "outcome" => "behind").increment(1);
                        tracing::warn!(missed, "a shared subscriber fell behind; it continues alone");
                        yield Out::Behind(member.resume_after(last));
                        return;
                    }
                }
            }
        }
        .boxed()
    }

    /// Starts an operation; its responses join the socket's outputs. `after` resumes it
    /// alone after that event (a shared subscriber that fell behind).
    fn start(&mut self, id: String, payload: protocol::Payload, after: Option<i64>) {
        let key = after.is_none().then(|| self.shareable(&payload)).flatten();
        let outputs = match &key {
            Some(key) => self.shared(key.clone(), &payload),
            None => {
                let mut request = self.request(&payload);
                if let Some(after) = after {
                    request = request.data(ResumeAfter(encode(Kind::Event, after)));
                }
                self.conn
                    .schema
                    .execute_stream(request)
                    .map(|r| Out::Response(Box::new(r)))
                    .boxed()
            }
        };
        self.runs += 1;
        let run = self.runs;
        let (abort, registration) = AbortHandle::new_pair();
        let (tag, end) = (id.clone(), id.clone());
        let responses = Abortable::new(outputs, registration)
            .map(move |out| (tag.clone(), run, out))
            .chain(stream::once(async move { (end, run, Out::End) }));
        self.outputs.push(responses.boxed());
        self.running.insert(
            id,
            Running {
                run,
                answered: false,
                abort,
                payload: key.map(|_| payload),
            },
        );
    }

    /// Sends what an operation produced, or its completion.
    async fn output(&mut self, tx: &mut Tx, (id, run, out): Output) -> ControlFlow<()> {
        let Some(running) = self.running.get_mut(&id).filter(|r| r.run == run) else {
            // Completed by the client, or an earlier run of a reused id.
            return ControlFlow::Continue(());
        };
        let response = match out {
            Out::Response(response) => *response,
            Out::Shared(text) => {
                running.answered = true;
                return Self::send(tx, protocol::next_written(&id, &text)).await;
            }
            Out::Refused(text) => {
                self.running.remove(&id);
                return Self::send(tx, protocol::error_written(&id, &text)).await;
            }
            Out::Behind(after) => {
                let payload = running.payload.take();
                self.running.remove(&id);
                return match (payload, after) {
                    (Some(payload), Some(after)) => {
                        self.start(id, payload, Some(after));
                        ControlFlow::Continue(())
                    }
                    _ => {
                        let errors = json!([{
                            "message": "this subscription fell behind before the event log had a starting point; subscribe again",
                            "extensions": {"code": codes::INTERNAL},
                        }]);
                        Self::send(tx, protocol::error(&id, &errors)).await
                    }
                };
            }
            Out::End => {
                self.running.remove(&id);
                return Self::send(tx, protocol::complete(&id)).await;
            }
        };
        let first = !running.answered;
        running.answered = true;
        // A document refused before it ran (parse, validation, limits, cost) gets `error`,
        // which also ends the operation.
        let refused = first && graphql::not_run(&response);
        if refused {
            if let Some(r) = self.running.remove(&id) {
                r.abort.abort();
            }
            return Self::send(tx, protocol::error(&id, &response.errors)).await;
        }
        Self::send(tx, protocol::next(&id, &response)).await
    }
}
