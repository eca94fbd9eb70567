//! The platform's own routes, as the partner calls them.
//!
//! Handlers parse the query string and body by hand so that every malformed request gets the
//! platform's envelope and message rather than axum's plain-text rejections.

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{Path, RawQuery, Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::Utc;

use super::{
    Inner,
    catalog::{self, DEFAULT_PAGE, ListQuery, Point},
    error::{Reject, busy, ok},
    money::yuan_number,
    seed::{self, CATEGORIES, DEFAULT_CITY},
    wire::{CategoryItem, CreateOrderBody, CreatedOrder, ServiceDetail, ServiceListItem},
};
use crate::faults::RequestFault;

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/categories", get(categories))
        .route("/services", get(list_services))
        .route("/services/{service_id}", get(service_detail))
        .route("/orders", post(create_order))
        .route("/orders/{order_id}/status", get(order_status))
        .route_layer(middleware::from_fn_with_state(inner.clone(), inject_faults))
        .with_state(inner)
}

/// Latency and injected errors, applied before a handler can touch state.
async fn inject_faults(State(inner): State<Arc<Inner>>, request: Request, next: Next) -> Response {
    let faults = inner.faults();
    match faults.before_request().await {
        RequestFault::InjectError => busy(),
        RequestFault::Proceed => next.run(request).await,
    }
}

/// Query parameters in order of appearance; the first occurrence of a name wins.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<String>) -> Self {
        let pairs = raw
            .as_deref()
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .unwrap_or_default();
        Params(pairs)
    }

    /// The value of `name`, treating an empty value like an absent one.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    /// A non-negative integer parameter; present but not a number is a format error.
    fn number(&self, name: &str, default: usize) -> Result<usize, Reject> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| Reject::Malformed),
        }
    }
}

fn check_channel(inner: &Inner, params: &Params) -> Result<String, Reject> {
    let channel = params.get("channel").ok_or(Reject::Missing("channel"))?;
    if inner.channels.iter().any(|c| c == channel) {
        Ok(channel.to_owned())
    } else {
        Err(Reject::UnknownChannel)
    }
}

async fn categories() -> Response {
    ok(CATEGORIES
        .iter()
        .map(CategoryItem::from)
        .collect::<Vec<_>>())
}

async fn list_services(State(inner): State<Arc<Inner>>, RawQuery(raw): RawQuery) -> Response {
    let params = Params::parse(raw);
    match services_page(&inner, &params) {
        Ok(items) => ok(items),
        Err(reject) => reject.into_response(),
    }
}

fn services_page(inner: &Inner, params: &Params) -> Result<Vec<ServiceListItem>, Reject> {
    check_channel(inner, params)?;
    let size = params.number("size", DEFAULT_PAGE)?;
    let start = params.number("start", 0)?;
    let coordinate = |name| {
        params
            .get(name)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
    };
    let near = coordinate("lng")
        .zip(coordinate("lat"))
        .map(|(lng, lat)| Point { lng, lat });
    let query = ListQuery {
        city: params.get("city").map_or(DEFAULT_CITY, str::trim),
        category: params.get("category"),
        search: params.get("search"),
        near,
        start,
        size,
    };
    Ok(catalog::list(&query)
        .into_iter()
        .filter_map(|shop| {
            let category = seed::category(shop.category_id)?;
            Some(ServiceListItem::new(shop, category, shop.main_price()?))
        })
        .collect())
}

async fn service_detail(
    State(inner): State<Arc<Inner>>,
    Path(service_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = Params::parse(raw);
    let detail = check_channel(&inner, &params).and_then(|_| {
        let shop = seed::shop(&service_id).ok_or(Reject::UnknownShop)?;
        let category = seed::category(shop.category_id).ok_or(Reject::UnknownShop)?;
        Ok(ServiceDetail::new(shop, category))
    });
    match detail {
        Ok(detail) => ok(detail),
        Err(reject) => reject.into_response(),
    }
}

async fn create_order(
    State(inner): State<Arc<Inner>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let params = Params::parse(raw);
    let placed = check_channel(&inner, &params).and_then(|channel| {
        let body: CreateOrderBody = serde_json::from_slice(&body).map_err(|_| Reject::Malformed)?;
        if !body.check_quantities() {
            return Err(Reject::Malformed);
        }
        inner.state().place_order(&channel, body, Utc::now())
    });
    match placed {
        Ok(placed) => {
            tracing::info!(order_id = %placed.order_id, consumed_fen = placed.consumed_fen, "daoway sandbox: order placed");
            ok(CreatedOrder {
                order_id: placed.order_id,
                consumed_money: yuan_number(placed.consumed_fen),
                remaining_money: yuan_number(placed.remaining_fen),
            })
        }
        Err(reject) => reject.into_response(),
    }
}

async fn order_status(
    State(inner): State<Arc<Inner>>,
    Path(order_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = Params::parse(raw);
    let status = check_channel(&inner, &params).and_then(|channel| {
        let mut state = inner.state();
        state.advance(Utc::now());
        state.note_status_query(&order_id);
        state
            .order(&order_id)
            .filter(|o| o.channel == channel)
            .map(|o| o.status.as_str())
            .ok_or(Reject::UnknownOrder)
    });
    match status {
        Ok(status) => ok(status),
        Err(reject) => reject.into_response(),
    }
}
