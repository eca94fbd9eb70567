//! Finding orders: the filters of the `orders` list, its sort orders and keyset paging.
//!
//! A page is read by keyset: the sort key and the id after it (so equal keys keep one order),
//! compared with the position a cursor holds, so pages neither skip nor repeat an order that
//! was written meanwhile. Every filter term is an indexed column (migration 9).

use chrono::{DateTime, Utc};
use entity::orders;
use sea_orm::{
    ColumnTrait, Condition, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, LikeExpr, SimpleExpr},
};
use serde::{Deserialize, Serialize};

use super::OrderService;
use crate::domain::{Direction, OrderKind, OrderStatus, ProviderId};

/// Filters of the `orders` list; every term given must hold.
#[derive(Debug, Default, Clone)]
pub struct OrderFilter {
    pub provider: Option<ProviderId>,
    pub statuses: Vec<OrderStatus>,
    pub shop_id: Option<i64>,
    /// Only orders of these shops (an API key restricted to them); None = no restriction.
    pub within_shops: Option<Vec<i64>>,
    pub kind: Option<OrderKind>,
    pub direction: Option<Direction>,
    /// The courier company a delivery went to (WeChat's `delivery_id`, or `DADA`).
    pub courier_company: Option<String>,
    pub city: Option<String>,
    /// Created at or after / before (exclusive).
    pub created_from: Option<DateTime<Utc>>,
    pub created_until: Option<DateTime<Utc>>,
    pub updated_from: Option<DateTime<Utc>>,
    pub updated_until: Option<DateTime<Utc>>,
    pub search: Option<Search>,
}

/// A search term, read once: what it can be.
#[derive(Debug, Clone)]
pub struct Search {
    /// The term as given (the platform's ids, a full phone number).
    pub text: String,
    /// Our own order id, when the term is one.
    pub order_id: Option<i64>,
}

/// The longest search term.
pub const MAX_SEARCH_CHARS: usize = 64;

impl Search {
    /// The search for a term as given: trimmed, None when blank, refused (with the reason)
    /// when longer than [`MAX_SEARCH_CHARS`]; `order_id` reads our own order id from it.
    pub fn read(
        raw: Option<&str>,
        order_id: impl FnOnce(&str) -> Option<i64>,
    ) -> Result<Option<Search>, String> {
        let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if text.chars().count() > MAX_SEARCH_CHARS {
            return Err(format!(
                "search is too long ({MAX_SEARCH_CHARS} characters at most)"
            ));
        }
        Ok(Some(Search {
            order_id: order_id(text),
            text: text.to_owned(),
        }))
    }

    /// Matches our id, the platform's order id or reference, the customer's phone (the whole
    /// number, or its last four digits), or the start of the contact's name.
    /// Four digits are a phone's last four (or a platform id), looked up by index alone;
    /// anything else is also tried as the start of a name, which reads every candidate row.
    fn condition(&self) -> Condition {
        let t = self.text.as_str();
        let mut any = Condition::any()
            .add(orders::Column::ExternalId.eq(t))
            .add(orders::Column::PlatformRef.eq(t));
        if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
            any = any.add(Expr::col(Alias::new("phone_tail")).eq(t));
        } else {
            any = any.add(orders::Column::Phone.eq(t)).add(
                orders::Column::ContactPerson
                    .like(LikeExpr::new(format!("{}%", escape_like(t))).escape('\\')),
            );
        }
        if let Some(id) = self.order_id {
            any = any.add(orders::Column::Id.eq(id));
        }
        any
    }
}

/// `%`, `_` and the escape itself taken literally in a LIKE pattern (escape `\`).
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// What the list is sorted by; ties go by id, the same way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    /// The order in which we recorded orders (the id).
    #[default]
    Recorded,
    Created,
    Updated,
    /// What the platform charged.
    Amount,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    /// Newest recorded first: the list's default.
    pub const NEWEST: Sort = Sort {
        key: SortKey::Recorded,
        descending: true,
    };
}

/// A sort key's value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyValue {
    Time(DateTime<Utc>),
    Fen(i64),
}

/// An order's place in a sorted list: its sort key's value (none when sorted by id) and id.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyValue>,
    #[serde(rename = "i")]
    pub id: i64,
}

impl Position {
    /// The place of `o` in a list sorted by `key`.
    pub fn of(o: &orders::Model, key: SortKey) -> Self {
        Self {
            key: match key {
                SortKey::Recorded => None,
                SortKey::Created => Some(KeyValue::Time(o.created_at)),
                SortKey::Updated => Some(KeyValue::Time(o.updated_at)),
                SortKey::Amount => Some(KeyValue::Fen(o.total_fen)),
            },
            id: o.id,
        }
    }

    /// Whether it was taken from a list sorted by `key`.
    pub fn fits(&self, key: SortKey) -> bool {
        matches!(
            (key, self.key),
            (SortKey::Recorded, None)
                | (SortKey::Created | SortKey::Updated, Some(KeyValue::Time(_)))
                | (SortKey::Amount, Some(KeyValue::Fen(_)))
        )
    }
}

/// Which part of the sorted list a page takes.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub sort: Sort,
    /// Only orders after this one, in list order.
    pub after: Option<Position>,
    /// Only orders before this one, in list order.
    pub before: Option<Position>,
    /// Take from the end of the window (`last`) rather than its start (`first`).
    pub from_end: bool,
    /// How many to take.
    pub n: u64,
}

/// A page of orders in list order, and whether more lie beyond the end it was taken from.
pub struct Slice {
    pub rows: Vec<orders::Model>,
    pub more: bool,
}

fn key_column(key: SortKey) -> orders::Column {
    match key {
        SortKey::Recorded => orders::Column::Id,
        SortKey::Created => orders::Column::CreatedAt,
        SortKey::Updated => orders::Column::UpdatedAt,
        SortKey::Amount => orders::Column::TotalFen,
    }
}

fn value(v: KeyValue) -> sea_orm::Value {
    match v {
        KeyValue::Time(t) => t.into(),
        KeyValue::Fen(f) => f.into(),
    }
}

/// Orders strictly beyond `p` in the direction given (`greater`: larger key, then id).
fn beyond(key: SortKey, p: &Position, greater: bool) -> SimpleExpr {
    let id = |v: i64| {
        if greater {
            orders::Column::Id.gt(v)
        } else {
            orders::Column::Id.lt(v)
        }
    };
    match (key, p.key) {
        (SortKey::Recorded, _) | (_, None) => id(p.id),
        (_, Some(v)) => {
            let col = key_column(key);
            let v = value(v);
            let past = if greater {
                col.gt(v.clone())
            } else {
                col.lt(v.clone())
            };
            past.or(col.eq(v).and(id(p.id)))
        }
    }
}

pub(super) fn condition(filter: &OrderFilter) -> Condition {
    let mut cond = Condition::all();
    if let Some(p) = filter.provider {
        cond = cond.add(orders::Column::Provider.eq(p.as_str()));
    }
    if !filter.statuses.is_empty() {
        cond = cond.add(orders::Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(shop) = filter.shop_id {
        cond = cond.add(orders::Column::ShopId.eq(shop));
    }
    if let Some(shops) = &filter.within_shops {
        cond = cond.add(orders::Column::ShopId.is_in(shops.iter().copied()));
    }
    if let Some(k) = filter.kind {
        cond = cond.add(orders::Column::Kind.eq(k.as_str()));
    }
    if let Some(d) = filter.direction {
        cond = cond.add(orders::Column::Direction.eq(d.as_str()));
    }
    if let Some(c) = &filter.courier_company {
        cond = cond.add(orders::Column::CourierCompany.eq(c.as_str()));
    }
    if let Some(c) = &filter.city {
        cond = cond.add(orders::Column::City.eq(c.as_str()));
    }
    let ranges = [
        (
            orders::Column::CreatedAt,
            filter.created_from,
            filter.created_until,
        ),
        (
            orders::Column::UpdatedAt,
            filter.updated_from,
            filter.updated_until,
        ),
    ];
    for (col, from, until) in ranges {
        if let Some(t) = from {
            cond = cond.add(col.gte(t));
        }
        if let Some(t) = until {
            cond = cond.add(col.lt(t));
        }
    }
    if let Some(s) = &filter.search {
        cond = cond.add(s.condition());
    }
    cond
}

impl OrderService {
    /// A page of orders matching `filter`, in `window.sort` order (from the end of the
    /// window with `from_end`, still returned in list order).
    pub async fn list(&self, filter: &OrderFilter, window: Window) -> Result<Slice, DbErr> {
        let Window {
            sort,
            after,
            before,
            from_end,
            n,
        } = window;
        let mut cond = condition(filter);
        // "After" in list order is a smaller key in a descending list.
        if let Some(p) = &after {
            cond = cond.add(beyond(sort.key, p, !sort.descending));
        }
        if let Some(p) = &before {
            cond = cond.add(beyond(sort.key, p, sort.descending));
        }
        // Read from the end the page is taken from.
        let descending = sort.descending != from_end;
        let order = if descending {
            sea_orm::Order::Desc
        } else {
            sea_orm::Order::Asc
        };
        let mut query = orders::Entity::find().filter(cond);
        if sort.key != SortKey::Recorded {
            query = query.order_by(key_column(sort.key), order.clone());
        }
        let mut rows = query
            .order_by(orders::Column::Id, order)
            .limit(n.saturating_add(1))
            .all(&self.reader)
            .await?;
        let more = rows.len() as u64 > n;
        rows.truncate(usize::try_from(n).unwrap_or(usize::MAX));
        if from_end {
            rows.reverse();
        }
        Ok(Slice { rows, more })
    }

    /// How many orders the filter matches (a connection's `totalCount`).
    pub async fn count(&self, filter: &OrderFilter) -> Result<u64, DbErr> {
        orders::Entity::find()
            .filter(condition(filter))
            .count(&self.reader)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(escape_like("a%b_c\\"), "a\\%b\\_c\\\\");
    }

    #[test]
    fn positions_fit_their_sort_only() {
        let t = Position {
            key: Some(KeyValue::Time(Utc::now())),
            id: 3,
        };
        assert!(t.fits(SortKey::Created) && t.fits(SortKey::Updated));
        assert!(!t.fits(SortKey::Amount) && !t.fits(SortKey::Recorded));
        let id = Position { key: None, id: 3 };
        assert!(id.fits(SortKey::Recorded) && !id.fits(SortKey::Created));
        let text = serde_json::to_string(&Position {
            key: Some(KeyValue::Fen(250)),
            id: 9,
        })
        .unwrap();
        let back: Position = serde_json::from_str(&text).unwrap();
        assert_eq!(back.key, Some(KeyValue::Fen(250)));
    }
}
