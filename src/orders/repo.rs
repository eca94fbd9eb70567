//! Read-side repository of orders: batched lookups of orders and their children (items,
//! timeline events, outbox rows) by key, as the GraphQL DataLoaders need them. Plain
//! functions over a connection, so the API layer reads through here and never builds a query
//! itself. The row types it hands out are re-exported under API-neutral names.

use std::collections::HashMap;

use entity::{order_event, order_item, orders, outbox, technician};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

pub use entity::{
    delivery_quote::Model as DeliveryQuoteRow, dispatch_plan::Model as PlanRow,
    order_event::Model as OrderEventRow, order_item::Model as OrderItemRow,
    orders::Model as OrderRow, outbox::Model as OutboxRow, technician::Model as TechnicianRow,
};

/// The connection the repository functions read through (`OrderService::db` hands it out).
pub type Db = sea_orm::DatabaseConnection;

/// Groups rows by a key, keeping their order.
fn group<K: std::hash::Hash + Eq, V>(rows: Vec<V>, key: impl Fn(&V) -> K) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}

/// The orders among `ids` that exist, by id.
pub async fn orders_by_id(db: &Db, ids: &[i64]) -> Result<HashMap<i64, OrderRow>, DbErr> {
    crate::db::rows_by_id::<orders::Entity>(db, orders::Column::Id, ids, |r| r.id).await
}

/// The items of each order, in the order they were written.
pub async fn items_by_order(
    db: &Db,
    order_ids: &[i64],
) -> Result<HashMap<i64, Vec<OrderItemRow>>, DbErr> {
    let rows = order_item::Entity::find()
        .filter(order_item::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(order_item::Column::Id)
        .all(db)
        .await?;
    Ok(group(rows, |i| i.order_id))
}

/// Every timeline event of each order (applied or not), oldest first.
pub async fn events_by_order(
    db: &Db,
    order_ids: &[i64],
) -> Result<HashMap<i64, Vec<OrderEventRow>>, DbErr> {
    let rows = order_event::Entity::find()
        .filter(order_event::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(order_event::Column::Id)
        .all(db)
        .await?;
    Ok(group(rows, |e| e.order_id))
}

/// The outbox rows of each order, oldest first.
pub async fn outbox_by_order(
    db: &Db,
    order_ids: &[i64],
) -> Result<HashMap<i64, Vec<OutboxRow>>, DbErr> {
    let rows = outbox::Entity::find()
        .filter(outbox::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(outbox::Column::Id)
        .all(db)
        .await?;
    Ok(group(rows, |r| r.order_id.unwrap_or_default()))
}

/// One timeline event by id (a `node` lookup).
pub async fn event(db: &Db, id: i64) -> Result<Option<OrderEventRow>, DbErr> {
    order_event::Entity::find_by_id(id).one(db).await
}

/// One outbox row by id (a `node` lookup).
pub async fn outbox_entry(db: &Db, id: i64) -> Result<Option<OutboxRow>, DbErr> {
    outbox::Entity::find_by_id(id).one(db).await
}

/// One registered technician by id (a `node` lookup).
pub async fn technician(db: &Db, id: i64) -> Result<Option<TechnicianRow>, DbErr> {
    technician::Entity::find_by_id(id).one(db).await
}
