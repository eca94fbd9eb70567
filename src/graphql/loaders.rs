//! DataLoaders for every child lookup, so a page of orders costs a constant number of SQL
//! statements however long it is. They do not cache (each load reads the database), so one
//! set serves every request and subscription without handing out stale rows.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{category, order_event, order_item, orders, outbox, price, shop};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
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
    pub fn new(db: DatabaseConnection) -> Self {
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
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    DataLoader::new(loader, tokio::spawn)
        .delay(std::time::Duration::from_millis(20))
        .max_batch_size(1000)
}

type LoadResult<K, V> = Result<HashMap<K, V>, Arc<DbErr>>;

pub struct ShopLoader(DatabaseConnection);

impl Loader<i64> for ShopLoader {
    type Value = shop::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[i64]) -> LoadResult<i64, shop::Model> {
        Ok(shop::Entity::find()
            .filter(shop::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect())
    }
}

pub struct OrderLoader(DatabaseConnection);

impl Loader<i64> for OrderLoader {
    type Value = orders::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[i64]) -> LoadResult<i64, orders::Model> {
        Ok(orders::Entity::find()
            .filter(orders::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect())
    }
}

/// Groups rows by a key, keeping their order.
fn group<K: std::hash::Hash + Eq, V>(rows: Vec<V>, key: impl Fn(&V) -> K) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}

pub struct PricesByShop(DatabaseConnection);

impl Loader<i64> for PricesByShop {
    type Value = Vec<price::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[i64]) -> LoadResult<i64, Vec<price::Model>> {
        let rows = price::Entity::find()
            .filter(price::Column::ShopId.is_in(keys.iter().copied()))
            .filter(price::Column::Active.eq(true))
            .order_by_asc(price::Column::ShopId)
            .order_by_asc(price::Column::Position)
            .order_by_asc(price::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group(rows, |p| p.shop_id))
    }
}

pub struct EventsByOrder(DatabaseConnection);

impl Loader<i64> for EventsByOrder {
    type Value = Vec<order_event::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[i64]) -> LoadResult<i64, Vec<order_event::Model>> {
        let rows = order_event::Entity::find()
            .filter(order_event::Column::OrderId.is_in(keys.iter().copied()))
            .order_by_asc(order_event::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group(rows, |e| e.order_id))
    }
}

pub struct OutboxByOrder(DatabaseConnection);

impl Loader<i64> for OutboxByOrder {
    type Value = Vec<outbox::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[i64]) -> LoadResult<i64, Vec<outbox::Model>> {
        let rows = outbox::Entity::find()
            .filter(outbox::Column::OrderId.is_in(keys.iter().copied()))
            .order_by_asc(outbox::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group(rows, |r| r.order_id.unwrap_or_default()))
    }
}

pub struct ItemsByOrder(DatabaseConnection);

impl Loader<i64> for ItemsByOrder {
    type Value = Vec<order_item::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[i64]) -> LoadResult<i64, Vec<order_item::Model>> {
        let rows = order_item::Entity::find()
            .filter(order_item::Column::OrderId.is_in(keys.iter().copied()))
            .order_by_asc(order_item::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group(rows, |i| i.order_id))
    }
}

/// Categories by (provider, platform id): shops know their category by the platform's id.
pub struct CategoryByKey(DatabaseConnection);

impl Loader<(String, String)> for CategoryByKey {
    type Value = category::Model;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[(String, String)],
    ) -> LoadResult<(String, String), category::Model> {
        let mut cond = Condition::any();
        for (provider, ext) in keys {
            cond = cond.add(
                Condition::all()
                    .add(category::Column::Provider.eq(provider.as_str()))
                    .add(category::Column::ExternalId.eq(ext.as_str())),
            );
        }
        Ok(category::Entity::find()
            .filter(cond)
            .all(&self.0)
            .await?
            .into_iter()
            .map(|c| ((c.provider.clone(), c.external_id.clone()), c))
            .collect())
    }
}
