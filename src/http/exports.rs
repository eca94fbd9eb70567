//! `GET /exports/orders.csv`: the orders a filter matches, as a CSV file for spreadsheets,
//! streamed page by page (keyset, 500 rows a read) so a year of orders never sits in memory.
//! UTF-8 with a byte-order mark (so Excel reads the Chinese right), one row per order,
//! amounts in yuan with two decimals, times in China time. The query parameters are the
//! `orders` filter's fields (`statuses` comma-separated) plus `sortBy` and `sortDirection`;
//! the caller needs the `ORDERS_READ` scope, and a key restricted to some shops exports
//! only theirs.

use std::io;

use async_graphql::ID;
use axum::{
    body::{Body, Bytes},
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;

use super::{authenticate, http_error};
use crate::{
    access::{AccessService, Scope},
    domain::{Direction, Money, OrderKind},
    graphql::ids::{self, Kind},
    orders::{OrderFilter, OrderService, Position, Search, Sort, SortKey, Window},
};

/// Rows read at a time.
const CHUNK: u64 = 500;

/// China Standard Time, the export's clock.
const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(o) => o,
    None => panic!("+08:00 is a valid offset"),
};

/// What the export route needs.
#[derive(Clone)]
pub struct Exports {
    pub access: AccessService,
    pub orders: OrderService,
}

/// The query string: the `orders` filter's fields, and the sort.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Params {
    provider: Option<String>,
    statuses: Option<String>,
    shop_id: Option<String>,
    kind: Option<String>,
    direction: Option<String>,
    courier_company: Option<String>,
    city: Option<String>,
    created_after: Option<String>,
    created_before: Option<String>,
    updated_after: Option<String>,
    updated_before: Option<String>,
    search: Option<String>,
    sort_by: Option<String>,
    sort_direction: Option<String>,
}

const COLUMNS: &[&str] = &[
    "id",
    "provider",
    "kind",
    "direction",
    "status",
    "raw_status",
    "platform_order_id",
    "platform_ref",
    "shop_id",
    "city",
    "contact",
    "phone",
    "created_at",
    "updated_at",
    "total_yuan",
    "delivery_fee_yuan",
    "tips_yuan",
    "penalty_yuan",
    "courier_company",
    "cancel_reason",
];

fn bad(message: String) -> Response {
    http_error(StatusCode::BAD_REQUEST, "INVALID_INPUT", &message)
}

fn time(name: &str, v: Option<String>) -> Result<Option<DateTime<Utc>>, String> {
    v.map(|s| {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| format!("{name} is not an RFC 3339 time: {s}"))
    })
    .transpose()
}

/// The parameters in the order service's terms, or what is wrong with them.
fn read(p: Params, within: Option<Vec<i64>>) -> Result<(OrderFilter, Sort), String> {
    let nonblank = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let provider = nonblank(p.provider)
        .map(|s| s.parse().map_err(|_| format!("unknown provider {s}")))
        .transpose()?;
    let statuses = nonblank(p.statuses)
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().parse().map_err(|_| format!("unknown status {x}")))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let shop_id = nonblank(p.shop_id)
        .map(|s| {
            ids::decode(Kind::Shop, &ID(s.clone())).ok_or_else(|| format!("{s} is not a shop id"))
        })
        .transpose()?;
    let kind = match nonblank(p.kind).as_deref() {
        None => None,
        Some("SERVICE") => Some(OrderKind::Service),
        Some("DELIVERY") => Some(OrderKind::Delivery),
        Some(other) => return Err(format!("kind is SERVICE or DELIVERY, not {other}")),
    };
    let direction = match nonblank(p.direction).as_deref() {
        None => None,
        Some("OUTBOUND") => Some(Direction::Outbound),
        Some("INBOUND") => Some(Direction::Inbound),
        Some(other) => {
            return Err(format!("direction is OUTBOUND or INBOUND, not {other}"));
        }
    };
    let search = Search::read(p.search.as_deref(), |t| {
        ids::decode(Kind::Order, &ID(t.to_owned()))
    })?;
    let key = match nonblank(p.sort_by).as_deref() {
        None | Some("RECORDED") => SortKey::Recorded,
        Some("CREATED") => SortKey::Created,
        Some("UPDATED") => SortKey::Updated,
        Some("AMOUNT") => SortKey::Amount,
        Some(other) => {
            return Err(format!(
                "sortBy is RECORDED, CREATED, UPDATED or AMOUNT, not {other}"
            ));
        }
    };
    let descending = match nonblank(p.sort_direction).as_deref() {
        None | Some("DESC") => true,
        Some("ASC") => false,
        Some(other) => return Err(format!("sortDirection is ASC or DESC, not {other}")),
    };
    let filter = OrderFilter {
        provider,
        statuses,
        shop_id,
        within_shops: within,
        kind,
        direction,
        courier_company: nonblank(p.courier_company),
        city: nonblank(p.city),
        created_from: time("createdAfter", p.created_after)?,
        created_until: time("createdBefore", p.created_before)?,
        updated_from: time("updatedAfter", p.updated_after)?,
        updated_until: time("updatedBefore", p.updated_before)?,
        search,
    };
    Ok((filter, Sort { key, descending }))
}

/// One order as a CSV record.
fn record(o: &entity::orders::Model) -> Vec<String> {
    let at = |t: DateTime<Utc>| {
        t.with_timezone(&CHINA)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let yuan = |fen: Option<i64>| {
        fen.map(|f| Money::from_fen(f).to_string())
            .unwrap_or_default()
    };
    vec![
        ids::encode(Kind::Order, o.id).to_string(),
        o.provider.clone(),
        o.kind.clone(),
        o.direction.clone(),
        o.status.clone(),
        o.raw_status.clone(),
        o.external_id.clone().unwrap_or_default(),
        o.platform_ref.clone().unwrap_or_default(),
        o.shop_id
            .map(|s| ids::encode(Kind::Shop, s).to_string())
            .unwrap_or_default(),
        o.city.clone(),
        o.contact_person.clone(),
        o.phone.clone(),
        at(o.created_at),
        at(o.updated_at),
        yuan(Some(o.total_fen)),
        yuan(o.delivery_fee_fen),
        yuan(o.tips_fen),
        yuan(o.penalty_fen),
        o.courier_company.clone().unwrap_or_default(),
        o.cancel_reason.clone().unwrap_or_default(),
    ]
}

/// Records as CSV text.
fn csv_text<I: IntoIterator<Item = Vec<String>>>(records: I) -> io::Result<Bytes> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in records {
        w.write_record(&r).map_err(io::Error::other)?;
    }
    w.into_inner()
        .map(Bytes::from)
        .map_err(|e| io::Error::other(e.to_string()))
}

pub async fn orders_csv(
    State(ex): State<Exports>,
    headers: HeaderMap,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let caller = match authenticate(&ex.access, &headers).await {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    if !caller.allows(Scope::OrdersRead) {
        return http_error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "exporting orders needs a key with the orders:read scope",
        );
    }
    let Query(params) = match params {
        Ok(p) => p,
        Err(e) => return bad(format!("the query string is not an export filter: {e}")),
    };
    let (filter, sort) = match read(params, caller.shops.clone()) {
        Ok(r) => r,
        Err(message) => return bad(message),
    };
    metrics::counter!("orderhub_exports_total").increment(1);
    let orders = ex.orders;
    let body = async_stream::stream! {
        let mut head = "\u{feff}".as_bytes().to_vec();
        match csv_text([COLUMNS.iter().map(|c| c.to_string()).collect()]) {
            Ok(b) => head.extend_from_slice(&b),
            Err(e) => { yield Err(e); return; }
        }
        yield Ok(Bytes::from(head));
        let mut after: Option<Position> = None;
        loop {
            let window = Window { sort, after, before: None, from_end: false, n: CHUNK };
            let slice = match orders.list(&filter, window).await {
                Ok(s) => s,
                Err(e) => {
                    // The client sees the download fail, not a silently short file.
                    tracing::error!(error = %e, "an orders export could not read its next rows");
                    yield Err(io::Error::other("the export could not read its next rows"));
                    return;
                }
            };
            after = slice.rows.last().map(|o| Position::of(o, sort.key));
            yield csv_text(slice.rows.iter().map(record));
            if !slice.more {
                return;
            }
        }
    };
    let mut resp = Body::from_stream(body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"orders.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
