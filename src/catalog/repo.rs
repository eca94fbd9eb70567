//! Read-side repository of the catalogue: batched lookups of shops, their active prices and
//! categories by key, as the GraphQL DataLoaders need them. Plain functions over a
//! connection, so the API layer never builds a query itself. The row types it hands out are
//! re-exported under API-neutral names.

use std::collections::HashMap;

use entity::{category, price, shop};
use sea_orm::{ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QueryOrder};

pub use entity::{
    category::Model as CategoryRow, price::Model as PriceRow, shop::Model as ShopRow,
};

/// The connection the repository functions read through (the services hand it out).
pub type Db = sea_orm::DatabaseConnection;

/// The shops among `ids` that exist, by id.
pub async fn shops_by_id(db: &Db, ids: &[i64]) -> Result<HashMap<i64, ShopRow>, DbErr> {
    crate::db::rows_by_id::<shop::Entity>(db, shop::Column::Id, ids, |r| r.id).await
}

/// The active prices of each shop, in the platform's order.
pub async fn active_prices_by_shop(
    db: &Db,
    shop_ids: &[i64],
) -> Result<HashMap<i64, Vec<PriceRow>>, DbErr> {
    let rows = price::Entity::find()
        .filter(price::Column::ShopId.is_in(shop_ids.iter().copied()))
        .filter(price::Column::Active.eq(true))
        .order_by_asc(price::Column::ShopId)
        .order_by_asc(price::Column::Position)
        .order_by_asc(price::Column::Id)
        .all(db)
        .await?;
    let mut by_shop: HashMap<i64, Vec<PriceRow>> = HashMap::new();
    for row in rows {
        by_shop.entry(row.shop_id).or_default().push(row);
    }
    Ok(by_shop)
}

/// Categories by (provider, the platform's id): shops know their category by the
/// platform's id.
pub async fn categories_by_key(
    db: &Db,
    keys: &[(String, String)],
) -> Result<HashMap<(String, String), CategoryRow>, DbErr> {
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
        .all(db)
        .await?
        .into_iter()
        .map(|c| ((c.provider.clone(), c.external_id.clone()), c))
        .collect())
}
