//! Dispatch: direct or from a quote, idempotent by key and by our reference. A draft is
//! committed before the platform is asked; a refusal undoes it, an unknown outcome is marked
//! for the poller; re-dispatch sends the same order out again.

use chrono::Utc;
use entity::{delivery_quote, orders, shop};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter,
    TransactionTrait, sea_query::OnConflict,
};

use crate::orders::{
    OrderError, OrderService, UserError, UserErrorCode,
    idempotency::{RequestDigest, claim_key, in_use},
    provider_user_error,
};
use crate::{
    domain::{
        Direction, EventKind, EventSource, IdempotencyKey, OrderKind, OrderStatus, ProviderId,
    },
    events::StatusChange,
    providers::{
        ProviderError, RejectKind,
        delivery::{Dispatched, OrderRef},
        with_timeout,
    },
};

use super::{
    DISPATCH, DispatchDelivery, DispatchSource, SUBMIT_UNKNOWN, SUBMITTING, StoredRequest,
    dispatched_from, floor_secs, lock, set_fees, stored_from_order,
};

impl OrderService {
    pub(in crate::orders) async fn refuse_taken_origin(
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
                        Err(crate::refusal::outcome_unknown(
                            &e,
                            format!(
                                "{provider} did not answer in time; the delivery may have been dispatched. It is kept as order {} and checked with {provider} until known",
                                order.id
                            ),
                        ))
                    }
                }
            }
            Err(e) => {
                self.undo_draft(draft.id, &input.idempotency_key).await?;
                Err(provider_user_error(&e).into())
            }
        }
    }

    pub(in crate::orders) async fn insert_delivery_draft(
        &self,
        key: &Option<IdempotencyKey>,
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
    /// Fills in the platform's answer. A callback may already have moved the order (Dada
    /// calls back on publication, sometimes before its own answer arrives): the status is
    /// only set while the order is still the draft.
    pub(in crate::orders) async fn complete_dispatch(
        &self,
        draft: orders::Model,
        provider: ProviderId,
        done: &Dispatched,
        quote: Option<&delivery_quote::Model>,
    ) -> Result<orders::Model, OrderError> {
        let txn = self.db.begin().await?;
        let order = lock(&txn, draft.id).await?;
        self.write_dispatched(txn, order, provider, done, quote)
            .await
    }

    /// Fills in what the platform says of a dispatch whose answer never came, if the order is
    /// still the draft `seen` was read as (same status, same round). Reconciling works from a
    /// copy read before asking the platform; meanwhile the dispatch (or a re-dispatch) may
    /// have been answered and the order moved on, and completing it again would add a
    /// second, out-of-order dispatch event. Returns whether it wrote.
    pub(in crate::orders) async fn complete_unanswered_dispatch(
        &self,
        seen: &orders::Model,
        provider: ProviderId,
        done: &Dispatched,
    ) -> Result<bool, OrderError> {
        let txn = self.db.begin().await?;
        let order = lock(&txn, seen.id).await?;
        let still_draft = (order.raw_status == SUBMITTING || order.raw_status == SUBMIT_UNKNOWN)
            && order.raw_status == seen.raw_status
            && order.dispatch_round == seen.dispatch_round;
        if !still_draft {
            txn.rollback().await?;
            return Ok(false);
        }
        self.write_dispatched(txn, order, provider, done, None)
            .await?;
        Ok(true)
    }

    /// Writes a dispatch's answer onto the locked `order` and records the dispatch event, in
    /// `txn`.
    async fn write_dispatched(
        &self,
        txn: sea_orm::DatabaseTransaction,
        order: orders::Model,
        provider: ProviderId,
        done: &Dispatched,
        quote: Option<&delivery_quote::Model>,
    ) -> Result<orders::Model, OrderError> {
        let now = Utc::now();
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

    pub(in crate::orders) async fn mark_submit_unknown(
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
                Err(crate::refusal::outcome_unknown(
                    &e,
                    format!(
                        "{provider} did not answer in time; order {} may have been sent again and is checked with {provider} until known",
                        order.id
                    ),
                ))
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
}

pub(in crate::orders) fn dispatch_digest(source: &DispatchSource) -> String {
    let d = RequestDigest::new(DISPATCH);
    match source {
        DispatchSource::Quote(id) => d.text("quote").int(*id),
        DispatchSource::Direct(d0) => d
            .text("direct")
            .int(d0.shop_id)
            .text(&d0.receiver_name)
            .text(d0.receiver_phone.as_str())
            .text(&d0.receiver_address)
            .opt_text(
                d0.receiver_location
                    .map(|p| format!("{},{}", p.lng, p.lat))
                    .as_deref(),
            )
            .opt_text(d0.city_code.as_deref())
            .int(d0.cargo_price.fen())
            .text(&d0.cargo_weight_kg.normalize().to_string())
            .int(i64::from(d0.prepaid))
            .int(d0.tips.fen())
            .opt_text(d0.note.as_deref())
            .opt_int(d0.publish_at.map(|t| t.timestamp()))
            .opt_text(d0.origin_id.as_deref()),
    }
    .finish()
}
