//! `/graphql/ws`: graphql-ws (the `graphql-transport-ws` protocol), served by our own
//! connection loop so that every rule of the protocol and of the edge holds: the key comes with
//! `connection_init` (or the upgrade request's `Authorization`), an init that does not come in
//! time closes the socket (4408), caps hold per key, per client address and per socket, the
//! server pings and closes only a peer that stops answering, and shutdown closes every socket
//! with 1001.

mod connection;
mod protocol;
mod shared;

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::{FromRequestParts, Request, State, WebSocketUpgrade},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use tokio_util::sync::CancellationToken;

use super::{Api, bearer, http_error};
use crate::{callbacks::allow::ClientAddress, config::WebsocketConfig};

/// The sockets open on this instance, counted per client address and per key.
pub struct Sockets {
    config: WebsocketConfig,
    client: ClientAddress,
    shutdown: CancellationToken,
    held: Mutex<HashMap<Holder, usize>>,
    /// Subscriptions executed once for many subscribers.
    groups: Arc<shared::Groups>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum Holder {
    Address(IpAddr),
    Key(i64),
}

/// One socket's place in a holder's count; given back when the socket ends.
struct Claim {
    sockets: Arc<Sockets>,
    holder: Holder,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Ok(mut held) = self.sockets.held.lock()
            && let Some(n) = held.get_mut(&self.holder)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                held.remove(&self.holder);
            }
        }
    }
}

impl Sockets {
    pub fn new(
        config: WebsocketConfig,
        client: ClientAddress,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        Arc::new(Self {
            groups: Arc::new(shared::Groups::new(config.shared_backlog)),
            config,
            client,
            shutdown,
            held: Mutex::default(),
        })
    }

    /// A place for one more socket of `holder`, unless it already holds `cap`.
    fn claim(self: &Arc<Self>, holder: Holder, cap: usize) -> Option<Claim> {
        let mut held = self.held.lock().ok()?;
        let n = held.entry(holder.clone()).or_default();
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(Claim {
            sockets: self.clone(),
            holder,
        })
    }

    fn ping_interval(&self) -> Duration {
        Duration::from_secs(self.config.ping_interval_secs.max(1))
    }
}

/// The upgrade: the page's origin is checked, the client address's cap is taken, and the
/// socket is handed to the connection loop. The key is checked at `connection_init`.
pub async fn graphql_ws(State(api): State<Api>, request: Request) -> Response {
    let sockets = api.sockets.clone();
    if !api.origin_allowed(request.headers()) {
        tracing::warn!(origin = ?request.headers().get(header::ORIGIN), "websocket from a page of another origin refused");
        return http_error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "this origin may not open the websocket (server.cors_origins)",
        );
    }
    let address = match sockets.client.of(&request) {
        Some(ip) => {
            match sockets.claim(Holder::Address(ip), sockets.config.max_sockets_per_address) {
                Some(claim) => Some(claim),
                None => {
                    metrics::counter!("orderhub_ws_refused_total", "reason" => "address_cap")
                        .increment(1);
                    return http_error(
                        StatusCode::TOO_MANY_REQUESTS,
                        "THROTTLED",
                        "this address already holds its websockets (websocket.max_sockets_per_address)",
                    );
                }
            }
        }
        None => None,
    };
    let header_key = bearer(request.headers()).map(str::to_owned);
    let offered: Vec<String> = request
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_owned())
        .collect();
    // A client that names no subprotocol gets ours; one that names only others is told so.
    let speaks = offered.is_empty() || offered.iter().any(|p| p == protocol::SUBPROTOCOL);
    let (mut parts, _) = request.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(u) => u,
        Err(rejection) => return rejection.into_response(),
    };
    let max_message = sockets.config.max_message_bytes;
    let conn = connection::Conn {
        schema: api.schema,
        access: api.access,
        sockets,
        header_key,
        _address: address,
    };
    upgrade
        .protocols([protocol::SUBPROTOCOL])
        .max_message_size(max_message)
        .max_frame_size(max_message)
        // Small buffers: a subscriber costs kilobytes, not the default 128 KiB.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| connection::run(socket, conn, speaks))
}
