//! Pages load their children up front. A list resolver (`orders`, `shops`) looks ahead at the
//! selection and reads every child the page asks for — shops, their prices and categories,
//! items, events, outbox rows — in one statement per kind, before any child resolver runs.
//! The rows go into the request's [`PageCache`], where the child resolvers find them without
//! waiting; only a child outside a page (one `order(id:)`, a subscription's event) falls back
//! to the DataLoaders. So a page costs a constant number of statements and no batching
//! window: nothing on the request path waits on a timer.
//!
//! The cache lives for one request (`graphql::prepare` gives each its own). Only list
//! resolvers fill it, and none is reachable from a subscription, so a long-lived
//! subscription never serves rows read for an earlier event.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use async_graphql::{Context, Result};

use super::{errors::internal, resolve::services};
use crate::{
    catalog::repo::{self as catalog, CategoryRow, PriceRow, ShopRow},
    orders::repo::{self as orders, OrderEventRow, OrderItemRow, OutboxRow},
};

/// Children read ahead for the pages of one request, by the parent's id.
#[derive(Default)]
struct Rows {
    shops: HashMap<i64, Option<ShopRow>>,
    prices: HashMap<i64, Vec<PriceRow>>,
    categories: HashMap<(String, String), Option<CategoryRow>>,
    items: HashMap<i64, Vec<OrderItemRow>>,
    events: HashMap<i64, Vec<OrderEventRow>>,
    outbox: HashMap<i64, Vec<OutboxRow>>,
}

/// The request's read-ahead rows (see the module documentation).
#[derive(Default)]
pub struct PageCache(Mutex<Rows>);

/// A child list as read ahead: `Some` (maybe empty) when the parent's page read that kind.
type Children<T> = Option<Vec<T>>;

/// A child object as read ahead: `Some` when the parent's page read it, holding `None` when
/// it does not exist (so the resolver does not ask again).
type Child<T> = Option<Option<T>>;

impl PageCache {
    fn with<T>(&self, f: impl FnOnce(&mut Rows) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The request's cache, when the request has one (every request the HTTP and websocket
/// handlers run does).
fn cache<'a>(ctx: &Context<'a>) -> Option<&'a PageCache> {
    ctx.data_opt::<PageCache>()
}

pub(super) fn shop(ctx: &Context<'_>, id: i64) -> Child<ShopRow> {
    cache(ctx)?.with(|r| r.shops.get(&id).cloned())
}

pub(super) fn prices(ctx: &Context<'_>, shop_id: i64) -> Children<PriceRow> {
    cache(ctx)?.with(|r| r.prices.get(&shop_id).cloned())
}

pub(super) fn category(ctx: &Context<'_>, key: &(String, String)) -> Child<CategoryRow> {
    cache(ctx)?.with(|r| r.categories.get(key).cloned())
}

pub(super) fn items(ctx: &Context<'_>, order_id: i64) -> Children<OrderItemRow> {
    cache(ctx)?.with(|r| r.items.get(&order_id).cloned())
}

pub(super) fn events(ctx: &Context<'_>, order_id: i64) -> Children<OrderEventRow> {
    cache(ctx)?.with(|r| r.events.get(&order_id).cloned())
}

pub(super) fn outbox(ctx: &Context<'_>, order_id: i64) -> Children<OutboxRow> {
    cache(ctx)?.with(|r| r.outbox.get(&order_id).cloned())
}

/// Which children the items of a page select, through `edges { node }` or `nodes`.
struct Wants<'a> {
    node: [async_graphql::Lookahead<'a>; 2],
}

impl<'a> Wants<'a> {
    fn of(ctx: &'a Context<'_>) -> Self {
        let look = ctx.look_ahead();
        Self {
            node: [look.field("edges").field("node"), look.field("nodes")],
        }
    }
    fn any(&self, path: &[&str]) -> bool {
        fn follow(at: &async_graphql::Lookahead<'_>, path: &[&str]) -> bool {
            match path.split_first() {
                None => at.exists(),
                Some((first, rest)) => follow(&at.field(first), rest),
            }
        }
        self.node.iter().any(|n| follow(n, path))
    }
}

/// Every parent once, in order (a page's shops repeat).
fn distinct(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut seen = std::collections::HashSet::new();
    ids.filter(|id| seen.insert(*id)).collect()
}

/// Reads ahead what a page of orders selects.
pub(super) async fn orders_page(ctx: &Context<'_>, page: &[orders::OrderRow]) -> Result<()> {
    let Some(cache) = cache(ctx) else {
        return Ok(());
    };
    if page.is_empty() {
        return Ok(());
    }
    let wants = Wants::of(ctx);
    let db = services(ctx)?.orders.reader();
    let ids: Vec<i64> = page.iter().map(|o| o.id).collect();
    let shop_ids = distinct(page.iter().filter_map(|o| o.shop_id));
    let (items, events, outbox) = futures::try_join!(
        when(wants.any(&["items"]), orders::items_by_order(db, &ids)),
        when(wants.any(&["events"]), orders::events_by_order(db, &ids)),
        when(wants.any(&["outbox"]), orders::outbox_by_order(db, &ids)),
    )
    .map_err(internal)?;
    let shops = when(
        wants.any(&["shop"]) && !shop_ids.is_empty(),
        catalog::shops_by_id(db, &shop_ids),
    )
    .await
    .map_err(internal)?;
    cache.with(|r| {
        fill(&mut r.items, &ids, items);
        fill(&mut r.events, &ids, events);
        fill(&mut r.outbox, &ids, outbox);
    });
    if let Some(mut shops) = shops {
        let rows: Vec<ShopRow> = shops.values().cloned().collect();
        shop_children(ctx, cache, &rows, &["shop"], &wants).await?;
        cache.with(|r| {
            for id in shop_ids {
                r.shops.insert(id, shops.remove(&id));
            }
        });
    }
    Ok(())
}

/// Reads ahead what a page of shops selects.
pub(super) async fn shops_page(ctx: &Context<'_>, page: &[ShopRow]) -> Result<()> {
    let Some(cache) = cache(ctx) else {
        return Ok(());
    };
    shop_children(ctx, cache, page, &[], &Wants::of(ctx)).await
}

/// The prices and categories of `shops`, when `at` (the path from a page item to a shop)
/// selects them.
async fn shop_children(
    ctx: &Context<'_>,
    cache: &PageCache,
    shops: &[ShopRow],
    at: &[&str],
    wants: &Wants<'_>,
) -> Result<()> {
    if shops.is_empty() {
        return Ok(());
    }
    let db = services(ctx)?.orders.reader();
    let path = |leaf: &'static str| -> Vec<&str> { at.iter().copied().chain([leaf]).collect() };
    let ids: Vec<i64> = shops.iter().map(|s| s.id).collect();
    let keys: Vec<(String, String)> = shops
        .iter()
        .filter_map(|s| Some((s.provider.clone(), s.category_external_id.clone()?)))
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .collect();
    let (prices, categories) = futures::try_join!(
        when(
            wants.any(&path("prices")),
            catalog::active_prices_by_shop(db, &ids)
        ),
        when(
            wants.any(&path("category")) && !keys.is_empty(),
            catalog::categories_by_key(db, &keys)
        ),
    )
    .map_err(internal)?;
    cache.with(|r| {
        fill(&mut r.prices, &ids, prices);
        if let Some(mut found) = categories {
            for key in keys {
                let row = found.remove(&key);
                r.categories.insert(key, row);
            }
        }
    });
    Ok(())
}

/// Runs `read` only when the selection asks for what it reads.
async fn when<T, E>(
    wanted: bool,
    read: impl Future<Output = Result<T, E>>,
) -> Result<Option<T>, E> {
    if wanted {
        read.await.map(Some)
    } else {
        Ok(None)
    }
}

/// Stores a read-ahead child list for every parent of the page, empty ones included (a
/// parent with no rows has none, not "not read").
fn fill<T>(into: &mut HashMap<i64, Vec<T>>, ids: &[i64], read: Option<HashMap<i64, Vec<T>>>) {
    if let Some(mut read) = read {
        for id in ids {
            into.insert(*id, read.remove(id).unwrap_or_default());
        }
    }
}
