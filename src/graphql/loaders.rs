//! DataLoaders for every child lookup, so a page of orders costs a constant number of SQL
//! statements however long it is. Each batch is one call of a repository function of the
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

/// Collects keys for 20 ms: long enough for every sibling resolver of a 100-row page (even in
/// a debug build on PostgreSQL, where 5 ms split a page of 50 into two batches) to join one
/// batch. It adds up to 20 ms per nesting level; prefetching in the list resolvers would
/// remove that and is the next step.
fn batched<K, L>(loader: L) -> DataLoader<L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    DataLoader::new(loader, tokio::spawn)
        .delay(std::time::Duration::from_millis(20))
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
