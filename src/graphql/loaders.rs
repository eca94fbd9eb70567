//! DataLoaders for the child lookups outside a page (a page reads its children ahead: see
//! `prefetch`), so many objects resolved at once still cost one statement per kind. Each batch is one call of a repository function of the
//! service that owns the rows (`orders::repo`, `catalog::repo`). They do not cache (each
//! load reads the database), so one set serves every request and subscription without
//! handing out stale rows.

use std::{collections::HashMap, future::Future, hash::Hash};

use async_graphql::dataloader::{DataLoader, Loader};

use super::errors::internal;
use crate::{
    catalog::repo::{self as catalog, CategoryRow, PriceRow, ShopRow},
    orders::repo::{self as orders, Db, OrderEventRow, OrderItemRow, OrderRow, OutboxRow},
};

pub struct Loaders {
    pub shops: DataLoader<ShopLoader>,
    pub prices: DataLoader<PricesByShop>,
    pub events: DataLoader<EventsByOrder>,
    pub items: DataLoader<ItemsByOrder>,
    pub orders: DataLoader<OrderLoader>,
    pub categories: DataLoader<CategoryByKey>,
    pub outbox: DataLoader<OutboxByOrder>,
}

impl Loaders {
    /// `db` is the services' connection (`OrderService::db`); the loaders only hand it to
    /// the repository functions.
    pub fn new(db: Db) -> Self {
        Self {
            shops: batched(ShopLoader(db.clone())),
            prices: batched(PricesByShop(db.clone())),
            events: batched(EventsByOrder(db.clone())),
            items: batched(ItemsByOrder(db.clone())),
            orders: batched(OrderLoader(db.clone())),
            outbox: batched(OutboxByOrder(db.clone())),
            categories: batched(CategoryByKey(db)),
        }
    }
}

/// No batching window: a batch starts as soon as the first key's resolver yields, and takes
/// every key its siblings asked for by then (they are polled in the same pass). Pages never
/// get here — their children are read ahead (`prefetch`) — so what batches here is what lies
/// outside a page: one `order(id:)`'s children, the orders of many subscribers' events.
fn batched<K, L>(loader: L) -> DataLoader<L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    DataLoader::new(loader, tokio::spawn)
        .delay(std::time::Duration::ZERO)
        .max_batch_size(1000)
}

/// A batch's outcome: a database failure is logged and reported as `INTERNAL`.
async fn batch<K, V, E: std::fmt::Display>(
    rows: impl Future<Output = Result<HashMap<K, V>, E>>,
) -> Result<HashMap<K, V>, async_graphql::Error> {
    rows.await.map_err(internal)
}

/// One loader per lookup: its key, what it yields per key, and the repository function
/// that reads a batch.
macro_rules! loader {
    ($(#[$doc:meta])* $name:ident, $key:ty => $value:ty, $read:path) => {
        $(#[$doc])*
        pub struct $name(Db);

        impl Loader<$key> for $name {
            type Value = $value;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $value>, Self::Error> {
                batch($read(&self.0, keys)).await
            }
        }
    };
}

loader!(ShopLoader, i64 => ShopRow, catalog::shops_by_id);
loader!(OrderLoader, i64 => OrderRow, orders::orders_by_id);
loader!(PricesByShop, i64 => Vec<PriceRow>, catalog::active_prices_by_shop);
loader!(EventsByOrder, i64 => Vec<OrderEventRow>, orders::events_by_order);
loader!(OutboxByOrder, i64 => Vec<OutboxRow>, orders::outbox_by_order);
loader!(ItemsByOrder, i64 => Vec<OrderItemRow>, orders::items_by_order);
loader!(
    /// Categories by (provider, platform id): shops know their category by the platform's id.
    CategoryByKey, (String, String) => CategoryRow, catalog::categories_by_key
);
