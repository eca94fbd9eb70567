//! The sandbox's memory: accounts, orders, and the rules that change them.
//!
//! Everything here is synchronous and runs under one `std::sync::Mutex`, held only for the
//! duration of a single rule (never across an `.await`). Time is always passed in, so the rules
//! are the same whether a request, the background task or a test drives them.
//!
//! Scheduled status moves are computed from timestamps, not from timers: an order due to be
//! confirmed at `created + confirm_after` is moved, with that timestamp, by whichever comes
//! first — the background tick or any read of the order. A reader therefore never sees a status
//! that is late just because the background task has not run yet.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDateTime, TimeDelta, Timelike, Utc};
use serde::Serialize;

use super::{
    DaowayAccount,
    error::Reject,
    seed::{self, Shop},
    wire::{CreateOrderBody, OrderLineBody},
};
use crate::faults::{CallbackFault, Faults};

#[cfg(test)]
mod tests;

/// Beijing time is UTC+8 all year; appointment times are given in it.
const BEIJING_OFFSET: TimeDelta = TimeDelta::hours(8);

/// An order's status, spelled as `GET /orders/{id}/status` answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Status {
    PendingConfirm,
    Confirmed,
    Completed,
    Cancelled,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::PendingConfirm => "PENDING_CONFIRM",
            Status::Confirmed => "CONFIRMED",
            Status::Completed => "COMPLETED",
            Status::Cancelled => "CANCELLED",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Account {
    pub password: String,
    pub balance_fen: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct OrderLine {
    pub price_id: String,
    pub name: String,
    pub unit: String,
    pub price_fen: i64,
    pub quantity: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub id: String,
    pub channel: String,
    pub user_name: String,
    pub service_id: String,
    pub shop_title: String,
    pub lines: Vec<OrderLine>,
    pub items_total_fen: i64,
    pub fix_fee_fen: i64,
    pub consumed_fen: i64,
    pub city: String,
    pub street: String,
    pub house: String,
    pub contact_person: String,
    pub phone: String,
    pub appoint_time: String,
    pub note: String,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub notification: Option<Notification>,
    /// How often the partner asked for this order's status (`GET /orders/{id}/status`).
    pub status_queries: u64,
}

/// The cancel notification of one order and how its delivery went.
#[derive(Clone, Debug)]
pub(crate) struct Notification {
    pub reason: String,
    /// Drawn once, when the order is cancelled.
    pub fate: CallbackFault,
    /// POSTs made, successful or not, duplicate included.
    pub attempts: u32,
    /// The partner accepted it (`result` "0") at least once.
    pub delivered: bool,
    /// For a duplicated notification: the second copy has been sent.
    pub duplicate_sent: bool,
    /// Attempts ran out before the partner accepted it.
    pub gave_up: bool,
    /// A POST is under way; keeps the worker from sending the same copy twice at once.
    pub in_flight: bool,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
}

impl Notification {
    /// Whether another POST is still owed.
    pub(crate) fn owed(&self) -> bool {
        match self.fate {
            CallbackFault::Drop => false,
            _ if self.gave_up => false,
            CallbackFault::Once => !self.delivered,
            CallbackFault::Twice => !self.delivered || !self.duplicate_sent,
        }
    }
}

/// One notification POST the worker should make now.
#[derive(Clone, Debug)]
pub(crate) struct Delivery {
    pub order_id: String,
    pub url: String,
    pub form: Vec<(&'static str, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Schedule {
    pub confirm_after_secs: Option<u64>,
    pub complete_after_secs: Option<u64>,
}

/// A control-route transition that the status machine refuses.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionError {
    NotFound,
    NotAllowed { from: Status, to: Status },
}

/// The result of a successful `POST /orders`.
#[derive(Debug)]
pub(crate) struct Placed {
    pub order_id: String,
    pub consumed_fen: i64,
    pub remaining_fen: i64,
}

#[derive(Debug)]
pub(crate) struct State {
    pub accounts: HashMap<String, Account>,
    /// In creation order, which is also the order the control list shows.
    pub orders: Vec<Order>,
    pub faults: Faults,
    pub schedule: Schedule,
    pub notify_url: Option<String>,
    next_seq: u64,
}

impl State {
    pub(crate) fn new(accounts: &[DaowayAccount], faults: Faults, schedule: Schedule) -> Self {
        State {
            accounts: accounts
                .iter()
                .map(|a| {
                    (
                        a.user_name.clone(),
                        Account {
                            password: a.password.clone(),
                            balance_fen: a.balance_fen,
                        },
                    )
                })
                .collect(),
            orders: Vec::new(),
            faults,
            schedule,
            notify_url: None,
            next_seq: 1,
        }
    }

    pub(crate) fn order(&self, id: &str) -> Option<&Order> {
        self.orders.iter().find(|o| o.id == id)
    }

    /// Counts a status query of order `id` (a control route reports the count).
    pub(crate) fn note_status_query(&mut self, id: &str) {
        if let Some(o) = self.order_mut(id) {
            o.status_queries += 1;
        }
    }

    fn order_mut(&mut self, id: &str) -> Option<&mut Order> {
        self.orders.iter_mut().find(|o| o.id == id)
    }

    /// Applies every scheduled move that is due by `now`, stamping each with the time it was due.
    pub(crate) fn advance(&mut self, now: DateTime<Utc>) {
        let Schedule {
            confirm_after_secs,
            complete_after_secs,
        } = self.schedule;
        for order in &mut self.orders {
            if order.status == Status::PendingConfirm
                && let Some(due) = confirm_after_secs.and_then(|s| after(order.created_at, s))
                && due <= now
            {
                order.status = Status::Confirmed;
                order.confirmed_at = Some(due);
            }
            if order.status == Status::Confirmed
                && let Some(due) = order
                    .confirmed_at
                    .zip(complete_after_secs)
                    .and_then(|(at, s)| after(at, s))
                && due <= now
            {
                order.status = Status::Completed;
                order.completed_at = Some(due);
            }
        }
    }

    /// `POST /orders` after the channel and the body's JSON shape were accepted. The checks run
    /// in the order the module docs list; the first failing one answers.
    pub(crate) fn place_order(
        &mut self,
        channel: &str,
        body: CreateOrderBody,
        now: DateTime<Utc>,
    ) -> Result<Placed, Reject> {
        let user_name = body.user_name.unwrap_or_default();
        let account_ok = self
            .accounts
            .get(&user_name)
            .is_some_and(|a| Some(&a.password) == body.password.as_ref());
        if !account_ok {
            return Err(Reject::BadCredentials);
        }

        let service_id = required("serviceId", body.service_id)?;
        let lines = match body.items {
            Some(lines) if !lines.is_empty() => lines,
            _ => return Err(Reject::Missing("items")),
        };
        let city = required("city", body.city)?;
        let street = required("street", body.street)?;
        let house = required("house", body.house)?;
        let contact_person = required("contactPerson", body.contact_person)?;
        let phone = required("phone", body.phone)?;
        let appoint_time = required("appointTime", body.appoint_time)?;

        let shop = seed::shop(&service_id).ok_or(Reject::UnknownShop)?;
        let lines = price_lines(shop, &lines)?;
        let items_total_fen = lines.iter().try_fold(0i64, |sum, line| {
            i64::from(line.quantity)
                .checked_mul(line.price_fen)
                .and_then(|amount| sum.checked_add(amount))
                .ok_or(Reject::Malformed)
        })?;
        if items_total_fen < shop.min_buy_price_fen {
            return Err(Reject::BelowMinBuyPrice);
        }
        check_appointment(shop, &appoint_time, now)?;

        let fix_fee_fen = fix_fee(shop, items_total_fen);
        let consumed_fen = items_total_fen
            .checked_add(fix_fee_fen)
            .ok_or(Reject::Malformed)?;
        let account = self
            .accounts
            .get_mut(&user_name)
            .ok_or(Reject::BadCredentials)?;
        if account.balance_fen < consumed_fen {
            return Err(Reject::InsufficientBalance);
        }
        account.balance_fen -= consumed_fen;
        let remaining_fen = account.balance_fen;

        let order_id = self.new_order_id(now);
        self.orders.push(Order {
            id: order_id.clone(),
            channel: channel.to_owned(),
            user_name,
            service_id,
            shop_title: shop.title.to_owned(),
            lines,
            items_total_fen,
            fix_fee_fen,
            consumed_fen,
            city,
            street,
            house,
            contact_person,
            phone,
            appoint_time,
            note: body.note.unwrap_or_default(),
            status: Status::PendingConfirm,
            created_at: now,
            confirmed_at: None,
            completed_at: None,
            cancelled_at: None,
            cancel_reason: None,
            notification: None,
            status_queries: 0,
        });
        Ok(Placed {
            order_id,
            consumed_fen,
            remaining_fen,
        })
    }

    /// A numeric id like the platform's: Beijing date and time to the second, then a 4-digit
    /// sequence. The time part keeps ids from a restarted sandbox from colliding with ids a
    /// partner stored before the restart.
    fn new_order_id(&mut self, now: DateTime<Utc>) -> String {
        let stamp = (now.naive_utc() + BEIJING_OFFSET).format("%Y%m%d%H%M%S");
        loop {
            let id = format!("{stamp}{:04}", self.next_seq % 10_000);
            self.next_seq += 1;
            if self.order(&id).is_none() {
                return id;
            }
        }
    }

    pub(crate) fn confirm(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.advance(now);
        let order = self.order_mut(id).ok_or(TransitionError::NotFound)?;
        require(order.status, Status::PendingConfirm, Status::Confirmed)?;
        order.status = Status::Confirmed;
        order.confirmed_at = Some(now);
        Ok(())
    }

    pub(crate) fn complete(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.advance(now);
        let order = self.order_mut(id).ok_or(TransitionError::NotFound)?;
        require(order.status, Status::Confirmed, Status::Completed)?;
        order.status = Status::Completed;
        order.completed_at = Some(now);
        Ok(())
    }

    /// Cancels the order, refunds the account and queues the cancel notification, whose fate
    /// (sent, lost, duplicated) is drawn from the current faults right now.
    pub(crate) fn cancel(
        &mut self,
        id: &str,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        self.advance(now);
        let fate = self.faults.roll_callback();
        let order = self.order_mut(id).ok_or(TransitionError::NotFound)?;
        if !matches!(order.status, Status::PendingConfirm | Status::Confirmed) {
            return Err(TransitionError::NotAllowed {
                from: order.status,
                to: Status::Cancelled,
            });
        }
        order.status = Status::Cancelled;
        order.cancelled_at = Some(now);
        order.cancel_reason = Some(reason.clone());
        order.notification = Some(Notification {
            reason,
            fate,
            attempts: 0,
            delivered: false,
            duplicate_sent: false,
            gave_up: false,
            in_flight: false,
            last_error: None,
            last_attempt_at: None,
            next_attempt_at: now,
        });
        let (user, refund) = (order.user_name.clone(), order.consumed_fen);
        if let Some(account) = self.accounts.get_mut(&user) {
            account.balance_fen = account.balance_fen.saturating_add(refund);
        }
        Ok(())
    }

    /// Marks every notification that is due as in flight and returns the POSTs to make, plus the
    /// earliest time a notification not yet due will be. Nothing is due until the partner's URL
    /// is known.
    pub(crate) fn take_due(
        &mut self,
        now: DateTime<Utc>,
    ) -> (Vec<Delivery>, Option<DateTime<Utc>>) {
        let Some(url) = self.notify_url.clone() else {
            return (Vec::new(), None);
        };
        let mut due = Vec::new();
        let mut next: Option<DateTime<Utc>> = None;
        for order in &mut self.orders {
            let Some(n) = order.notification.as_mut() else {
                continue;
            };
            if n.in_flight || !n.owed() {
                continue;
            }
            if n.next_attempt_at > now {
                next = Some(next.map_or(n.next_attempt_at, |t| t.min(n.next_attempt_at)));
                continue;
            }
            n.in_flight = true;
            due.push(Delivery {
                order_id: order.id.clone(),
                url: url.clone(),
                form: vec![
                    ("channel", order.channel.clone()),
                    ("orderId", order.id.clone()),
                    ("consumedMoney", super::money::yuan_text(order.consumed_fen)),
                    ("contactPerson", order.contact_person.clone()),
                    ("phone", order.phone.clone()),
                    ("reason", n.reason.clone()),
                ],
            });
        }
        (due, next)
    }

    /// Records how one POST went and decides what is still owed: a retry after backoff, the
    /// duplicate copy, or nothing.
    pub(crate) fn record_attempt(
        &mut self,
        order_id: &str,
        outcome: Result<(), String>,
        now: DateTime<Utc>,
        policy: RetryPolicy,
    ) {
        let Some(n) = self
            .order_mut(order_id)
            .and_then(|o| o.notification.as_mut())
        else {
            return;
        };
        n.in_flight = false;
        n.attempts = n.attempts.saturating_add(1);
        n.last_attempt_at = Some(now);
        let was_duplicate = n.delivered;
        match outcome {
            Ok(()) => n.last_error = None,
            Err(e) => n.last_error = Some(e),
        }
        if was_duplicate {
            // The extra copy is a one-shot: a real platform that double-sends does not retry
            // its own mistake.
            n.duplicate_sent = true;
        } else if n.last_error.is_none() {
            n.delivered = true;
            n.next_attempt_at = now;
        } else if n.attempts >= policy.max_attempts {
            n.gave_up = true;
        } else {
            n.next_attempt_at = now + policy.backoff(n.attempts);
        }
    }
}

/// How the cancel notification is retried: initial, doubling, capped at 60 s.
pub(crate) use crate::kit::queue::RetryPolicy;

fn after(at: DateTime<Utc>, secs: u64) -> Option<DateTime<Utc>> {
    let delta = TimeDelta::try_seconds(i64::try_from(secs).ok()?)?;
    at.checked_add_signed(delta)
}

fn require(actual: Status, needed: Status, to: Status) -> Result<(), TransitionError> {
    if actual == needed {
        Ok(())
    } else {
        Err(TransitionError::NotAllowed { from: actual, to })
    }
}

/// A required text field: absent, `null` and blank all count as missing.
fn required(name: &'static str, value: Option<String>) -> Result<String, Reject> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(Reject::Missing(name)),
    }
}

/// Resolves every line against the shop: first that each price exists, then each minimum.
fn price_lines(shop: &Shop, lines: &[OrderLineBody]) -> Result<Vec<OrderLine>, Reject> {
    let mut resolved = Vec::with_capacity(lines.len());
    for line in lines {
        let id = line.price_id.as_deref().unwrap_or_default();
        let price = shop.price(id).ok_or(Reject::UnknownPrice)?;
        // `CreateOrderBody::check_quantities` already refused these; kept so this function
        // stands on its own.
        let quantity = line
            .quantity
            .filter(|q| *q > 0)
            .and_then(|q| u32::try_from(q).ok())
            .ok_or(Reject::Malformed)?;
        resolved.push((price, quantity));
    }
    for (price, quantity) in &resolved {
        if *quantity < price.min_buy_num {
            return Err(Reject::BelowMinBuyNum(price.min_buy_num));
        }
    }
    Ok(resolved
        .into_iter()
        .map(|(price, quantity)| OrderLine {
            price_id: price.id.to_owned(),
            name: price.name.to_owned(),
            unit: price.unit.to_owned(),
            price_fen: price.price_fen,
            quantity,
        })
        .collect())
}

/// The call-out fee: charged unless a threshold exists (`noFixFeePrice` > 0) and is reached.
pub(crate) fn fix_fee(shop: &Shop, items_total_fen: i64) -> i64 {
    if shop.no_fix_fee_price_fen > 0 && items_total_fen >= shop.no_fix_fee_price_fen {
        0
    } else {
        shop.fix_fee_fen
    }
}

/// `appointTime`: exact format, enough notice, open hours `[open, close)` and an open weekday.
fn check_appointment(shop: &Shop, text: &str, now: DateTime<Utc>) -> Result<(), Reject> {
    let local = parse_beijing(text).ok_or(Reject::BadAppointTime)?;
    let utc = local
        .checked_sub_signed(BEIJING_OFFSET)
        .ok_or(Reject::BadAppointTime)?
        .and_utc();
    let earliest = now + TimeDelta::minutes(i64::from(shop.ahead_minutes));
    if utc < earliest {
        return Err(Reject::TooSoon(shop.ahead_minutes));
    }
    let second_of_day = local.time().num_seconds_from_midnight();
    let in_hours = (shop.open_minute * 60..shop.close_minute * 60).contains(&second_of_day);
    let weekday = u8::try_from(local.weekday().num_days_from_monday()).unwrap_or(u8::MAX);
    if !in_hours || !shop.available_days.contains(&weekday) {
        return Err(Reject::OutsideHours);
    }
    Ok(())
}

/// `YYYY-MM-DD HH:MM:SS`, digits exactly where the format puts them; chrono alone would also
/// accept `2015-1-8 9:05:00`.
fn parse_beijing(text: &str) -> Option<NaiveDateTime> {
    let shape_ok = text.len() == 19
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b' ',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()
}
