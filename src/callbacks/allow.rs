//! Caller allow-lists for platform callback routes. Dada's callback signature has no secret
//! (anyone can compute it), so in production its routes should accept only Dada's addresses.
//! The caller is the TCP peer, or, behind a proxy that says so, the last address the proxy
//! appended to the configured header (the only entry a client cannot forge).

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

/// Who may call a route; empty = anyone.
#[derive(Clone, Debug, Default)]
pub struct AllowList {
    nets: Vec<IpNet>,
    header: Option<HeaderName>,
}

impl AllowList {
    /// Parses `entries` (addresses or CIDR blocks) and the optional client-address header.
    pub fn parse(entries: &[String], header: Option<&str>) -> Result<Self, String> {
        let nets = entries
            .iter()
            .map(|e| {
                let e = e.trim();
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{e:?} is neither an IP address nor a CIDR block"))
            })
            .collect::<Result<_, _>>()?;
        let header = header
            .map(|h| HeaderName::try_from(h).map_err(|_| format!("{h:?} is not a header name")))
            .transpose()?;
        Ok(Self { nets, header })
    }

    pub fn is_open(&self) -> bool {
        self.nets.is_empty()
    }

    fn caller(&self, request: &Request) -> Option<std::net::IpAddr> {
        if let Some(h) = &self.header {
            return request
                .headers()
                .get(h)?
                .to_str()
                .ok()?
                .rsplit(',')
                .next()?
                .trim()
                .parse()
                .ok();
        }
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
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
        let list = AllowList::parse(&["10.0.0.0/8".into(), "192.168.1.5".into()], None).unwrap();
        assert!(list.allows(&req("10.1.2.3:5", None)));
        assert!(list.allows(&req("192.168.1.5:5", None)));
        assert!(!list.allows(&req("192.168.1.6:5", None)));
        let proxied = AllowList::parse(&["10.0.0.0/8".into()], Some("x-forwarded-for")).unwrap();
        assert!(proxied.allows(&req("127.0.0.1:1", Some("6.6.6.6, 10.0.0.9"))));
        assert!(!proxied.allows(&req("10.0.0.1:1", Some("10.0.0.9, 6.6.6.6"))));
        assert!(!proxied.allows(&req("10.0.0.1:1", None)));
        assert!(AllowList::parse(&["nope".into()], None).is_err());
    }
}
