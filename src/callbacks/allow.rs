//! Caller allow-lists for platform callback routes. Dada's callback signature has no secret
//! (anyone can compute it), so in production its routes should accept only Dada's addresses.
//! The caller is the TCP peer, or, when the peer is one of our trusted proxies, the last
//! address that proxy appended to the configured header (the only entry a client cannot
//! forge). A header from any other peer is ignored: a client could write anything there.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Json, Router,
    extract::{ConnectInfo, Request, State},
    http::{HeaderName, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use ipnet::IpNet;
use serde_json::json;

/// How the caller's address is found: the TCP peer, or behind trusted proxies a header.
#[derive(Clone, Debug, Default)]
pub struct ClientAddress {
    header: Option<HeaderName>,
    proxies: Vec<IpNet>,
}

impl ClientAddress {
    /// `header` (e.g. `x-forwarded-for`) is read only from `proxies`; a header without any
    /// trusted proxy is a configuration error (it would be trusted from everyone or no one).
    pub fn parse(header: Option<&str>, proxies: &[String]) -> Result<Self, String> {
        let header = header
            .map(|h| HeaderName::try_from(h).map_err(|_| format!("{h:?} is not a header name")))
            .transpose()?;
        let proxies = nets(proxies)?;
        if header.is_some() && proxies.is_empty() {
            return Err(
                "server.client_ip_header needs server.trusted_proxies (the proxies that set it)"
                    .into(),
            );
        }
        Ok(Self { header, proxies })
    }

    /// The caller's address: the peer's, or the one a trusted proxy peer appended last.
    pub fn of(&self, request: &Request) -> Option<std::net::IpAddr> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())?;
        let Some(h) = &self.header else {
            return Some(peer);
        };
        if !self.proxies.iter().any(|n| n.contains(&peer)) {
            return Some(peer);
        }
        request
            .headers()
            .get(h)?
            .to_str()
            .ok()?
            .rsplit(',')
            .next()?
            .trim()
            .parse()
            .ok()
    }
}

fn nets(entries: &[String]) -> Result<Vec<IpNet>, String> {
    entries
        .iter()
        .map(|e| {
            let e = e.trim();
            e.parse::<IpNet>()
                .or_else(|_| e.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{e:?} is neither an IP address nor a CIDR block"))
        })
        .collect()
}

/// Who may call a route; empty = anyone.
#[derive(Clone, Debug, Default)]
pub struct AllowList {
    nets: Vec<IpNet>,
    client: ClientAddress,
}

impl AllowList {
    /// Parses `entries` (addresses or CIDR blocks); callers are found by `client`.
    pub fn parse(entries: &[String], client: ClientAddress) -> Result<Self, String> {
        Ok(Self {
            nets: nets(entries)?,
            client,
        })
    }

    pub fn is_open(&self) -> bool {
        self.nets.is_empty()
    }

    fn caller(&self, request: &Request) -> Option<std::net::IpAddr> {
        self.client.of(request)
    }

    fn allows(&self, request: &Request) -> bool {
        self.is_open()
            || self
                .caller(request)
                .is_some_and(|ip| self.nets.iter().any(|n| n.contains(&ip)))
    }
}

/// `routes`, answering only the callers `callers` allows (everyone when it is empty).
pub fn only<S: Clone + Send + Sync + 'static>(
    callers: &Arc<AllowList>,
    routes: Router<S>,
) -> Router<S> {
    routes.route_layer(middleware::from_fn_with_state(callers.clone(), guard))
}

/// Refuses callers outside the list with 403 and a body in the callbacks' shape.
pub async fn guard(State(list): State<Arc<AllowList>>, request: Request, next: Next) -> Response {
    if list.allows(&request) {
        return next.run(request).await;
    }
    tracing::warn!(caller = ?list.caller(&request), path = %request.uri().path(), "callback from a caller outside the allow-list");
    metrics::counter!("orderhub_callbacks_refused_caller_total").increment(1);
    (
        StatusCode::FORBIDDEN,
        Json(json!({ "status": "fail", "msg": "caller not allowed" })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(peer: &str, xff: Option<&str>) -> Request {
        let mut r = Request::new(axum::body::Body::empty());
        r.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        if let Some(v) = xff {
            r.headers_mut()
                .insert("x-forwarded-for", v.parse().unwrap());
        }
        r
    }

    #[test]
    fn checks_the_peer_or_the_proxys_last_entry() {
        let open = AllowList::default();
        assert!(open.allows(&req("1.2.3.4:1", None)));
        let direct = ClientAddress::default();
        let list = AllowList::parse(&["10.0.0.0/8".into(), "192.168.1.5".into()], direct).unwrap();
        assert!(list.allows(&req("10.1.2.3:5", None)));
        assert!(list.allows(&req("192.168.1.5:5", None)));
        assert!(!list.allows(&req("192.168.1.6:5", None)));
        assert!(
            !list.allows(&req("6.6.6.6:5", Some("10.0.0.9"))),
            "no header is read without a proxy"
        );
        let behind = ClientAddress::parse(Some("x-forwarded-for"), &["127.0.0.1".into()]).unwrap();
        let proxied = AllowList::parse(&["10.0.0.0/8".into()], behind).unwrap();
        assert!(proxied.allows(&req("127.0.0.1:1", Some("6.6.6.6, 10.0.0.9"))));
        assert!(!proxied.allows(&req("127.0.0.1:1", Some("10.0.0.9, 6.6.6.6"))));
        assert!(!proxied.allows(&req("127.0.0.1:1", None)));
        assert!(
            !proxied.allows(&req("6.6.6.6:1", Some("10.0.0.9"))),
            "a header from an untrusted peer is ignored"
        );
        assert!(AllowList::parse(&["nope".into()], ClientAddress::default()).is_err());
        assert!(ClientAddress::parse(Some("x-forwarded-for"), &[]).is_err());
    }
}
