//! Categories, shops and prices: fetched from the marketplaces (concurrently, each with its
//! own timeout), upserted, and served from the database. When a marketplace fails, what we
//! have is served marked stale, with the provider's error reported beside the data.

pub mod repo;
mod stores;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

/// The failure of a platform that `Partial::errors` and the courier lookups report, named
/// here so the API layer reaches it through this service rather than the provider layer.
pub use crate::providers::ProviderError as ProviderFailure;
pub use stores::Registered;

use chrono::Utc;
use entity::{category, price, shop};
use futures::future::join_all;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
    sea_query::{Expr, ExprTrait, LikeExpr, OnConflict},
};

use crate::{
    domain::{GeoPoint, ProviderId},
    providers::{
        Marketplace, PriceData, ProviderError, Registry, ShopDetail, ShopQuery, ShopSummary,
        with_timeout,
    },
};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// Data plus the providers that could not be asked (their data, if any, is stale).
pub struct Partial<T> {
    pub data: T,
    pub errors: Vec<ProviderError>,
}

pub struct ShopPage {
    pub shops: Vec<shop::Model>,
    pub has_next: bool,
    /// How many match in all, where known (our own stores; a marketplace pages without).
    pub total: Option<usize>,
}

#[derive(Clone)]
pub struct CatalogService {
    db: DatabaseConnection,
    registry: Registry,
    detail_ttl: Duration,
    /// City lists of the courier networks, asked once.
    cities: Arc<Mutex<HashMap<ProviderId, Vec<crate::providers::delivery::City>>>>,
    network_timeout: Duration,
    /// The longest a marketplace read waits (see `limits.fanout_deadline_ms`).
    deadline: Duration,
}

impl CatalogService {
    pub fn new(db: DatabaseConnection, registry: Registry, detail_ttl: Duration) -> Self {
        Self {
            db,
            registry,
            detail_ttl,
            cities: Arc::default(),
            network_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(2),
        }
    }

    /// How long a read waits for the marketplaces before serving stored data instead.
    pub fn with_fanout_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// How long to wait for `market`: its own timeout, or the deadline when shorter.
    fn wait_for(&self, market: &dyn Marketplace) -> Duration {
        market.timeout().min(self.deadline)
    }

    /// How long a courier network's answer is awaited.
    pub fn with_network_timeout(mut self, timeout: Duration) -> Self {
        self.network_timeout = timeout;
        self
    }

    /// Every marketplace's categories, refreshed from the platforms when they answer.
    #[tracing::instrument(skip_all)]
    pub async fn categories(&self) -> Result<Partial<Vec<category::Model>>, DbErr> {
        let calls = self.registry.marketplaces.iter().map(|m| async move {
            (
                m.id(),
                with_timeout(m.id(), self.wait_for(m.as_ref()), m.categories()).await,
            )
        });
        let mut errors = Vec::new();
        for (provider, result) in join_all(calls).await {
            match result {
                Ok(list) => self.upsert_categories(provider, list).await?,
                Err(e) => errors.push(e),
            }
        }
        let data = category::Entity::find()
            .order_by_asc(category::Column::Provider)
            .order_by_asc(category::Column::Id)
            .all(&self.db)
            .await?;
        Ok(Partial { data, errors })
    }

    async fn upsert_categories(
        &self,
        provider: ProviderId,
        list: Vec<crate::providers::CategoryData>,
    ) -> Result<(), DbErr> {
        if list.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let rows = list.into_iter().map(|c| category::ActiveModel {
            provider: Set(provider.as_str().to_owned()),
            external_id: Set(c.external_id),
            name: Set(c.name),
            icon_url: Set(c.icon_url),
            fetched_at: Set(now),
            ..Default::default()
        });
        category::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([category::Column::Provider, category::Column::ExternalId])
                    .update_columns([
                        category::Column::Name,
                        category::Column::IconUrl,
                        category::Column::FetchedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    pub async fn category(&self, id: i64) -> Result<Option<category::Model>, DbErr> {
        category::Entity::find_by_id(id).one(&self.db).await
    }

    /// Our own stores at a courier network that match the query (what we registered or
    /// imported), when `only` names a courier network; None for a marketplace listing.
    async fn own_stores(
        &self,
        only: Option<ProviderId>,
        query: &ShopQuery,
    ) -> Result<Option<Vec<shop::Model>>, DbErr> {
        let Some(p) = only.filter(|p| self.registry.courier(*p).is_some()) else {
            return Ok(None);
        };
        let mut all = self.stores(p).await?;
        if let Some(city) = &query.city {
            all.retain(|s| s.city.as_deref() == Some(city.as_str()));
        }
        if let Some(q) = &query.search {
            all.retain(|s| s.title.contains(q.as_str()));
        }
        Ok(Some(all))
    }

    /// How many shops the query matches in all, where that is known before paging: our
    /// own stores at a courier network; None for a marketplace, which pages without a total.
    pub async fn shop_total(
        &self,
        only: Option<ProviderId>,
        query: &ShopQuery,
    ) -> Result<Option<usize>, DbErr> {
        Ok(self.own_stores(only, query).await?.map(|all| all.len()))
    }

    /// Searches the marketplaces (or one of them). `query.limit + 1` rows are asked for, to
    /// know whether another page exists.
    #[tracing::instrument(skip_all)]
    pub async fn search_shops(
        &self,
        only: Option<ProviderId>,
        query: &ShopQuery,
    ) -> Result<Partial<ShopPage>, DbErr> {
        if let Some(all) = self.own_stores(only, query).await? {
            let total = all.len();
            let has_next = total > query.offset + query.limit;
            let shops = all
                .into_iter()
                .skip(query.offset)
                .take(query.limit)
                .collect();
            return Ok(Partial {
                data: ShopPage {
                    shops,
                    has_next,
                    total: Some(total),
                },
                errors: vec![],
            });
        }
        let mut probe = query.clone();
        probe.limit = query.limit + 1;
        let probe = &probe;
        let markets = self
            .registry
            .marketplaces
            .iter()
            .filter(|m| only.is_none_or(|p| p == m.id()));
        let calls = markets.map(|m| async move {
            (
                m.id(),
                with_timeout(m.id(), self.wait_for(m.as_ref()), m.search_shops(probe)).await,
            )
        });
        let mut shops = Vec::new();
        let mut errors = Vec::new();
        let mut has_next = false;
        for (provider, result) in join_all(calls).await {
            let mut found = match result {
                Ok(list) => {
                    let ids: Vec<String> = list.iter().map(|s| s.external_id.clone()).collect();
                    self.upsert_summaries(provider, list, query.city.as_deref())
                        .await?;
                    self.shops_by_external_ids(provider, &ids).await?
                }
                Err(e) => {
                    errors.push(e);
                    self.search_stored(provider, probe).await?
                }
            };
            if found.len() > query.limit {
                has_next = true;
                found.truncate(query.limit);
            }
            shops.extend(found);
        }
        Ok(Partial {
            data: ShopPage {
                shops,
                has_next,
                total: None,
            },
            errors,
        })
    }

    async fn upsert_summaries(
        &self,
        provider: ProviderId,
        list: Vec<ShopSummary>,
        city: Option<&str>,
    ) -> Result<(), DbErr> {
        if list.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let mains: Vec<(String, PriceData)> = list
            .iter()
            .filter_map(|s| s.main_price.clone().map(|p| (s.external_id.clone(), p)))
            .collect();
        let rows = list.into_iter().map(|s| shop::ActiveModel {
            provider: Set(provider.as_str().to_owned()),
            external_id: Set(s.external_id),
            category_external_id: Set(s.category_external_id),
            title: Set(s.title),
            description: Set(None),
            city: Set(city.map(str::to_owned)),
            image_urls: Set(json_list(s.image_url.into_iter())),
            tag_icons: Set(json_list(s.tag_icons.into_iter())),
            main_price_external_id: Set(s.main_price.map(|p| p.external_id)),
            fetched_at: Set(now),
            stale: Set(false),
            ..Default::default()
        });
        // The list carries the summary only: hours, fees, description and the full image
        // list (from the detail) are kept as they are. The city is the one the list was
        // filtered by: a filtered list sets it (the platform just placed the shop there), an
        // unfiltered one (the platform's default region, unknown to us) leaves it alone.
        let mut updated = vec![
            shop::Column::CategoryExternalId,
            shop::Column::Title,
            shop::Column::TagIcons,
            shop::Column::MainPriceExternalId,
            shop::Column::FetchedAt,
            shop::Column::Stale,
        ];
        if city.is_some() {
            updated.push(shop::Column::City);
        }
        shop::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([shop::Column::Provider, shop::Column::ExternalId])
                    .update_columns(updated)
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        if !mains.is_empty() {
            let ids: Vec<String> = mains.iter().map(|(s, _)| s.clone()).collect();
            let by_ext: HashMap<String, i64> = shop::Entity::find()
                .filter(shop::Column::Provider.eq(provider.as_str()))
                .filter(shop::Column::ExternalId.is_in(ids))
                .all(&txn)
                .await?
                .into_iter()
                .map(|s| (s.external_id, s.id))
                .collect();
            let prices = mains.into_iter().filter_map(|(shop_ext, p)| {
                by_ext
                    .get(&shop_ext)
                    .map(|&shop_id| price_row(shop_id, 0, p))
            });
            price::Entity::insert_many(prices)
                .on_conflict(
                    OnConflict::columns([price::Column::ShopId, price::Column::ExternalId])
                        .update_columns([
                            price::Column::Name,
                            price::Column::AmountFen,
                            price::Column::Unit,
                            price::Column::Active,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await
    }

    async fn shops_by_external_ids(
        &self,
        provider: ProviderId,
        ids: &[String],
    ) -> Result<Vec<shop::Model>, DbErr> {
        let mut by_ext: HashMap<String, shop::Model> = shop::Entity::find()
            .filter(shop::Column::Provider.eq(provider.as_str()))
            .filter(shop::Column::ExternalId.is_in(ids.iter().cloned()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|s| (s.external_id.clone(), s))
            .collect();
        // Keep the platform's order (relevance or distance).
        Ok(ids.iter().filter_map(|id| by_ext.remove(id)).collect())
    }

    /// The stored copy of a search, for when the platform is down; marked stale.
    async fn search_stored(
        &self,
        provider: ProviderId,
        q: &ShopQuery,
    ) -> Result<Vec<shop::Model>, DbErr> {
        let mut select = shop::Entity::find().filter(shop::Column::Provider.eq(provider.as_str()));
        if let Some(city) = &q.city {
            select = select.filter(shop::Column::City.eq(city.as_str()));
        }
        if let Some(c) = &q.category {
            select = select.filter(shop::Column::CategoryExternalId.eq(c.as_str()));
        }
        if let Some(s) = &q.search {
            // The text is searched for as it is: LIKE's wildcards in it are escaped.
            let escaped = s
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            select = select.filter(
                Expr::col((shop::Entity, shop::Column::Title))
                    .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
            );
        }
        let mut all = select.order_by_asc(shop::Column::Id).all(&self.db).await?;
        if let Some(p) = q.near {
            let dist = |s: &shop::Model| match (s.lng, s.lat) {
                (Some(lng), Some(lat)) => p.distance_m(&GeoPoint { lng, lat }),
                _ => f64::INFINITY,
            };
            all.sort_by(|a, b| dist(a).total_cmp(&dist(b)));
        }
        let page: Vec<shop::Model> = all.into_iter().skip(q.offset).take(q.limit).collect();
        if !page.is_empty() {
            shop::Entity::update_many()
                .col_expr(shop::Column::Stale, true.into())
                .filter(shop::Column::Id.is_in(page.iter().map(|s| s.id)))
                .exec(&self.db)
                .await?;
        }
        Ok(page
            .into_iter()
            .map(|s| shop::Model { stale: true, ..s })
            .collect())
    }

    pub async fn stored_shop(&self, id: i64) -> Result<Option<shop::Model>, DbErr> {
        shop::Entity::find_by_id(id).one(&self.db).await
    }

    /// The shop with its full detail, fetched again when older than the TTL (or always with
    /// `force`). When the platform fails, the stored copy comes back marked stale, with the
    /// error.
    #[tracing::instrument(skip_all, fields(shop_id = id))]
    pub async fn shop(&self, id: i64, force: bool) -> Result<Option<Partial<shop::Model>>, DbErr> {
        let Some(stored) = self.stored_shop(id).await? else {
            return Ok(None);
        };
        let fresh_enough = stored.detail_fetched_at.is_some_and(|t| {
            Utc::now()
                .signed_duration_since(t)
                .to_std()
                .unwrap_or_default()
                < self.detail_ttl
        });
        if fresh_enough && !force && !stored.stale {
            return Ok(Some(Partial {
                data: stored,
                errors: vec![],
            }));
        }
        let Ok(provider) = stored.provider.parse::<ProviderId>() else {
            return Ok(Some(Partial {
                data: stored,
                errors: vec![],
            }));
        };
        let Some(market) = self.registry.marketplace(provider) else {
            return Ok(Some(Partial {
                data: stored,
                errors: vec![],
            }));
        };
        match with_timeout(
            provider,
            self.wait_for(market.as_ref()),
            market.shop_detail(&stored.external_id),
        )
        .await
        {
            Ok(detail) => {
                let model = self.store_detail(stored, detail).await?;
                Ok(Some(Partial {
                    data: model,
                    errors: vec![],
                }))
            }
            Err(e) => {
                shop::Entity::update_many()
                    .col_expr(shop::Column::Stale, true.into())
                    .filter(shop::Column::Id.eq(id))
                    .exec(&self.db)
                    .await?;
                Ok(Some(Partial {
                    data: shop::Model {
                        stale: true,
                        ..stored
                    },
                    errors: vec![e],
                }))
            }
        }
    }

    async fn store_detail(&self, stored: shop::Model, d: ShopDetail) -> Result<shop::Model, DbErr> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let shop_id = stored.id;
        let am = shop::ActiveModel {
            id: Set(shop_id),
            category_external_id: Set(d.category_external_id.or(stored.category_external_id)),
            title: Set(d.title),
            description: Set(d.description),
            city: Set(d.city.or(stored.city)),
            image_urls: Set(json_list(d.images.into_iter())),
            tag_icons: Set(json_list(d.tag_icons.into_iter())),
            start_time: Set(d.start_time),
            end_time: Set(d.end_time),
            available_days: Set(Some(
                d.available_days
                    .iter()
                    .map(u8::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            )),
            ahead_minutes: Set(Some(d.ahead_minutes)),
            fix_fee_fen: Set(Some(d.fix_fee.fen())),
            no_fix_fee_price_fen: Set(Some(d.no_fix_fee_price.fen())),
            min_buy_price_fen: Set(Some(d.min_buy_price.fen())),
            lng: Set(d.location.map(|p| p.lng)),
            lat: Set(d.location.map(|p| p.lat)),
            detail_fetched_at: Set(Some(now)),
            fetched_at: Set(now),
            stale: Set(false),
            ..Default::default()
        };
        let model = shop::Entity::update(am).exec(&txn).await?;
        // Prices the platform no longer lists stay (orders point at them) but go inactive.
        price::Entity::update_many()
            .col_expr(price::Column::Active, false.into())
            .filter(price::Column::ShopId.eq(shop_id))
            .exec(&txn)
            .await?;
        if !d.prices.is_empty() {
            let rows = d
                .prices
                .into_iter()
                .enumerate()
                .map(|(i, p)| price_row(shop_id, i32::try_from(i).unwrap_or(i32::MAX), p));
            price::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([price::Column::ShopId, price::Column::ExternalId])
                        .update_columns([
                            price::Column::Name,
                            price::Column::Description,
                            price::Column::AmountFen,
                            price::Column::Unit,
                            price::Column::ImgUrl,
                            price::Column::MinBuyNum,
                            price::Column::Position,
                            price::Column::Active,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(model)
    }

    /// One stored price by id, active or not (a `node` lookup).
    pub async fn price(&self, id: i64) -> Result<Option<price::Model>, DbErr> {
        price::Entity::find_by_id(id).one(&self.db).await
    }

    /// Active prices of a shop, in the platform's order.
    pub async fn prices(&self, shop_id: i64) -> Result<Vec<price::Model>, DbErr> {
        price::Entity::find()
            .filter(price::Column::ShopId.eq(shop_id))
            .filter(price::Column::Active.eq(true))
            .order_by_asc(price::Column::Position)
            .order_by_asc(price::Column::Id)
            .all(&self.db)
            .await
    }
}

fn price_row(shop_id: i64, position: i32, p: PriceData) -> price::ActiveModel {
    price::ActiveModel {
        shop_id: Set(shop_id),
        external_id: Set(p.external_id),
        name: Set(p.name),
        description: Set(p.description),
        amount_fen: Set(p.amount.fen()),
        unit: Set(p.unit),
        img_url: Set(p.img_url),
        min_buy_num: Set(p.min_buy_num),
        position: Set(position),
        active: Set(true),
        ..Default::default()
    }
}

fn json_list(items: impl Iterator<Item = String>) -> String {
    serde_json::to_string(&items.collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

/// Parses a list stored by `json_list`; a corrupt value reads as empty rather than failing.
pub fn parse_json_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}
