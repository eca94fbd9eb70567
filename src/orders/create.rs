//! Creating a service order on a marketplace.
//!
//! Order of work, and why:
//! 1. validate the input and the shop's rules locally (nothing is written for bad input);
//! 2. claim the idempotency key and write the order as a draft, in one transaction, so the
//!    order exists with us *before* the platform is asked;
//! 3. ask the platform;
//! 4. on success complete the draft (platform id, amounts, first event) and publish; on a
//!    refusal delete the draft and the key (nothing changed); when the outcome is unknown
//!    (timeout after sending) keep the draft as `FAILED` with the reason, so it stays visible.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDateTime, NaiveTime, Utc};
use entity::{order_item, orders, price, shop};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbErr, EntityTrait, TransactionTrait};

use super::{
    OrderError, OrderService, UserError, UserErrorCode,
    idempotency::{RequestDigest, claim_key, in_use},
    provider_user_error,
};
use crate::{
    domain::{
        Direction, EventKind, EventSource, IdempotencyKey, Money, OrderKind, OrderStatus,
        PhoneNumber, ProviderId, china_offset,
    },
    events::StatusChange,
    providers::{Capability, OrderLine, PlaceServiceOrder, ProviderError},
};

const OPERATION: &str = "createOrder";

#[derive(Debug, Clone)]
pub struct LineInput {
    pub price_id: i64,
    pub quantity: i32,
}

#[derive(Debug, Clone)]
pub struct CreateServiceOrder {
    pub shop_id: i64,
    pub items: Vec<LineInput>,
    pub city: String,
    pub street: String,
    pub house: String,
    pub contact_person: String,
    pub phone: PhoneNumber,
    pub appoint_time: DateTime<Utc>,
    pub note: Option<String>,
    pub idempotency_key: Option<IdempotencyKey>,
}

impl CreateServiceOrder {
    /// Digest of the request in a canonical encoding: the same key must come with the same
    /// request. Lines are sorted, so their order in the input does not matter.
    fn digest(&self) -> String {
        let mut lines: Vec<(i64, i32)> = self
            .items
            .iter()
            .map(|l| (l.price_id, l.quantity))
            .collect();
        lines.sort_unstable();
        let mut d = RequestDigest::new(OPERATION)
            .int(self.shop_id)
            .int(lines.len() as i64);
        for (price, quantity) in lines {
            d = d.int(price).int(quantity.into());
        }
        d.text(&self.city)
            .text(&self.street)
            .text(&self.house)
            .text(&self.contact_person)
            .text(self.phone.as_str())
            .int(self.appoint_time.timestamp())
            .opt_text(self.note.as_deref())
            .finish()
    }
}

/// A line checked against the shop's prices.
struct PricedLine {
    price: price::Model,
    quantity: i32,
    amount: Money,
}

impl OrderService {
    #[tracing::instrument(skip_all, fields(shop_id = input.shop_id))]
    pub async fn create_service_order(
        &self,
        input: CreateServiceOrder,
    ) -> Result<orders::Model, OrderError> {
        validate_fields(&input)?;
        let digest = input.digest();
        if let Some(key) = &input.idempotency_key
            && let Some(existing) = self.replay(OPERATION, key, &digest).await?
        {
            return Ok(existing);
        }

        let shop = self
            .catalog
            .stored_shop(input.shop_id)
            .await?
            .ok_or_else(|| UserError::new(&["shopId"], UserErrorCode::NotFound, "no such shop"))?;
        let provider: ProviderId = shop
            .provider
            .parse()
            .map_err(|e| DbErr::Custom(format!("shop {}: {e}", shop.id)))?;
        let supported = self
            .registry
            .info(provider)
            .is_some_and(|i| i.enabled && i.capabilities.contains(&Capability::CreateOrder));
        let Some(market) = self.registry.marketplace(provider).filter(|_| supported) else {
            return Err(UserError::new(
                &["shopId"],
                UserErrorCode::UnsupportedByProvider,
                format!("{provider} does not take service orders here"),
            )
            .into());
        };

        // The rules come from the shop's current detail (fetched when older than the TTL).
        let fresh =
            self.catalog.shop(shop.id, false).await?.ok_or_else(|| {
                UserError::new(&["shopId"], UserErrorCode::NotFound, "no such shop")
            })?;
        if fresh.data.detail_fetched_at.is_none() {
            let e = fresh
                .errors
                .first()
                .map(provider_user_error)
                .unwrap_or_else(|| {
                    UserError::new(
                        &["shopId"],
                        UserErrorCode::ProviderUnavailable,
                        "shop detail unavailable",
                    )
                });
            return Err(e.into());
        }
        let shop = fresh.data;
        let prices = self.catalog.prices(shop.id).await?;
        let lines = check_lines(&input, &prices)?;
        let items_total = lines
            .iter()
            .try_fold(Money::ZERO, |acc, l| acc.checked_add(l.amount))
            .ok_or_else(|| {
                UserError::new(
                    &["items"],
                    UserErrorCode::InvalidInput,
                    "amount out of range",
                )
            })?;
        check_shop_rules(&shop, items_total, input.appoint_time, Utc::now())?;

        let draft = self
            .insert_draft(&input, &digest, provider, &shop, &lines, items_total)
            .await?;

        let local_time = input
            .appoint_time
            .with_timezone(&china_offset())
            .naive_local();
        let request = PlaceServiceOrder {
            shop_external_id: shop.external_id.clone(),
            items: lines
                .iter()
                .map(|l| OrderLine {
                    price_external_id: l.price.external_id.clone(),
                    quantity: l.quantity,
                })
                .collect(),
            city: input.city.clone(),
            street: input.street.clone(),
            house: input.house.clone(),
            contact_person: input.contact_person.clone(),
            phone: input.phone.to_string(),
            appoint_time: local_time,
            note: input.note.clone(),
        };
        let placed = crate::providers::with_timeout(
            provider,
            market.timeout(),
            market.place_order(&request),
        )
        .await;
        match placed {
            Ok(placed) => {
                let now = Utc::now();
                let fee = Money::from_fen((placed.consumed.fen() - items_total.fen()).max(0));
                let txn = self.db.begin().await?;
                let mut am: orders::ActiveModel = draft.into();
                am.external_id = Set(Some(placed.external_id));
                am.status = Set(placed.status.as_str().to_owned());
                am.raw_status = Set(placed.raw_status.clone());
                am.fee_fen = Set(fee.fen());
                am.total_fen = Set(placed.consumed.fen());
                am.balance_after_fen = Set(placed.remaining.map(Money::fen));
                am.status_at = Set(Some(now));
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
                            to: placed.status,
                            raw_status: placed.raw_status,
                            source: EventSource::Create,
                            occurred_at: now,
                            detail: None,
                            kind: EventKind::Status,
                        },
                        true,
                    )
                    .await?;
                txn.commit().await?;
                metrics::counter!("orderhub_orders_created_total", "provider" => provider.as_str())
                    .increment(1);
                self.bus.publish(change);
                Ok(order)
            }
            Err(
                e @ ProviderError::Unavailable {
                    outcome_unknown: true,
                    ..
                },
            ) => {
                // The platform may have taken the order: keep it visible, never silently drop.
                let now = Utc::now();
                let txn = self.db.begin().await?;
                let reason =
                    format!("outcome unknown ({e}); check the {provider} account before retrying");
                let mut am: orders::ActiveModel = draft.into();
                am.status = Set(OrderStatus::Failed.as_str().to_owned());
                am.raw_status = Set("SUBMIT_UNKNOWN".into());
                am.cancel_reason = Set(Some(reason.clone()));
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
                            to: OrderStatus::Failed,
                            raw_status: "SUBMIT_UNKNOWN".into(),
                            source: EventSource::Create,
                            occurred_at: now,
                            detail: Some(reason),
                            kind: EventKind::Status,
                        },
                        true,
                    )
                    .await?;
                txn.commit().await?;
                tracing::error!(order_id = order.id, "order submission outcome unknown");
                self.bus.publish(change);
                Err(crate::refusal::outcome_unknown(
                    &e,
                    format!(
                        "{provider} did not answer in time; the order may have been placed. It is kept as order {} with status FAILED",
                        order.id
                    ),
                ))
            }
            Err(e) => {
                // Refused (or surely not received): undo the draft and free the key.
                self.undo_draft(draft.id, &input.idempotency_key).await?;
                Err(provider_user_error(&e).into())
            }
        }
    }

    async fn insert_draft(
        &self,
        input: &CreateServiceOrder,
        digest: &str,
        provider: ProviderId,
        shop: &shop::Model,
        lines: &[PricedLine],
        items_total: Money,
    ) -> Result<orders::Model, OrderError> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let draft = orders::ActiveModel {
            provider: Set(provider.as_str().to_owned()),
            external_id: Set(None),
            direction: Set(Direction::Outbound.as_str().to_owned()),
            kind: Set(OrderKind::Service.as_str().to_owned()),
            status: Set(OrderStatus::Pending.as_str().to_owned()),
            raw_status: Set("SUBMITTING".into()),
            shop_id: Set(Some(shop.id)),
            contact_person: Set(input.contact_person.clone()),
            phone: Set(input.phone.to_string()),
            city: Set(input.city.clone()),
            street: Set(input.street.clone()),
            house: Set(input.house.clone()),
            note: Set(input.note.clone()),
            appoint_time: Set(Some(input.appoint_time)),
            items_total_fen: Set(items_total.fen()),
            fee_fen: Set(0),
            total_fen: Set(items_total.fen()),
            balance_after_fen: Set(None),
            cancel_reason: Set(None),
            status_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if let Some(key) = &input.idempotency_key
            && !claim_key(&txn, key, OPERATION, digest, draft.id).await?
        {
            // Another request with this key got there first and is still running.
            txn.rollback().await?;
            return Err(in_use());
        }
        let items = lines.iter().map(|l| order_item::ActiveModel {
            order_id: Set(draft.id),
            price_id: Set(Some(l.price.id)),
            external_price_id: Set(l.price.external_id.clone()),
            name: Set(l.price.name.clone()),
            unit: Set(l.price.unit.clone()),
            unit_price_fen: Set(l.price.amount_fen),
            quantity: Set(l.quantity),
            amount_fen: Set(l.amount.fen()),
            ..Default::default()
        });
        order_item::Entity::insert_many(items)
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        Ok(draft)
    }
}
/// Field checks that need no database: every problem is reported at once.
fn validate_fields(input: &CreateServiceOrder) -> Result<(), OrderError> {
    let mut errors = Vec::new();
    let required: [(&[&str], &String); 4] = [
        (&["address", "city"], &input.city),
        (&["address", "street"], &input.street),
        (&["address", "house"], &input.house),
        (&["contact", "name"], &input.contact_person),
    ];
    for (path, value) in required {
        let name = path.join(".");
        if value.trim().is_empty() {
            errors.push(UserError::new(
                path,
                UserErrorCode::InvalidInput,
                format!("{name} is required"),
            ));
        } else if value.chars().count() > 200 {
            errors.push(UserError::new(
                path,
                UserErrorCode::InvalidInput,
                format!("{name} is too long"),
            ));
        }
    }
    if input.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        errors.push(UserError::new(
            &["note"],
            UserErrorCode::InvalidInput,
            "note is too long (500 characters at most)",
        ));
    }
    if input.items.is_empty() {
        errors.push(UserError::new(
            &["items"],
            UserErrorCode::InvalidInput,
            "at least one item is required",
        ));
    }
    let mut seen = HashSet::new();
    for (i, line) in input.items.iter().enumerate() {
        let idx = i.to_string();
        if line.quantity < 1 || line.quantity > 999 {
            errors.push(UserError::new(
                &["items", &idx, "quantity"],
                UserErrorCode::InvalidInput,
                "quantity must be between 1 and 999",
            ));
        }
        if !seen.insert(line.price_id) {
            errors.push(UserError::new(
                &["items", &idx, "priceId"],
                UserErrorCode::InvalidInput,
                "the same price appears twice; raise its quantity instead",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(OrderError::User(errors))
    }
}

fn check_lines(
    input: &CreateServiceOrder,
    prices: &[price::Model],
) -> Result<Vec<PricedLine>, OrderError> {
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    for (i, line) in input.items.iter().enumerate() {
        let idx = i.to_string();
        let Some(price) = prices.iter().find(|p| p.id == line.price_id) else {
            errors.push(UserError::new(
                &["items", &idx, "priceId"],
                UserErrorCode::UnknownPrice,
                "this price is not offered by the shop",
            ));
            continue;
        };
        if line.quantity < price.min_buy_num {
            errors.push(UserError::new(
                &["items", &idx, "quantity"],
                UserErrorCode::BelowMinimumQuantity,
                format!(
                    "{} must be ordered at least {} at a time",
                    price.name, price.min_buy_num
                ),
            ));
            continue;
        }
        match Money::from_fen(price.amount_fen).checked_mul(i64::from(line.quantity)) {
            Some(amount) => lines.push(PricedLine {
                price: price.clone(),
                quantity: line.quantity,
                amount,
            }),
            None => errors.push(UserError::new(
                &["items", &idx, "quantity"],
                UserErrorCode::InvalidInput,
                "amount out of range",
            )),
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(OrderError::User(errors))
    }
}

/// The shop's minimum amount, notice period, hours and days, as Daoway's page states them.
fn check_shop_rules(
    shop: &shop::Model,
    items_total: Money,
    appoint: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), OrderError> {
    let mut errors = Vec::new();
    if let Some(min) = shop.min_buy_price_fen
        && items_total.fen() < min
    {
        errors.push(UserError::new(
            &["items"],
            UserErrorCode::BelowMinimumAmount,
            format!(
                "the shop's minimum order is {} yuan; this order is {} yuan",
                Money::from_fen(min),
                items_total
            ),
        ));
    }
    let ahead = i64::from(shop.ahead_minutes.unwrap_or(0));
    if appoint < now + chrono::Duration::minutes(ahead) {
        errors.push(UserError::new(
            &["appointTime"],
            UserErrorCode::AppointmentTooSoon,
            format!(
                "the shop needs {} hours' notice",
                (Decimal::from(ahead) / Decimal::from(60))
                    .round_dp(2)
                    .normalize()
            ),
        ));
    }
    let local: NaiveDateTime = appoint.with_timezone(&china_offset()).naive_local();
    let weekday = local.weekday().num_days_from_monday() as u8;
    let open_day = shop
        .available_days
        .as_deref()
        .is_none_or(|d| d.split(',').any(|x| x.trim().parse::<u8>() == Ok(weekday)));
    let parse = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok())
    };
    let in_hours = match (parse(&shop.start_time), parse(&shop.end_time)) {
        (Some(start), Some(end)) => local.time() >= start && local.time() < end,
        _ => true,
    };
    if !open_day || !in_hours {
        errors.push(UserError::new(
            &["appointTime"],
            UserErrorCode::OutsideServiceHours,
            format!(
                "the shop works {}–{} (China time) on days {}",
                shop.start_time.as_deref().unwrap_or("?"),
                shop.end_time.as_deref().unwrap_or("?"),
                shop.available_days.as_deref().unwrap_or("0-6")
            ),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(OrderError::User(errors))
    }
}

#[cfg(test)]
#[path = "create_tests.rs"]
mod tests;
