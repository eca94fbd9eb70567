//! The arguments of the `orders` list: its filter, its sort, and its cursors (an order's
//! place in the sorted list), read into the order service's terms.

use async_graphql::{Context, Enum, ID, InputObject, Result, connection::CursorType};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};

use super::{
    access::caller,
    errors::invalid,
    ids::{self, Kind},
    paging::{Take, Window},
    types::{OrderDirection, OrderKind, OrderStatus, ProviderId},
};
use crate::orders::{self, Position, Search, Sort, SortKey};

/// Which orders to list; every field is optional and they combine (all must match).
#[derive(InputObject, Default)]
pub struct OrderFilter {
    /// Only this provider's orders.
    pub provider: Option<ProviderId>,
    /// Only orders in one of these statuses.
    pub statuses: Option<Vec<OrderStatus>>,
    /// Only orders of this shop (a `Shop` id).
    pub shop_id: Option<ID>,
    /// Only service appointments, or only courier deliveries.
    pub kind: Option<OrderKind>,
    /// Only orders we placed, or only orders pushed to us.
    pub direction: Option<OrderDirection>,
    /// Only deliveries carried by this company on a network of several (`delivery.company`:
    /// WeChat's `delivery_id`, e.g. `SFTC`).
    pub courier_company: Option<String>,
    /// Only orders to this city, as the order spells it (e.g. "上海").
    pub city: Option<String>,
    /// Created at or after this time.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before this time.
    pub created_before: Option<DateTime<Utc>>,
    /// Last changed at or after this time.
    pub updated_after: Option<DateTime<Utc>>,
    /// Last changed before this time.
    pub updated_before: Option<DateTime<Utc>>,
    /// One term matched against our order id (`Order.id`), the platform's ids (`externalId`,
    /// `delivery.platformOrderId`), the customer's phone (the whole number, or its last 4
    /// digits) and the start of the contact's name; up to 64 characters.
    pub search: Option<String>,
}

/// What the list is sorted by.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum OrderSortKey {
    /// The order in which orderhub recorded the orders (the default).
    #[default]
    Recorded,
    /// When the order was created.
    Created,
    /// When the order last changed.
    Updated,
    /// What the platform charged (`amounts.total`).
    Amount,
}

/// Which way a sort runs.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum SortDirection {
    /// Smallest (oldest) first.
    Asc,
    /// Largest (newest) first (the default).
    #[default]
    Desc,
}

/// How to sort the `orders` list; orders with equal keys keep the order they were recorded in.
#[derive(InputObject, Default, Clone, Copy)]
pub struct OrderSort {
    /// The sort key (`RECORDED` by default).
    #[graphql(default)]
    pub by: OrderSortKey,
    /// The direction (`DESC` by default).
    #[graphql(default)]
    pub direction: SortDirection,
}

impl From<OrderSort> for Sort {
    fn from(s: OrderSort) -> Self {
        Sort {
            key: match s.by {
                OrderSortKey::Recorded => SortKey::Recorded,
                OrderSortKey::Created => SortKey::Created,
                OrderSortKey::Updated => SortKey::Updated,
                OrderSortKey::Amount => SortKey::Amount,
            },
            descending: s.direction == SortDirection::Desc,
        }
    }
}

/// An order's place in the sorted list, as an opaque cursor (base64url of JSON). A cursor
/// of the list before it could be sorted (a bare order id) still reads, as a place in the
/// default order.
#[derive(Clone, Copy, Debug)]
pub struct OrderCursor(pub Position);

impl CursorType for OrderCursor {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string())?;
        if let Ok(p) = serde_json::from_slice::<Position>(&bytes) {
            return Ok(Self(p));
        }
        let id: i64 = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        Ok(Self(Position { key: None, id }))
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&self.0).unwrap_or_default())
    }
}

/// The filter in the order service's terms, narrowed to the caller's shops.
pub(super) fn service_filter(
    ctx: &Context<'_>,
    filter: OrderFilter,
) -> Result<orders::OrderFilter> {
    let shop_id = match &filter.shop_id {
        Some(id) => {
            Some(ids::decode(Kind::Shop, id).ok_or_else(|| invalid("shopId is not a shop id"))?)
        }
        None => None,
    };
    let nonblank = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let search = Search::read(filter.search.as_deref(), |t| {
        ids::decode(Kind::Order, &ID(t.to_owned()))
    })
    .map_err(invalid)?;
    for (name, from, until) in [
        ("created", filter.created_after, filter.created_before),
        ("updated", filter.updated_after, filter.updated_before),
    ] {
        if let (Some(a), Some(b)) = (from, until)
            && a > b
        {
            return Err(invalid(format!(
                "{name}After is later than {name}Before: no order can match"
            )));
        }
    }
    Ok(orders::OrderFilter {
        provider: filter.provider.map(Into::into),
        statuses: filter
            .statuses
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect(),
        shop_id,
        within_shops: caller(ctx)?.shops.clone(),
        kind: filter.kind.map(Into::into),
        direction: filter.direction.map(Into::into),
        courier_company: nonblank(filter.courier_company),
        city: nonblank(filter.city),
        created_from: filter.created_after,
        created_until: filter.created_before,
        updated_from: filter.updated_after,
        updated_until: filter.updated_before,
        search,
    })
}

/// The page window in the order service's terms; a cursor from a list sorted otherwise is
/// refused.
pub(super) fn service_window(w: &Window<OrderCursor>, sort: Sort) -> Result<orders::Window> {
    for (name, c) in [("after", &w.after), ("before", &w.before)] {
        if let Some(c) = c
            && !c.0.fits(sort.key)
        {
            return Err(invalid(format!(
                "{name} is a cursor of the list sorted another way; use cursors of this sort"
            )));
        }
    }
    Ok(orders::Window {
        sort,
        after: w.after.map(|c| c.0),
        before: w.before.map(|c| c.0),
        from_end: w.take == Take::Last,
        n: w.n as u64,
    })
}
