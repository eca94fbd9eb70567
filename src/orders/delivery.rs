//! Delivery orders on a courier network (Dada; WeChat next): quotes, dispatch (direct or from
//! a quote), re-dispatch, tips, cancellation with its penalty, courier appointment,
//! complaints, returned goods and the courier's requests to cancel.
//!
//! The same promises as service orders: a dispatch is written as a draft before the platform
//! is asked (so a callback that beats the platform's answer finds its order), refusals undo
//! the draft, and an unknown outcome is kept visible and reconciled by the poller, which asks
//! the platform by our own reference. Every change is committed before it is published.

use std::sync::Arc;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use entity::{delivery_quote, idempotency_key, orders, shop};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QuerySelect, TransactionTrait, sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    OrderError, OrderService, UserError, UserErrorCode,
    create::{claim_key, in_use},
    provider_user_error,
};
use crate::{
    domain::{
        Direction, EventKind, EventSource, GeoPoint, Money, OrderKind, OrderStatus, ProviderId,
    },
    events::StatusChange,
    outbox,
    providers::{
        ProviderError, RejectKind,
        delivery::{
            Courier, CourierNetwork, DeliveryFees, DeliveryQuote, DeliveryRequest, Dispatched,
            OrderRef, Reason, Sender,
        },
        with_timeout,
    },
};

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
    pub receiver_phone: String,
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
    pub idempotency_key: Option<String>,
}

/// The request as stored with a quote (our spelling), so the order can be written from it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredRequest {
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

/// Who answers a courier's request to cancel when nobody calls the mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CourierCancelPolicy {
    /// Recorded and streamed; a person answers with `respondToCourierCancellation`.
    Manual,
    /// Agreed to at once, through the outbox.
    Accept,
    /// Refused at once, through the outbox.
    Reject,
}

/// A courier's request to cancel, as the message route hands it over.
#[derive(Clone, Debug)]
pub struct CourierCancelRequest {
    pub provider: ProviderId,
    pub origin_id: String,
    pub platform_order_id: String,
    pub reason: Option<String>,
    pub dedup_key: String,
    pub payload: String,
}

/// The operation name of the outbox rows that answer a courier's request to cancel.
pub const ANSWER_COURIER_CANCELLATION: &str = "ANSWER_COURIER_CANCELLATION";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AnswerPayload {
    pub accept: bool,
}

/// Whole seconds: platforms date callbacks in seconds, so a time of ours with a fraction
/// would make a callback from the same second look older than it is.
fn floor_secs(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::seconds(1)).unwrap_or(t)
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
        courier_network(&self.registry, provider, field)
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
        let stored = StoredRequest {
            receiver_name: input.receiver_name.trim().to_owned(),
            receiver_phone: input.receiver_phone.trim().to_owned(),
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
        };
        Ok((shop, provider, network, stored))
    }

    /// Asks the store's network what a delivery would cost: one quote per courier company
    /// (one for Dada; every bound company on WeChat, or only `input.company`), each
    /// dispatchable with `dispatch_delivery` until it expires. Companies that refuse are
    /// reported beside the others; only when all refuse is it an error.
    #[tracing::instrument(skip_all, fields(shop_id = input.shop_id))]
    pub async fn quote_delivery(&self, input: DeliveryInput) -> Result<Quoted, OrderError> {
        let (shop, provider, network, stored) = self.prepare(&input).await?;
        let origin_id = match &input.origin_id {
            Some(o) => {
                self.refuse_taken_origin(provider, o).await?;
                o.clone()
            }
            None => self.new_origin_id(),
        };
        let request = self.request_for(provider, origin_id.clone(), &shop, &stored)?;
        let answers = with_timeout(provider, self.delivery.timeout, network.quote_all(&request))
            .await
            .map_err(|e| provider_user_error(&e))?;
        let now = Utc::now();
        let mut quoted = Quoted::default();
        for answer in answers {
            let quote: DeliveryQuote = match answer.quote {
                Ok(q) => q,
                Err(e) => {
                    let mut refusal = provider_user_error(&e);
                    refusal.field = vec![
                        "delivery".into(),
                        "company".into(),
                        answer.company.id.clone(),
                    ];
                    refusal.message = format!("{}: {}", answer.company.name, refusal.message);
                    quoted.refusals.push(refusal);
                    continue;
                }
            };
            // A company without a handle still prices the request; we hold the price for
            // as long as a handle would live.
            let expires_at = quote.expires_at.unwrap_or(now + TimeDelta::minutes(3));
            let mut company_request = stored.clone();
            if !answer.company.id.is_empty() {
                company_request.company = Some(answer.company.id.clone());
            }
            let row = delivery_quote::ActiveModel {
                provider: Set(provider.as_str().to_owned()),
                shop_id: Set(shop.id),
                origin_id: Set(origin_id.clone()),
                token: Set(quote.token),
                request: Set(serde_json::to_string(&company_request)
                    .map_err(|e| DbErr::Custom(e.to_string()))?),
                fee_fen: Set(quote.fees.fee.fen()),
                delivery_fee_fen: Set(quote.fees.delivery_fee.fen()),
                coupon_fen: Set(quote.fees.coupon.fen()),
                tips_fen: Set(quote.fees.tips.fen()),
                insurance_fen: Set(quote.fees.insurance.fen()),
                distance_m: Set(quote.distance_m),
                expires_at: Set(expires_at),
                order_id: Set(None),
                created_at: Set(now),
                company: Set(company_request.company.clone()),
                dispatch_minutes: Set(quote.dispatch_minutes),
                ..Default::default()
            }
            .insert(&self.db)
            .await?;
            quoted.quotes.push(row);
        }
        if quoted.quotes.is_empty() {
            if quoted.refusals.is_empty() {
                quoted.refusals.push(UserError::new(
                    &["delivery", "company"],
                    UserErrorCode::InvalidInput,
                    format!("no courier company of {provider} can quote this"),
                ));
            }
            return Err(OrderError::User(quoted.refusals));
        }
        Ok(quoted)
    }

    pub async fn quote(&self, id: i64) -> Result<Option<delivery_quote::Model>, DbErr> {
        delivery_quote::Entity::find_by_id(id).one(&self.db).await
    }

    async fn refuse_taken_origin(
        &self,
        provider: ProviderId,
        origin_id: &str,
    ) -> Result<(), OrderError> {
        if let Some(existing) = self.by_external_id(provider, origin_id).await? {
            return Err(UserError::new(
                &["originId"],
                UserErrorCode::AlreadyDispatched,
                format!(
                    "order {} already has originId {origin_id:?}: use redispatchDelivery to send it again",
                    existing.id
                ),
            )
            .into());
        }
        Ok(())
    }

    /// Dispatches a delivery, directly or from a quote. Idempotent by key.
    #[tracing::instrument(skip_all)]
    pub async fn dispatch_delivery(
        &self,
        input: DispatchDelivery,
    ) -> Result<orders::Model, OrderError> {
        let digest = dispatch_digest(&input.source);
        if let Some(key) = &input.idempotency_key
            && let Some(existing) = self.replay(DISPATCH, key, &digest).await?
        {
            return Ok(existing);
        }
        let (shop, provider, network, stored, origin_id, quote) = match &input.source {
            DispatchSource::Direct(d) => {
                let (shop, provider, network, stored) = self.prepare(d).await?;
                let origin_id = match &d.origin_id {
                    Some(o) => o.clone(),
                    None => self.new_origin_id(),
                };
                (shop, provider, network, stored, origin_id, None)
            }
            DispatchSource::Quote(id) => {
                let quote = self.quote(*id).await?.ok_or_else(|| {
                    UserError::new(&["quoteId"], UserErrorCode::NotFound, "no such quote")
                })?;
                if let Some(order_id) = quote.order_id {
                    return Err(UserError::new(
                        &["quoteId"],
                        UserErrorCode::AlreadyDispatched,
                        format!("this quote was dispatched as order {order_id}"),
                    )
                    .into());
                }
                let (shop, provider) = self.store_of(quote.shop_id).await?;
                let network = self.courier_or_refuse(provider, &["quoteId"])?;
                let stored: StoredRequest = serde_json::from_str(&quote.request)
                    .map_err(|e| DbErr::Custom(format!("quote {}: {e}", quote.id)))?;
                let origin_id = quote.origin_id.clone();
                (shop, provider, network, stored, origin_id, Some(quote))
            }
        };
        self.refuse_taken_origin(provider, &origin_id).await?;
        let mut request = self.request_for(provider, origin_id.clone(), &shop, &stored)?;
        let draft = self
            .insert_delivery_draft(
                &input.idempotency_key,
                &digest,
                provider,
                &shop,
                &origin_id,
                &stored,
            )
            .await?;

        let answer = match &quote {
            // A quote with the platform's handle is published by it; one without (a company
            // that gives none) is dispatched as the quoted request.
            Some(q) if !q.token.is_empty() => {
                request.quote_token = Some(q.token.clone());
                with_timeout(
                    provider,
                    self.delivery.timeout,
                    network.dispatch_quote(&request, &q.token),
                )
                .await
            }
            _ => with_timeout(provider, self.delivery.timeout, network.dispatch(&request)).await,
        };
        match answer {
            Ok(done) => {
                let order = self
                    .complete_dispatch(draft, provider, &done, quote.as_ref())
                    .await?;
                metrics::counter!("orderhub_orders_created_total", "provider" => provider.as_str())
                    .increment(1);
                Ok(order)
            }
            Err(
                e @ ProviderError::Unavailable {
                    outcome_unknown: true,
                    ..
                },
            ) => {
                // The platform may have the order. Ask it by our reference before deciding.
                let reference = OrderRef {
                    origin_id: origin_id.clone(),
                    company: stored.company.clone(),
                    waybill: None,
                    shop_no: Some(shop.external_id.clone()),
                    city_code: Some(stored.city_code.clone()),
                };
                match with_timeout(provider, self.delivery.timeout, network.detail(&reference))
                    .await
                {
                    Ok(detail) => {
                        let done = dispatched_from(&detail);
                        self.complete_dispatch(draft, provider, &done, quote.as_ref())
                            .await
                    }
                    Err(ProviderError::Rejected {
                        kind: RejectKind::NotFound,
                        ..
                    }) => {
                        self.undo_draft(draft.id, &input.idempotency_key).await?;
                        Err(provider_user_error(&e).into())
                    }
                    Err(_) => {
                        let order = self.mark_submit_unknown(draft, provider, &e).await?;
                        let mut err = provider_user_error(&e);
                        err.message = format!(
                            "{provider} did not answer in time; the delivery may have been dispatched. It is kept as order {} and checked with {provider} until known",
                            order.id
                        );
                        Err(err.into())
                    }
                }
            }
            Err(e) => {
                self.undo_draft(draft.id, &input.idempotency_key).await?;
                Err(provider_user_error(&e).into())
            }
        }
    }

    async fn insert_delivery_draft(
        &self,
        key: &Option<String>,
        digest: &str,
        provider: ProviderId,
        shop: &shop::Model,
        origin_id: &str,
        stored: &StoredRequest,
    ) -> Result<orders::Model, OrderError> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let weight_g = stored
            .cargo_weight_kg
            .parse::<Decimal>()
            .ok()
            .and_then(|kg| (kg * Decimal::from(1000)).round().try_into().ok());
        let draft = orders::ActiveModel {
            provider: Set(provider.as_str().to_owned()),
            external_id: Set(Some(origin_id.to_owned())),
            direction: Set(Direction::Outbound.as_str().to_owned()),
            kind: Set(OrderKind::Delivery.as_str().to_owned()),
            status: Set(OrderStatus::Pending.as_str().to_owned()),
            raw_status: Set(SUBMITTING.into()),
            shop_id: Set(Some(shop.id)),
            contact_person: Set(stored.receiver_name.clone()),
            phone: Set(stored.receiver_phone.clone()),
            city: Set(shop.city.clone().unwrap_or_default()),
            street: Set(stored.receiver_address.clone()),
            house: Set(String::new()),
            note: Set(stored.note.clone()),
            appoint_time: Set(stored.publish_at),
            items_total_fen: Set(0),
            fee_fen: Set(0),
            total_fen: Set(0),
            balance_after_fen: Set(None),
            cancel_reason: Set(None),
            // No platform time yet: the first callback's own time becomes the reference, so
            // a platform clock a little behind ours cannot make its news look old.
            status_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            city_code: Set(Some(stored.city_code.clone())),
            receiver_lng: Set(stored.receiver_lng),
            receiver_lat: Set(stored.receiver_lat),
            cargo_price_fen: Set(Some(stored.cargo_price_fen)),
            cargo_weight_g: Set(weight_g),
            tips_fen: Set(Some(stored.tips_fen)),
            dispatch_round: Set(1),
            courier_company: Set(stored.company.clone()),
            ..Default::default()
        };
        let inserted = orders::Entity::insert(draft)
            .on_conflict(
                OnConflict::columns([orders::Column::Provider, orders::Column::ExternalId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        if inserted == 0 {
            txn.rollback().await?;
            return Err(UserError::new(
                &["originId"],
                UserErrorCode::AlreadyDispatched,
                format!("originId {origin_id:?} is already taken: use redispatchDelivery"),
            )
            .into());
        }
        let draft = orders::Entity::find()
            .filter(orders::Column::Provider.eq(provider.as_str()))
            .filter(orders::Column::ExternalId.eq(origin_id))
            .one(&txn)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("draft {origin_id}")))?;
        if let Some(key) = key
            && !claim_key(&txn, key, DISPATCH, digest, draft.id).await?
        {
            txn.rollback().await?;
            return Err(in_use());
        }
        txn.commit().await?;
        Ok(draft)
    }

    async fn undo_draft(&self, id: i64, key: &Option<String>) -> Result<(), DbErr> {
        let txn = self.db.begin().await?;
        orders::Entity::delete_by_id(id).exec(&txn).await?;
        if let Some(key) = key {
            idempotency_key::Entity::delete_by_id(key.clone())
                .exec(&txn)
                .await?;
        }
        txn.commit().await
    }

    /// Fills in the platform's answer. A callback may already have moved the order (Dada
    /// calls back on publication, sometimes before its own answer arrives): the status is
    /// only set while the order is still the draft.
    async fn complete_dispatch(
        &self,
        draft: orders::Model,
        provider: ProviderId,
        done: &Dispatched,
        quote: Option<&delivery_quote::Model>,
    ) -> Result<orders::Model, OrderError> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let order = lock(&txn, draft.id).await?;
        let was_draft = order.raw_status == SUBMITTING || order.raw_status == SUBMIT_UNKNOWN;
        let mut am: orders::ActiveModel = order.clone().into();
        set_fees(&mut am, &done.fees);
        am.distance_m = Set(Some(done.distance_m));
        am.updated_at = Set(now);
        if let Some(w) = done.waybill.clone().filter(|w| !w.is_empty()) {
            am.platform_ref = Set(Some(w));
        }
        if let Some(code) = done.finish_code.clone().filter(|c| !c.is_empty()) {
            am.finish_code = Set(Some(code));
        }
        if was_draft {
            let raw = done
                .raw_status
                .clone()
                .unwrap_or_else(|| self.raw_published(provider));
            am.raw_status = Set(raw);
            am.status = Set(OrderStatus::Pending.as_str().to_owned());
        }
        let order = am.update(&txn).await?;
        if let Some(q) = quote {
            let mut qa: delivery_quote::ActiveModel = q.clone().into();
            qa.order_id = Set(Some(order.id));
            qa.update(&txn).await?;
        }
        let change = self
            .record_event(
                &txn,
                StatusChange {
                    event_id: 0,
                    order_id: order.id,
                    provider,
                    from: None,
                    to: order.status.parse().unwrap_or(OrderStatus::Pending),
                    raw_status: order.raw_status.clone(),
                    source: EventSource::Create,
                    occurred_at: order.status_at.unwrap_or(now),
                    detail: Some(format!(
                        "dispatched: fee {} (distance {} m)",
                        done.fees.fee, done.distance_m
                    )),
                    kind: EventKind::Status,
                },
                true,
            )
            .await?;
        txn.commit().await?;
        self.bus.publish(change);
        Ok(order)
    }

    async fn mark_submit_unknown(
        &self,
        draft: orders::Model,
        provider: ProviderId,
        e: &ProviderError,
    ) -> Result<orders::Model, OrderError> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let order = lock(&txn, draft.id).await?;
        if order.raw_status != SUBMITTING {
            // A callback told us in the meantime: the platform has it.
            txn.commit().await?;
            return Ok(order);
        }
        let mut am: orders::ActiveModel = order.into();
        am.raw_status = Set(SUBMIT_UNKNOWN.into());
        am.updated_at = Set(now);
        let order = am.update(&txn).await?;
        let change = self
            .record_event(
                &txn,
                StatusChange {
                    event_id: 0,
                    order_id: order.id,
                    provider,
                    from: None,
                    to: OrderStatus::Pending,
                    raw_status: SUBMIT_UNKNOWN.into(),
                    source: EventSource::Create,
                    occurred_at: now,
                    detail: Some(format!("outcome unknown ({e}); checking with {provider}")),
                    kind: EventKind::Status,
                },
                true,
            )
            .await?;
        txn.commit().await?;
        tracing::error!(order_id = order.id, "delivery dispatch outcome unknown");
        self.bus.publish(change);
        Ok(order)
    }

    /// Sends an order the platform ended (cancelled, expired, returned, failed) again, as
    /// the same order: a new round with the same reference.
    #[tracing::instrument(skip_all, fields(order_id = id))]
    pub async fn redispatch_delivery(&self, id: i64) -> Result<orders::Model, OrderError> {
        let (order, network) = self.delivery_order(id).await?;
        let provider = network.id();
        let shop_id = order.shop_id.ok_or_else(|| {
            UserError::new(
                &["orderId"],
                UserErrorCode::InvalidState,
                "the order's store is gone",
            )
        })?;
        let (shop, _) = self.store_of(shop_id).await?;
        let stored = stored_from_order(&order);
        let origin_id = order.external_id.clone().unwrap_or_default();
        let request = self.request_for(provider, origin_id, &shop, &stored)?;

        // Mark the new round before asking, so the new round's callbacks apply and the old
        // round's late ones (dated before it) do not.
        let before = order.clone();
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let current = lock(&txn, id).await?;
        if current.raw_status == SUBMITTING {
            txn.rollback().await?;
            return Err(UserError::new(
                &["orderId"],
                UserErrorCode::InvalidState,
                "the order is being dispatched right now",
            )
            .into());
        }
        let mut am: orders::ActiveModel = current.clone().into();
        am.status = Set(OrderStatus::Pending.as_str().to_owned());
        am.raw_status = Set(SUBMITTING.into());
        am.status_at = Set(Some(floor_secs(now)));
        am.dispatch_round = Set(current.dispatch_round + 1);
        am.updated_at = Set(now);
        am.update(&txn).await?;
        txn.commit().await?;

        match with_timeout(
            provider,
            self.delivery.timeout,
            network.redispatch(&request),
        )
        .await
        {
            Ok(done) => {
                let txn = self.db.begin().await?;
                let order = lock(&txn, id).await?;
                let from = before.status.parse::<OrderStatus>().ok();
                let mut am: orders::ActiveModel = order.clone().into();
                set_fees(&mut am, &done.fees);
                am.distance_m = Set(Some(done.distance_m));
                am.penalty_fen = Set(None);
                am.cancel_reason = Set(None);
                am.courier_id = Set(None);
                am.courier_name = Set(None);
                am.courier_phone = Set(None);
                am.courier_lng = Set(None);
                am.courier_lat = Set(None);
                am.courier_seen_at = Set(None);
                am.finish_code = Set(None);
                am.courier_cancel_reason = Set(None);
                am.courier_cancel_ref = Set(None);
                am.courier_cancel_at = Set(None);
                am.courier_cancel_answer = Set(None);
                // The new round's waybill (the old one's is void).
                am.platform_ref = Set(done.waybill.clone().filter(|w| !w.is_empty()));
                if order.raw_status == SUBMITTING {
                    am.raw_status = Set(done
                        .raw_status
                        .clone()
                        .unwrap_or_else(|| self.raw_published(provider)));
                }
                am.updated_at = Set(Utc::now());
                let order = am.update(&txn).await?;
                let change = self
                    .record_event(
                        &txn,
                        StatusChange {
                            event_id: 0,
                            order_id: order.id,
                            provider,
                            from,
                            to: order.status.parse().unwrap_or(OrderStatus::Pending),
                            raw_status: order.raw_status.clone(),
                            source: EventSource::Api,
                            occurred_at: order.status_at.unwrap_or(now),
                            detail: Some(format!(
                                "re-dispatched (round {}): fee {}",
                                order.dispatch_round, done.fees.fee
                            )),
                            kind: EventKind::Status,
                        },
                        true,
                    )
                    .await?;
                txn.commit().await?;
                self.bus.publish(change);
                Ok(order)
            }
            Err(
                e @ ProviderError::Unavailable {
                    outcome_unknown: true,
                    ..
                },
            ) => {
                let order = self
                    .mark_submit_unknown(self.get_or_gone(id).await?, provider, &e)
                    .await?;
                let mut err = provider_user_error(&e);
                err.message = format!(
                    "{provider} did not answer in time; order {} may have been sent again and is checked with {provider} until known",
                    order.id
                );
                Err(err.into())
            }
            Err(e) => {
                // Refused: the order is as it was.
                let txn = self.db.begin().await?;
                let current = lock(&txn, id).await?;
                if current.raw_status == SUBMITTING {
                    let mut am: orders::ActiveModel = current.into();
                    am.status = Set(before.status.clone());
                    am.raw_status = Set(before.raw_status.clone());
                    am.status_at = Set(before.status_at);
                    am.dispatch_round = Set(before.dispatch_round);
                    am.updated_at = Set(before.updated_at);
                    am.update(&txn).await?;
                }
                txn.commit().await?;
                Err(provider_user_error(&e).into())
            }
        }
    }

    async fn get_or_gone(&self, id: i64) -> Result<orders::Model, OrderError> {
        self.get(id).await?.ok_or_else(|| {
            UserError::new(&["orderId"], UserErrorCode::NotFound, "no such order").into()
        })
    }

    /// Raises the tip to `total` (the new total tip, not an increment).
    #[tracing::instrument(skip_all, fields(order_id = id))]
    pub async fn add_tip(
        &self,
        id: i64,
        total: Money,
        note: Option<String>,
    ) -> Result<orders::Model, OrderError> {
        if total.fen() <= 0 {
            return Err(UserError::new(
                &["tip"],
                UserErrorCode::InvalidInput,
                "tip must be positive",
            )
            .into());
        }
        let (order, network) = self.delivery_order(id).await?;
        let reference = self.order_ref(&order).await?;
        with_timeout(
            network.id(),
            self.delivery.timeout,
            network.add_tip(&reference, total, note.as_deref()),
        )
        .await
        .map_err(|e| provider_user_error(&e))?;
        self.note_event(
            id,
            EventKind::TipAdded,
            format!("tip raised to {total}"),
            |am, o| {
                let before = o.tips_fen.unwrap_or(0);
                am.tips_fen = Set(Some(total.fen()));
                am.fee_fen = Set(o.fee_fen + (total.fen() - before).max(0));
                am.total_fen = Set(o.total_fen + (total.fen() - before).max(0));
            },
        )
        .await
    }

    /// Cancels on the platform with a reason; the penalty it keeps is stored on the order.
    #[tracing::instrument(skip_all, fields(order_id = id))]
    pub async fn cancel_delivery(
        &self,
        id: i64,
        reason_id: Option<i64>,
        reason: Option<String>,
    ) -> Result<(orders::Model, Money), OrderError> {
        let (order, network) = self.delivery_order(id).await?;
        let reference = self.order_ref(&order).await?;
        // "Other" carries the free text; a free text alone means "other".
        let reason_id = match (reason_id, reason.as_deref()) {
            (Some(id), _) => id,
            (None, Some(r)) if !r.trim().is_empty() => network.other_cancel_reason_id(),
            _ => {
                return Err(UserError::new(
                    &["reasonId"],
                    UserErrorCode::InvalidInput,
                    "give reasonId (see deliveryCancelReasons) or a reason",
                )
                .into());
            }
        };
        let text = reason.clone().unwrap_or_default();
        let penalty = with_timeout(
            network.id(),
            self.delivery.timeout,
            network.cancel(&reference, reason_id, &text),
        )
        .await
        .map_err(|e| provider_user_error(&e))?;
        let label = if text.trim().is_empty() {
            format!("reason {reason_id}")
        } else {
            text.clone()
        };
        // Where a cancellation leads depends on the company and the moment (after pick-up
        // the goods come back: WeChat's 303, not 103), so ask; assume the plain cancelled
        // status only when the platform cannot say right now.
        let (status, raw_status) = match with_timeout(
            network.id(),
            self.delivery.timeout,
            network.detail(&reference),
        )
        .await
        {
            Ok(d) if d.status == OrderStatus::Cancelled || d.status == OrderStatus::Returning => {
                (d.status, d.raw_status)
            }
            _ => (
                OrderStatus::Cancelled,
                network.raw_status_cancelled().to_owned(),
            ),
        };
        let update = super::StatusUpdate {
            order_id: id,
            status,
            raw_status,
            source: EventSource::Api,
            occurred_at: floor_secs(Utc::now()),
            detail: Some(format!("cancelled by us: {label}; penalty {penalty}")),
            cancel_reason: Some(label.clone()),
            inbound: None,
            delivery: Some(super::DeliveryNews {
                penalty: Some(penalty),
                ..Default::default()
            }),
        };
        self.apply_status(update).await?;
        // The platform's own news of the cancellation may have been written first (then the
        // update above moved nothing): the penalty and our reason are ours to record anyway.
        let order = self.get_or_gone(id).await?;
        if order.penalty_fen.is_none() || order.cancel_reason.as_deref() != Some(label.as_str()) {
            let mut am: orders::ActiveModel = order.into();
            am.penalty_fen = Set(Some(penalty.fen()));
            am.cancel_reason = Set(Some(label));
            am.updated_at = Set(Utc::now());
            am.update(&self.db).await?;
        }
        let order = self.get_or_gone(id).await?;
        Ok((order, penalty))
    }

    /// Asks the order's network for `call` (given the network and our reference) and, when
    /// it agrees, records `kind` on the order's timeline.
    async fn act_then_note(
        &self,
        id: i64,
        kind: EventKind,
        detail: String,
        call: impl FnOnce(
            Arc<dyn CourierNetwork>,
            OrderRef,
        )
            -> crate::providers::BoxFuture<'static, crate::providers::ProviderResult<()>>,
    ) -> Result<orders::Model, OrderError> {
        let (order, network) = self.delivery_order(id).await?;
        let reference = self.order_ref(&order).await?;
        with_timeout(
            network.id(),
            self.delivery.timeout,
            call(network.clone(), reference),
        )
        .await
        .map_err(|e| provider_user_error(&e))?;
        self.note_event(id, kind, detail, |_, _| {}).await
    }

    pub async fn assign_courier(
        &self,
        id: i64,
        courier_id: &str,
    ) -> Result<orders::Model, OrderError> {
        self.act_then_note(
            id,
            EventKind::CourierAppointed,
            format!("appointed to courier {courier_id}"),
            {
                let courier_id = courier_id.to_owned();
                move |n, order| Box::pin(async move { n.appoint(&order, &courier_id).await })
            },
        )
        .await
    }

    pub async fn unassign_courier(&self, id: i64) -> Result<orders::Model, OrderError> {
        self.act_then_note(
            id,
            EventKind::CourierAppointmentCancelled,
            "appointment cancelled".into(),
            |n, order| Box::pin(async move { n.cancel_appointment(&order).await }),
        )
        .await
    }

    pub async fn complain_about_courier(
        &self,
        id: i64,
        reason_id: i64,
    ) -> Result<orders::Model, OrderError> {
        self.act_then_note(
            id,
            EventKind::ComplaintFiled,
            format!("complaint filed (reason {reason_id})"),
            move |n, order| Box::pin(async move { n.complain(&order, reason_id).await }),
        )
        .await
    }

    pub async fn confirm_returned_goods(&self, id: i64) -> Result<orders::Model, OrderError> {
        self.act_then_note(
            id,
            EventKind::ReturnedGoodsConfirmed,
            "returned goods confirmed".into(),
            |n, order| Box::pin(async move { n.confirm_returned_goods(&order).await }),
        )
        .await
    }

    /// Test environments only: has the platform move the order as a courier would. Nothing
    /// is written here; the change arrives through the platform's callback or push.
    pub async fn simulate_delivery_status(
        &self,
        id: i64,
        raw_status: i64,
    ) -> Result<orders::Model, OrderError> {
        let (order, network) = self.delivery_order(id).await?;
        let reference = self.order_ref(&order).await?;
        with_timeout(
            network.id(),
            self.delivery.timeout,
            network.simulate_status(&reference, raw_status),
        )
        .await
        .map_err(|e| provider_user_error(&e))?;
        Ok(order)
    }

    /// Answers a courier's pending request to cancel.
    pub async fn respond_to_courier_cancellation(
        &self,
        id: i64,
        accept: bool,
    ) -> Result<orders::Model, OrderError> {
        let (order, network) = self.delivery_order(id).await?;
        let (Some(reference), Some("PENDING")) = (
            order.courier_cancel_ref.clone(),
            order.courier_cancel_answer.as_deref(),
        ) else {
            return Err(UserError::new(
                &["orderId"],
                UserErrorCode::InvalidState,
                "no courier is waiting for an answer on this order",
            )
            .into());
        };
        let order_ref = self.order_ref(&order).await?;
        with_timeout(
            network.id(),
            self.delivery.timeout,
            network.answer_courier_cancellation(&order_ref, &reference, accept),
        )
        .await
        .map_err(|e| provider_user_error(&e))?;
        self.record_courier_answer(id, accept, EventSource::Api)
            .await
    }

    pub(crate) async fn record_courier_answer(
        &self,
        id: i64,
        accept: bool,
        source: EventSource,
    ) -> Result<orders::Model, OrderError> {
        let answer = if accept { "ACCEPTED" } else { "REJECTED" };
        let by = match source {
            EventSource::Api => "by us",
            _ => "automatically",
        };
        self.note_event(
            id,
            EventKind::CourierCancelAnswered,
            format!("courier's cancel request {} {by}", answer.to_lowercase()),
            |am, _| am.courier_cancel_answer = Set(Some(answer.to_owned())),
        )
        .await
    }

    /// Records a courier's request to cancel (idempotent per message), streams it, and when
    /// the policy answers automatically queues the answer in the outbox, all in one
    /// transaction. Returns None when the order is not ours.
    pub async fn record_courier_cancel_request(
        &self,
        req: CourierCancelRequest,
    ) -> Result<Option<super::ApplyOutcome>, DbErr> {
        let Some(order) = self.by_external_id(req.provider, &req.origin_id).await? else {
            return Ok(None);
        };
        let policy = self.delivery.courier_cancel_policy;
        let txn = self.db.begin().await?;
        let inbound = super::InboundRecord {
            provider: req.provider,
            kind: "message",
            dedup_key: req.dedup_key.clone(),
            payload: req.payload.clone(),
        };
        if !super::status::record_inbound(&txn, &inbound, order.id).await? {
            txn.rollback().await?;
            metrics::counter!("orderhub_callbacks_total", "provider" => req.provider.as_str(), "outcome" => "duplicate").increment(1);
            return Ok(Some(super::ApplyOutcome::Duplicate));
        }
        let order = lock(&txn, order.id).await?;
        let now = Utc::now();
        let mut am: orders::ActiveModel = order.clone().into();
        am.courier_cancel_reason = Set(req.reason.clone());
        am.courier_cancel_ref = Set(Some(req.platform_order_id.clone()));
        am.courier_cancel_at = Set(Some(now));
        am.courier_cancel_answer = Set(Some("PENDING".into()));
        am.updated_at = Set(now);
        am.update(&txn).await?;
        if policy != CourierCancelPolicy::Manual {
            let payload = AnswerPayload {
                accept: policy == CourierCancelPolicy::Accept,
            };
            outbox::enqueue(
                &txn,
                req.provider,
                ANSWER_COURIER_CANCELLATION,
                Some(order.id),
                &serde_json::to_string(&payload).map_err(|e| DbErr::Custom(e.to_string()))?,
            )
            .await?;
        }
        let status = order
            .status
            .parse::<OrderStatus>()
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        let change = self
            .record_event(
                &txn,
                StatusChange {
                    event_id: 0,
                    order_id: order.id,
                    provider: req.provider,
                    from: Some(status),
                    to: status,
                    raw_status: order.raw_status.clone(),
                    source: EventSource::Callback,
                    occurred_at: now,
                    detail: Some(format!(
                        "courier asks to cancel: {}",
                        req.reason.as_deref().unwrap_or("no reason given")
                    )),
                    kind: EventKind::CourierCancelRequested,
                },
                true,
            )
            .await?;
        txn.commit().await?;
        metrics::counter!("orderhub_callbacks_total", "provider" => req.provider.as_str(), "outcome" => "accepted").increment(1);
        let event_id = change.event_id;
        self.bus.publish(change);
        if policy != CourierCancelPolicy::Manual {
            self.outbox_wake.notify_one();
        }
        Ok(Some(super::ApplyOutcome::Applied { event_id }))
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

    pub async fn appointable_couriers(&self, shop_id: i64) -> Result<Vec<Courier>, OrderError> {
        let (shop, provider) = self.store_of(shop_id).await?;
        let network = self.courier_or_refuse(provider, &["shopId"])?;
        with_timeout(
            provider,
            self.delivery.timeout,
            network.appointable_couriers(&shop.external_id),
        )
        .await
        .map_err(|e| provider_user_error(&e).into())
    }

    /// The courier's position now, asked of the platform, and stored on the order; the
    /// stored one when the platform cannot say.
    pub async fn courier_position(
        &self,
        order: &orders::Model,
    ) -> Result<Option<GeoPoint>, ProviderError> {
        let stored = match (order.courier_lng, order.courier_lat) {
            (Some(lng), Some(lat)) => GeoPoint::new(lng, lat),
            _ => None,
        };
        let (Some(origin), Ok(provider)) = (
            order.external_id.clone(),
            order.provider.parse::<ProviderId>(),
        ) else {
            return Ok(stored);
        };
        let Some(network) = self.courier(provider).cloned() else {
            return Ok(stored);
        };
        let asked = with_timeout(
            provider,
            self.delivery.timeout,
            network.courier_positions(std::slice::from_ref(&origin)),
        )
        .await;
        let seen = match asked {
            Ok(positions) => positions
                .into_iter()
                .find(|p| p.origin_id == origin)
                .and_then(|p| p.courier.position),
            // Networks without a position call tell it with the order's detail.
            Err(ProviderError::Rejected {
                kind: RejectKind::Unsupported,
                ..
            }) => {
                let reference =
                    self.order_ref(order)
                        .await
                        .map_err(|e| ProviderError::Protocol {
                            provider,
                            detail: format!("{e:?}"),
                        })?;
                with_timeout(provider, self.delivery.timeout, network.detail(&reference))
                    .await?
                    .courier
                    .position
            }
            Err(e) => return Err(e),
        };
        let Some(seen) = seen else {
            return Ok(stored);
        };
        let mut am: orders::ActiveModel = order.clone().into();
        am.courier_lng = Set(Some(seen.lng));
        am.courier_lat = Set(Some(seen.lat));
        am.courier_seen_at = Set(Some(Utc::now()));
        if let Err(e) = am.update(&self.db).await {
            tracing::warn!(error = %e, order_id = order.id, "storing the courier's position failed");
        }
        Ok(Some(seen))
    }

    pub async fn track_url(&self, order: &orders::Model) -> Result<Option<String>, ProviderError> {
        let Ok(provider) = order.provider.parse::<ProviderId>() else {
            return Ok(None);
        };
        let Some(network) = self.courier(provider).cloned() else {
            return Ok(None);
        };
        let Ok(reference) = self.order_ref(order).await else {
            return Ok(None);
        };
        match with_timeout(
            provider,
            self.delivery.timeout,
            network.track_url(&reference),
        )
        .await
        {
            Ok(url) => Ok(Some(url)),
            Err(ProviderError::Rejected {
                kind: RejectKind::Unsupported,
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// What cancelling would cost now (the platform's preview), without cancelling.
    pub async fn preview_cancellation(
        &self,
        id: i64,
        reason_id: Option<i64>,
        reason: Option<String>,
    ) -> Result<crate::providers::delivery::CancelPreview, OrderError> {
        let (order, network) = self.delivery_order(id).await?;
        let reference = self.order_ref(&order).await?;
        let reason_id = reason_id.unwrap_or_else(|| network.other_cancel_reason_id());
        let text = reason.unwrap_or_default();
        with_timeout(
            network.id(),
            self.delivery.timeout,
            network.preview_cancel(&reference, reason_id, &text),
        )
        .await
        .map_err(|e| provider_user_error(&e).into())
    }

    pub async fn companies(
        &self,
        provider: ProviderId,
    ) -> Result<Vec<crate::providers::delivery::Company>, OrderError> {
        let network = self.courier_or_refuse(provider, &["provider"])?;
        with_timeout(provider, self.delivery.timeout, network.companies())
            .await
            .map_err(|e| provider_user_error(&e).into())
    }

    pub async fn bound_accounts(
        &self,
        provider: ProviderId,
    ) -> Result<Vec<crate::providers::delivery::BoundAccount>, OrderError> {
        let network = self.courier_or_refuse(provider, &["provider"])?;
        with_timeout(provider, self.delivery.timeout, network.bound_accounts())
            .await
            .map_err(|e| provider_user_error(&e).into())
    }

    pub async fn bind_account(
        &self,
        provider: ProviderId,
        company: &str,
    ) -> Result<(), OrderError> {
        if company.trim().is_empty() {
            return Err(UserError::new(
                &["company"],
                UserErrorCode::InvalidInput,
                "company is required",
            )
            .into());
        }
        let network = self.courier_or_refuse(provider, &["provider"])?;
        with_timeout(
            provider,
            self.delivery.timeout,
            network.bind_account(company),
        )
        .await
        .map_err(|e| provider_user_error(&e).into())
    }

    pub async fn open_service(&self, provider: ProviderId) -> Result<(), OrderError> {
        let network = self.courier_or_refuse(provider, &["provider"])?;
        with_timeout(provider, self.delivery.timeout, network.open_service())
            .await
            .map_err(|e| provider_user_error(&e).into())
    }

    pub async fn cancel_reasons(&self, provider: ProviderId) -> Result<Vec<Reason>, OrderError> {
        let network = self.courier_or_refuse(provider, &["provider"])?;
        with_timeout(provider, self.delivery.timeout, network.cancel_reasons())
            .await
            .map_err(|e| provider_user_error(&e).into())
    }

    pub async fn complaint_reasons(&self, provider: ProviderId) -> Result<Vec<Reason>, OrderError> {
        let network = self.courier_or_refuse(provider, &["provider"])?;
        with_timeout(provider, self.delivery.timeout, network.complaint_reasons())
            .await
            .map_err(|e| provider_user_error(&e).into())
    }

    /// Applies what a poll of the platform says about a delivery: a lost callback's change,
    /// or the fate of a dispatch whose answer never came.
    pub async fn reconcile_delivery(
        &self,
        network: &dyn CourierNetwork,
        order: &orders::Model,
    ) -> Result<(), OrderError> {
        if order.external_id.is_none() {
            return Ok(());
        }
        let reference = self.order_ref(order).await?;
        let provider = network.id();
        match with_timeout(provider, self.delivery.timeout, network.detail(&reference)).await {
            Ok(detail) => {
                if order.raw_status == SUBMIT_UNKNOWN || order.raw_status == SUBMITTING {
                    let done = dispatched_from(&detail);
                    self.complete_dispatch(order.clone(), provider, &done, None)
                        .await?;
                }
                if detail.raw_status != order.raw_status {
                    let courier = detail.courier.clone();
                    let update = super::StatusUpdate {
                        order_id: order.id,
                        status: detail.status,
                        raw_status: detail.raw_status.clone(),
                        source: EventSource::Poll,
                        occurred_at: floor_secs(Utc::now()),
                        detail: detail.status_message.clone(),
                        cancel_reason: None,
                        inbound: None,
                        delivery: Some(super::DeliveryNews {
                            platform_ref: None,
                            courier: (courier.name.is_some()).then_some(courier),
                            finish_code: detail.finish_code.clone(),
                            penalty: detail.penalty.filter(|p| p.fen() > 0),
                            fees: None,
                            distance_m: None,
                            courier_eta: None,
                        }),
                    };
                    self.apply_status(update).await?;
                }
                Ok(())
            }
            Err(ProviderError::Rejected {
                kind: RejectKind::NotFound,
                ..
            }) if order.raw_status == SUBMIT_UNKNOWN || order.raw_status == SUBMITTING => {
                // The platform never got it.
                let update = super::StatusUpdate {
                    order_id: order.id,
                    status: OrderStatus::Failed,
                    raw_status: "NOT_SUBMITTED".into(),
                    source: EventSource::Poll,
                    occurred_at: Utc::now(),
                    detail: Some(format!(
                        "{provider} has no such order: the dispatch never arrived"
                    )),
                    cancel_reason: Some("the dispatch never reached the platform".into()),
                    inbound: None,
                    delivery: None,
                };
                self.apply_status(update).await?;
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, order_id = order.id, "delivery poll failed");
                Ok(())
            }
        }
    }

    /// Asks the platform for the order's status a moment from now, in the background. For
    /// news whose order cannot be told from what it says: platforms date callbacks in whole
    /// seconds, so two changes within one second (appointed, then withdrawn) look alike, and
    /// a repeat of the first is indistinguishable from the last.
    pub(super) fn confirm_in_background(&self, provider: ProviderId, order_id: i64) {
        let Some(network) = self.courier(provider).cloned() else {
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            match this.get(order_id).await {
                Ok(Some(order)) => {
                    if let Err(e) = this.reconcile_delivery(network.as_ref(), &order).await {
                        tracing::warn!(error = ?e, order_id, "confirming a delivery's status failed");
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, order_id, "confirming a delivery's status failed")
                }
            }
        });
    }

    /// Runs one outbox row that belongs to deliveries. Returns the failure text to retry on.
    pub async fn perform_delivery_outbox(
        &self,
        provider: ProviderId,
        operation: &str,
        order_id: Option<i64>,
        payload: &str,
    ) -> Result<(), outbox::Failure> {
        match operation {
            ANSWER_COURIER_CANCELLATION => {
                let answer: AnswerPayload = serde_json::from_str(payload)
                    .map_err(|e| outbox::Failure::Permanent(format!("payload: {e}")))?;
                let id = order_id.ok_or_else(|| outbox::Failure::Permanent("no order".into()))?;
                let order = self
                    .get(id)
                    .await
                    .map_err(|e| outbox::Failure::Retry(e.to_string()))?
                    .ok_or_else(|| outbox::Failure::Permanent(format!("order {id} is gone")))?;
                if order.courier_cancel_answer.as_deref() != Some("PENDING") {
                    // Answered by hand in the meantime.
                    return Ok(());
                }
                let network = self
                    .courier(provider)
                    .cloned()
                    .ok_or_else(|| outbox::Failure::Retry(format!("{provider} is not enabled")))?;
                let (Ok(order_ref), Some(reference)) = (
                    self.order_ref(&order).await,
                    order.courier_cancel_ref.clone(),
                ) else {
                    return Err(outbox::Failure::Permanent("order lacks references".into()));
                };
                match with_timeout(
                    provider,
                    self.delivery.timeout,
                    network.answer_courier_cancellation(&order_ref, &reference, answer.accept),
                )
                .await
                {
                    Ok(()) => {}
                    Err(e @ ProviderError::Rejected { .. }) => {
                        return Err(outbox::Failure::Permanent(e.to_string()));
                    }
                    Err(e) => return Err(outbox::Failure::Retry(e.to_string())),
                }
                self.record_courier_answer(id, answer.accept, EventSource::Callback)
                    .await
                    .map_err(|e| outbox::Failure::Retry(format!("{e:?}")))?;
                Ok(())
            }
            other => Err(outbox::Failure::Permanent(format!(
                "unknown operation {other}"
            ))),
        }
    }
}

async fn lock(txn: &DatabaseTransaction, id: i64) -> Result<orders::Model, DbErr> {
    orders::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("order {id}")))
}

/// The enabled courier network `provider`, or the refusal naming `field`.
pub(crate) fn courier_network(
    registry: &crate::providers::Registry,
    provider: ProviderId,
    field: &[&str],
) -> Result<Arc<dyn CourierNetwork>, OrderError> {
    registry.courier(provider).cloned().ok_or_else(|| {
        UserError::new(
            field,
            UserErrorCode::UnsupportedByProvider,
            format!("{provider} is not a courier network enabled here"),
        )
        .into()
    })
}

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

pub(super) fn set_fees(am: &mut orders::ActiveModel, f: &DeliveryFees) {
    am.fee_fen = Set(f.fee.fen());
    am.total_fen = Set(f.fee.fen());
    am.delivery_fee_fen = Set(Some(f.delivery_fee.fen()));
    am.coupon_fen = Set(Some(f.coupon.fen()));
    am.tips_fen = Set(Some(f.tips.fen()));
    am.insurance_fen = Set(Some(f.insurance.fen()));
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

fn dispatch_digest(source: &DispatchSource) -> String {
    let text = match source {
        DispatchSource::Quote(id) => format!("quote:{id}"),
        DispatchSource::Direct(d) => format!(
            "direct:{}|{}|{}|{}|{:?}|{:?}|{}|{}|{}|{}|{:?}|{:?}|{:?}",
            d.shop_id,
            d.receiver_name,
            d.receiver_phone,
            d.receiver_address,
            d.receiver_location.map(|p| (p.lng, p.lat)),
            d.city_code,
            d.cargo_price.fen(),
            d.cargo_weight_kg.normalize(),
            d.prepaid,
            d.tips.fen(),
            d.note,
            d.publish_at.map(|t| t.timestamp()),
            d.origin_id,
        ),
    };
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Field checks that need no platform; every problem is reported at once.
fn validate_delivery(d: &DeliveryInput) -> Result<(), OrderError> {
    let mut errors = Vec::new();
    let mut text = |path: &[&str], value: &str, max: usize| {
        if value.trim().is_empty() {
            errors.push(UserError::new(
                path,
                UserErrorCode::InvalidInput,
                format!("{} is required", path.join(".")),
            ));
        } else if value.chars().count() > max {
            errors.push(UserError::new(
                path,
                UserErrorCode::InvalidInput,
                format!("{} is too long ({max} characters at most)", path.join(".")),
            ));
        }
    };
    text(&["receiver", "name"], &d.receiver_name, 50);
    text(&["receiver", "address"], &d.receiver_address, 200);
    text(&["receiver", "phone"], &d.receiver_phone, 20);
    let digits: String = d
        .receiver_phone
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let phone_ok = (5..=20).contains(&digits.len())
        && digits
            .trim_start_matches('+')
            .chars()
            .all(|c| c.is_ascii_digit());
    if !d.receiver_phone.trim().is_empty() && !phone_ok {
        errors.push(UserError::new(
            &["receiver", "phone"],
            UserErrorCode::InvalidInput,
            "phone must be a telephone number",
        ));
    }
    if d.cargo_price.fen() < 0 || d.cargo_price.fen() > 100_000_000 {
        errors.push(UserError::new(
            &["cargoPrice"],
            UserErrorCode::InvalidInput,
            "cargoPrice must be between 0 and 1,000,000 yuan",
        ));
    }
    if d.cargo_weight_kg <= Decimal::ZERO || d.cargo_weight_kg > Decimal::from(1000) {
        errors.push(UserError::new(
            &["cargoWeightKg"],
            UserErrorCode::InvalidInput,
            "cargoWeightKg must be more than 0 and at most 1000",
        ));
    }
    if d.tips.fen() < 0 {
        errors.push(UserError::new(
            &["tip"],
            UserErrorCode::InvalidInput,
            "tip cannot be negative",
        ));
    }
    if d.note.as_ref().is_some_and(|n| n.chars().count() > 200) {
        errors.push(UserError::new(
            &["note"],
            UserErrorCode::InvalidInput,
            "note is too long (200 characters at most)",
        ));
    }
    if let Some(o) = &d.origin_id
        && (o.is_empty()
            || o.len() > 64
            || !o
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        errors.push(UserError::new(
            &["originId"],
            UserErrorCode::InvalidInput,
            "originId must be 1–64 letters, digits, '-' or '_'",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(OrderError::User(errors))
    }
}
