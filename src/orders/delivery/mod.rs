//! Delivery orders on a courier network (Dada, WeChat instant delivery): the shared
//! vocabulary of the delivery service and the helpers its parts use. The parts, one concern
//! each: `quote`, `dispatch` (direct, from a quote, re-dispatch), `courier` (tips, cancel,
//! appointment, complaints, returned goods, live courier fields), `cancel_requests` (a courier
//! asking to cancel, answered by hand or by policy through the outbox), `accounts` (companies,
//! bound accounts, reasons), `reconcile` (asking the platform when news is lost or disputed)
//! and `validation`.
//!
//! The same promises as service orders: a dispatch is written as a draft before the platform
//! is asked (so a callback that beats the platform's answer finds its order), refusals undo
//! the draft, and an unknown outcome is kept visible and reconciled by the poller, which asks
//! the platform by our own reference. Every change is committed before it is published.

use std::sync::Arc;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use entity::{delivery_quote, orders, shop};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, DbErr, EntityTrait, QuerySelect,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::orders::{OrderError, OrderService, UserError, UserErrorCode};
use crate::{
    domain::{
        EventKind, EventSource, GeoPoint, Money, OrderKind, OrderStatus, PhoneNumber, ProviderId,
    },
    events::StatusChange,
    providers::delivery::{
        CourierNetwork, DeliveryFees, DeliveryRequest, Dispatched, OrderRef, Sender,
    },
};

mod accounts;
mod cancel_requests;
mod courier;
mod dispatch;
pub mod driver;
pub mod plan;
pub mod policy;
mod quote;
mod reconcile;
mod validation;

pub use crate::domain::delivery::CourierCancelPolicy;
pub use cancel_requests::CourierCancelRequest;
pub use courier::CourierAction;
use validation::validate_delivery;

const DISPATCH: &str = "dispatchDelivery";
/// Raw status of an order while its dispatch is on its way to the platform.
pub const SUBMITTING: &str = "SUBMITTING";
/// Raw status of an order whose dispatch got no answer: the poller asks the platform.
pub const SUBMIT_UNKNOWN: &str = "SUBMIT_UNKNOWN";

/// What to deliver, as a client asks for it.
#[derive(Clone, Debug)]
pub struct DeliveryInput {
    pub shop_id: i64,
    pub receiver_name: String,
    pub receiver_phone: PhoneNumber,
    pub receiver_address: String,
    pub receiver_location: Option<GeoPoint>,
    /// Defaults to the store's city.
    pub city_code: Option<String>,
    pub cargo_price: Money,
    pub cargo_weight_kg: Decimal,
    pub prepaid: bool,
    pub tips: Money,
    pub note: Option<String>,
    pub publish_at: Option<DateTime<Utc>>,
    /// The merchant's own order number; generated when absent.
    pub origin_id: Option<String>,
    /// On a network of several courier companies (WeChat): which one carries it.
    pub company: Option<String>,
}

/// Quotes, one per company that answered, and the refusals of the others.
#[derive(Debug, Default)]
pub struct Quoted {
    pub quotes: Vec<delivery_quote::Model>,
    pub refusals: Vec<UserError>,
}

/// Where a dispatch comes from.
#[derive(Clone, Debug)]
pub enum DispatchSource {
    Direct(Box<DeliveryInput>),
    Quote(i64),
}

#[derive(Clone, Debug)]
pub struct DispatchDelivery {
    pub source: DispatchSource,
    pub idempotency_key: Option<crate::domain::IdempotencyKey>,
}

/// The request as stored with a quote (our spelling), so the order can be written from it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(in crate::orders) struct StoredRequest {
    receiver_name: String,
    receiver_phone: String,
    receiver_address: String,
    receiver_lng: Option<f64>,
    receiver_lat: Option<f64>,
    city_code: String,
    cargo_price_fen: i64,
    cargo_weight_kg: String,
    prepaid: bool,
    tips_fen: i64,
    note: Option<String>,
    publish_at: Option<DateTime<Utc>>,
    #[serde(default)]
    company: Option<String>,
}

impl OrderService {
    pub fn courier(&self, provider: ProviderId) -> Option<&Arc<dyn CourierNetwork>> {
        self.registry.courier(provider)
    }

    fn courier_or_refuse(
        &self,
        provider: ProviderId,
        field: &[&str],
    ) -> Result<Arc<dyn CourierNetwork>, OrderError> {
        crate::refusal::courier_network(&self.registry, provider, field)
    }

    async fn store_of(&self, shop_id: i64) -> Result<(shop::Model, ProviderId), OrderError> {
        let shop = shop::Entity::find_by_id(shop_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| UserError::new(&["shopId"], UserErrorCode::NotFound, "no such shop"))?;
        let provider: ProviderId = shop
            .provider
            .parse()
            .map_err(|e| DbErr::Custom(format!("shop {}: {e}", shop.id)))?;
        Ok((shop, provider))
    }

    /// The delivery order `id` and its network; refuses orders that are not deliveries.
    async fn delivery_order(
        &self,
        id: i64,
    ) -> Result<(orders::Model, Arc<dyn CourierNetwork>), OrderError> {
        let order = self.get(id).await?.ok_or_else(|| {
            UserError::new(&["orderId"], UserErrorCode::NotFound, "no such order")
        })?;
        if order.kind != OrderKind::Delivery.as_str() {
            return Err(UserError::new(
                &["orderId"],
                UserErrorCode::UnsupportedByProvider,
                "this is not a delivery order",
            )
            .into());
        }
        let provider: ProviderId = order
            .provider
            .parse()
            .map_err(|e| DbErr::Custom(format!("order {}: {e}", order.id)))?;
        let network = self.courier_or_refuse(provider, &["orderId"])?;
        Ok((order, network))
    }

    fn raw_published(&self, provider: ProviderId) -> String {
        self.courier(provider)
            .map_or("PUBLISHED", |n| n.raw_status_published())
            .to_owned()
    }

    fn new_origin_id(&self) -> String {
        format!(
            "{}{}",
            self.delivery.origin_prefix,
            uuid::Uuid::new_v4().simple()
        )
    }

    fn request_for(
        &self,
        provider: ProviderId,
        origin_id: String,
        shop: &shop::Model,
        stored: &StoredRequest,
    ) -> Result<DeliveryRequest, OrderError> {
        // Networks that push to one configured URL (WeChat) take none with each order.
        let callback_url = self
            .delivery
            .callback_urls
            .get(&provider)
            .cloned()
            .unwrap_or_default();
        let weight = stored
            .cargo_weight_kg
            .parse::<Decimal>()
            .map_err(|e| DbErr::Custom(format!("stored weight: {e}")))?;
        Ok(DeliveryRequest {
            origin_id,
            shop_no: shop.external_id.clone(),
            city_code: stored.city_code.clone(),
            cargo_price: Money::from_fen(stored.cargo_price_fen),
            cargo_weight_kg: weight,
            prepaid: stored.prepaid,
            receiver_name: stored.receiver_name.clone(),
            receiver_address: stored.receiver_address.clone(),
            receiver_phone: stored.receiver_phone.clone(),
            receiver_location: match (stored.receiver_lng, stored.receiver_lat) {
                (Some(lng), Some(lat)) => GeoPoint::new(lng, lat),
                _ => None,
            },
            callback_url,
            tips: Money::from_fen(stored.tips_fen),
            note: stored.note.clone(),
            publish_at: stored.publish_at,
            company: stored.company.clone(),
            sender: Some(sender_of(shop)),
            quote_token: None,
        })
    }

    /// What the network needs to name an order in its calls.
    async fn order_ref(&self, order: &orders::Model) -> Result<OrderRef, OrderError> {
        let origin_id = order.external_id.clone().ok_or_else(|| {
            UserError::new(
                &["orderId"],
                UserErrorCode::InvalidState,
                "the order has no platform reference yet",
            )
        })?;
        let shop_no = match order.shop_id {
            Some(id) => shop::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .map(|s| s.external_id),
            None => None,
        };
        Ok(OrderRef {
            origin_id,
            company: order.courier_company.clone(),
            waybill: order.platform_ref.clone(),
            shop_no,
            city_code: order.city_code.clone(),
        })
    }

    /// Checks the input and resolves the store and its network.
    async fn prepare(
        &self,
        input: &DeliveryInput,
    ) -> Result<
        (
            shop::Model,
            ProviderId,
            Arc<dyn CourierNetwork>,
            StoredRequest,
        ),
        OrderError,
    > {
        validate_delivery(input)?;
        let (shop, provider) = self.store_of(input.shop_id).await?;
        let network = self.courier_or_refuse(provider, &["shopId"])?;
        let stored = stored_request(input, &shop, network.as_ref())?;
        Ok((shop, provider, network, stored))
    }

    async fn get_or_gone(&self, id: i64) -> Result<orders::Model, OrderError> {
        self.get(id).await?.ok_or_else(|| {
            UserError::new(&["orderId"], UserErrorCode::NotFound, "no such order").into()
        })
    }

    /// Writes an event of `kind` (not a status change) and the order's matching change in
    /// one transaction, then publishes it.
    async fn note_event(
        &self,
        id: i64,
        kind: EventKind,
        detail: String,
        change_order: impl FnOnce(&mut orders::ActiveModel, &orders::Model),
    ) -> Result<orders::Model, OrderError> {
        let txn = self.db.begin().await?;
        let order = lock(&txn, id).await?;
        let provider: ProviderId = order
            .provider
            .parse()
            .map_err(|e| DbErr::Custom(format!("order {id}: {e}")))?;
        let status: OrderStatus = order
            .status
            .parse()
            .map_err(|e| DbErr::Custom(format!("order {id}: {e}")))?;
        let now = Utc::now();
        let mut am: orders::ActiveModel = order.clone().into();
        change_order(&mut am, &order);
        am.updated_at = Set(now);
        let order = am.update(&txn).await?;
        let change = self
            .record_event(
                &txn,
                StatusChange {
                    event_id: 0,
                    order_id: id,
                    provider,
                    from: Some(status),
                    to: status,
                    raw_status: order.raw_status.clone(),
                    source: EventSource::Api,
                    occurred_at: now,
                    detail: Some(detail),
                    kind,
                },
                true,
            )
            .await?;
        txn.commit().await?;
        self.bus.publish(change);
        Ok(order)
    }
}

/// Whole seconds: platforms date callbacks in seconds, so a time of ours with a fraction
/// would make a callback from the same second look older than it is.
fn floor_secs(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::seconds(1)).unwrap_or(t)
}

async fn lock(txn: &DatabaseTransaction, id: i64) -> Result<orders::Model, DbErr> {
    orders::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("order {id}")))
}

/// The enabled courier network `provider`, or the refusal naming `field`.
/// A dispatch as the platform's detail describes it (for answers that never came).
fn dispatched_from(detail: &crate::providers::delivery::DeliveryDetail) -> Dispatched {
    Dispatched {
        fees: detail.fees.clone(),
        distance_m: detail.distance_m.unwrap_or(0),
        waybill: detail.waybill.clone(),
        raw_status: None,
        finish_code: detail.finish_code.clone(),
    }
}

/// The store as the sender of a delivery.
fn sender_of(shop: &shop::Model) -> Sender {
    Sender {
        name: shop.title.clone(),
        phone: shop.contact_phone.clone().unwrap_or_default(),
        city: shop.city.clone().unwrap_or_default(),
        address: shop.address.clone().unwrap_or_default(),
        address_detail: shop.area_name.clone().unwrap_or_default(),
        location: match (shop.lng, shop.lat) {
            (Some(lng), Some(lat)) => GeoPoint::new(lng, lat),
            _ => None,
        },
    }
}

fn stored_from_order(o: &orders::Model) -> StoredRequest {
    let weight = o
        .cargo_weight_g
        .map(|g| (Decimal::from(g) / Decimal::from(1000)).normalize())
        .unwrap_or(Decimal::ONE);
    StoredRequest {
        receiver_name: o.contact_person.clone(),
        receiver_phone: o.phone.clone(),
        receiver_address: o.street.clone(),
        receiver_lng: o.receiver_lng,
        receiver_lat: o.receiver_lat,
        city_code: o.city_code.clone().unwrap_or_default(),
        cargo_price_fen: o.cargo_price_fen.unwrap_or(0),
        cargo_weight_kg: weight.to_string(),
        prepaid: false,
        tips_fen: o.tips_fen.unwrap_or(0),
        note: o.note.clone(),
        publish_at: None,
        company: o.courier_company.clone(),
    }
}

pub(super) fn set_fees(am: &mut orders::ActiveModel, f: &DeliveryFees) {
    am.fee_fen = Set(f.fee.fen());
    am.total_fen = Set(f.fee.fen());
    am.delivery_fee_fen = Set(Some(f.delivery_fee.fen()));
    am.coupon_fen = Set(Some(f.coupon.fen()));
    am.tips_fen = Set(Some(f.tips.fen()));
    am.insurance_fen = Set(Some(f.insurance.fen()));
}

/// The request as stored for `shop` (its city code unless the input gives one).
fn stored_request(
    input: &DeliveryInput,
    shop: &shop::Model,
    network: &dyn CourierNetwork,
) -> Result<StoredRequest, OrderError> {
    let city_code = match input.city_code.clone().or_else(|| shop.city_code.clone()) {
        Some(code) => code,
        None if !network.needs_city_code() => String::new(),
        None => {
            return Err(UserError::new(
                &["cityCode"],
                UserErrorCode::InvalidInput,
                "the store has no city code: give cityCode (see deliveryCities)",
            )
            .into());
        }
    };
    Ok(StoredRequest {
        receiver_name: input.receiver_name.trim().to_owned(),
        receiver_phone: input.receiver_phone.to_string(),
        receiver_address: input.receiver_address.trim().to_owned(),
        receiver_lng: input.receiver_location.map(|p| p.lng),
        receiver_lat: input.receiver_location.map(|p| p.lat),
        city_code,
        cargo_price_fen: input.cargo_price.fen(),
        cargo_weight_kg: input.cargo_weight_kg.normalize().to_string(),
        prepaid: input.prepaid,
        tips_fen: input.tips.fen(),
        note: input.note.clone(),
        publish_at: input.publish_at,
        company: input.company.clone().filter(|c| !c.trim().is_empty()),
    })
}
