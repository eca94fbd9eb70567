//! Our own stores at the courier networks (Dada), kept as `shop` rows with the network as
//! provider, so deliveries are dispatched from a `Shop` like any other; and the merchant
//! account around them: city codes, registration, balance and recharge.
//!
//! A store row is written only after the platform accepted it, and refreshed from the
//! platform's own detail, so what we show is what the platform has.

use chrono::Utc;
use entity::shop;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};

use super::CatalogService;
use crate::{
    domain::{Money, ProviderId},
    providers::{
        delivery::{
            Balance, City, CourierNetwork, MerchantRegistration, RechargeChannel, Store,
            StoreFailure, StoreUpdate,
        },
        with_timeout,
    },
    refusal::{OrderError, UserError, UserErrorCode, courier_network, provider_user_error},
};

/// The outcome of a batch registration.
pub struct Registered {
    pub added: Vec<shop::Model>,
    pub failed: Vec<StoreFailure>,
}

impl CatalogService {
    fn network(
        &self,
        provider: ProviderId,
        field: &[&str],
    ) -> Result<std::sync::Arc<dyn CourierNetwork>, OrderError> {
        courier_network(&self.registry, provider, field)
    }

    /// The network's cities; asked once per process and kept (they change rarely).
    pub async fn cities(&self, provider: ProviderId) -> Result<Vec<City>, OrderError> {
        if let Some(hit) = self
            .cities
            .lock()
            .ok()
            .and_then(|c| c.get(&provider).cloned())
        {
            return Ok(hit);
        }
        let network = self.network(provider, &["provider"])?;
        let list = with_timeout(provider, self.network_timeout, network.cities())
            .await
            .map_err(|e| provider_user_error(&e))?;
        if let Ok(mut c) = self.cities.lock() {
            c.insert(provider, list.clone());
        }
        Ok(list)
    }

    /// The city code of a city name ("上海" or "上海市"), when the network knows the city.
    async fn city_code(&self, provider: ProviderId, name: &str) -> Option<String> {
        let want = name.trim().trim_end_matches('市');
        self.cities(provider)
            .await
            .ok()?
            .into_iter()
            .find_map(|c| (c.name.trim().trim_end_matches('市') == want).then_some(c.code))
    }

    /// Writes (or refreshes) a store the network knows as ours.
    pub async fn upsert_store(
        &self,
        provider: ProviderId,
        s: &Store,
    ) -> Result<shop::Model, DbErr> {
        let Some(no) = s.shop_no.clone() else {
            return Err(DbErr::Custom("a registered store without a number".into()));
        };
        let city_code = self.city_code(provider, &s.city_name).await;
        let now = Utc::now();
        let row = shop::ActiveModel {
            provider: Set(provider.as_str().to_owned()),
            external_id: Set(no.clone()),
            category_external_id: Set(None),
            title: Set(s.name.clone()),
            description: Set(None),
            city: Set(Some(s.city_name.clone())),
            image_urls: Set("[]".into()),
            tag_icons: Set("[]".into()),
            start_time: Set(None),
            end_time: Set(None),
            available_days: Set(None),
            ahead_minutes: Set(None),
            fix_fee_fen: Set(None),
            no_fix_fee_price_fen: Set(None),
            min_buy_price_fen: Set(None),
            lng: Set(Some(s.location.lng)),
            lat: Set(Some(s.location.lat)),
            main_price_external_id: Set(None),
            detail_fetched_at: Set(Some(now)),
            fetched_at: Set(now),
            stale: Set(false),
            address: Set(Some(s.address.clone())),
            area_name: Set(Some(s.area_name.clone())),
            contact_name: Set(Some(s.contact_name.clone())),
            contact_phone: Set(Some(s.phone.clone())),
            business_type: Set(Some(s.business)),
            city_code: Set(city_code),
            open: Set(None),
            ..Default::default()
        };
        shop::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([shop::Column::Provider, shop::Column::ExternalId])
                    .update_columns([
                        shop::Column::Title,
                        shop::Column::City,
                        shop::Column::Lng,
                        shop::Column::Lat,
                        shop::Column::DetailFetchedAt,
                        shop::Column::FetchedAt,
                        shop::Column::Stale,
                        shop::Column::Address,
                        shop::Column::AreaName,
                        shop::Column::ContactName,
                        shop::Column::ContactPhone,
                        shop::Column::BusinessType,
                        shop::Column::CityCode,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        shop::Entity::find()
            .filter(shop::Column::Provider.eq(provider.as_str()))
            .filter(shop::Column::ExternalId.eq(no))
            .one(&self.db)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("store just written".into()))
    }

    /// Makes an existing store of the merchant (by its number at the platform) a `Shop` here.
    pub async fn import_store(
        &self,
        provider: ProviderId,
        shop_no: &str,
    ) -> Result<shop::Model, OrderError> {
        if shop_no.trim().is_empty() {
            return Err(UserError::new(
                &["shopNo"],
                UserErrorCode::InvalidInput,
                "shopNo is required",
            )
            .into());
        }
        let network = self.network(provider, &["provider"])?;
        let store = with_timeout(provider, self.network_timeout, network.store(shop_no))
            .await
            .map_err(|e| provider_user_error(&e))?;
        let store = Store {
            shop_no: store.shop_no.or_else(|| Some(shop_no.to_owned())),
            ..store
        };
        Ok(self.upsert_store(provider, &store).await?)
    }

    /// Registers stores at the platform in one batch; each succeeds or fails on its own.
    pub async fn register_stores(
        &self,
        provider: ProviderId,
        stores: Vec<Store>,
    ) -> Result<Registered, OrderError> {
        if stores.is_empty() {
            return Err(UserError::new(
                &["shops"],
                UserErrorCode::InvalidInput,
                "at least one store is required",
            )
            .into());
        }
        let mut errors = Vec::new();
        for (i, s) in stores.iter().enumerate() {
            let idx = i.to_string();
            for (name, value) in [
                ("name", &s.name),
                ("cityName", &s.city_name),
                ("areaName", &s.area_name),
                ("address", &s.address),
                ("contactName", &s.contact_name),
                ("phone", &s.phone),
            ] {
                if value.trim().is_empty() {
                    errors.push(UserError::new(
                        &["shops", &idx, name],
                        UserErrorCode::InvalidInput,
                        format!("{name} is required"),
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return Err(OrderError::User(errors));
        }
        let network = self.network(provider, &["provider"])?;
        let batch = with_timeout(provider, self.network_timeout, network.add_stores(&stores))
            .await
            .map_err(|e| provider_user_error(&e))?;
        let mut added = Vec::new();
        for s in &batch.added {
            added.push(self.upsert_store(provider, s).await?);
        }
        Ok(Registered {
            added,
            failed: batch.failed,
        })
    }

    /// Changes a store at the platform, then stores what the platform now has.
    pub async fn update_store(
        &self,
        shop_id: i64,
        mut update: StoreUpdate,
    ) -> Result<shop::Model, OrderError> {
        let stored = shop::Entity::find_by_id(shop_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| UserError::new(&["shopId"], UserErrorCode::NotFound, "no such shop"))?;
        let provider: ProviderId = stored
            .provider
            .parse()
            .map_err(|e| DbErr::Custom(format!("shop {shop_id}: {e}")))?;
        let network = self.network(provider, &["shopId"])?;
        update.shop_no = stored.external_id.clone();
        with_timeout(
            provider,
            self.network_timeout,
            network.update_store(&update),
        )
        .await
        .map_err(|e| provider_user_error(&e))?;
        let no = update
            .new_shop_no
            .clone()
            .unwrap_or_else(|| stored.external_id.clone());
        if no != stored.external_id {
            let mut am: shop::ActiveModel = stored.clone().into();
            am.external_id = Set(no.clone());
            am.update(&self.db).await?;
        }
        let mut row = self.import_store(provider, &no).await?;
        if let Some(open) = update.open {
            let mut am: shop::ActiveModel = row.into();
            am.open = Set(Some(open));
            row = am.update(&self.db).await?;
        }
        Ok(row)
    }

    /// The stores of a courier network we know, oldest first.
    pub async fn stores(&self, provider: ProviderId) -> Result<Vec<shop::Model>, DbErr> {
        shop::Entity::find()
            .filter(shop::Column::Provider.eq(provider.as_str()))
            .order_by_asc(shop::Column::Id)
            .all(&self.db)
            .await
    }

    pub async fn register_merchant(
        &self,
        provider: ProviderId,
        m: &MerchantRegistration,
    ) -> Result<String, OrderError> {
        let network = self.network(provider, &["provider"])?;
        with_timeout(provider, self.network_timeout, network.register_merchant(m))
            .await
            .map_err(|e| provider_user_error(&e).into())
    }

    pub async fn balance(&self, provider: ProviderId) -> Result<Balance, OrderError> {
        let network = self.network(provider, &["provider"])?;
        with_timeout(provider, self.network_timeout, network.balance())
            .await
            .map_err(|e| provider_user_error(&e).into())
    }

    pub async fn recharge_link(
        &self,
        provider: ProviderId,
        amount: Money,
        channel: RechargeChannel,
        notify_url: Option<&str>,
    ) -> Result<String, OrderError> {
        if amount.fen() <= 0 {
            return Err(UserError::new(
                &["amount"],
                UserErrorCode::InvalidInput,
                "amount must be positive",
            )
            .into());
        }
        let network = self.network(provider, &["provider"])?;
        with_timeout(
            provider,
            self.network_timeout,
            network.recharge_link(amount, channel, notify_url),
        )
        .await
        .map_err(|e| provider_user_error(&e).into())
    }
}
