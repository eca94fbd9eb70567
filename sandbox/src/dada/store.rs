//! The sandbox's memory and the rules that change it.
//!
//! Everything lives in one [`State`] behind the sandbox's mutex; every method here is synchronous
//! and takes `now`, so the routes, the background task and the tests all drive the same code and
//! no lock is ever held across an `.await`. Orders are keyed by `(source_id, origin_id)`: an
//! `origin_id` is the merchant's own number and only unique within that merchant.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::{
    error::{Reject, code},
    fee::{self, CancelTiming, FeeInput, FeeQuote, GeoPoint},
    seed::{self, City, Courier},
    sign,
    wire::{CourierCancelBody, MessagePush, StatusCallback},
};
use crate::faults::Faults;
use crate::kit::queue::Tracker;

/// `(source_id, origin_id)`.
pub type OrderKey = (String, String);

/// How long a `deliveryNo` from queryDeliverFee stays valid.
pub const QUOTE_VALIDITY: TimeDelta = TimeDelta::minutes(3);
/// How far back a courier's acceptance makes them appointable for the shop.
pub const APPOINT_WINDOW: TimeDelta = TimeDelta::hours(1);
/// How long a courier takes on the road when `finish_after_secs` is off, for positions only.
const NOMINAL_RIDE_SECS: f64 = 600.0;
/// The first waybill number; later ones count up from it (the document's example is of this
/// shape).
const FIRST_WAYBILL: i64 = 277_073_797_294_677;
/// The first `source_id` handed out by merchant registration.
const FIRST_NEW_SOURCE_ID: u64 = 80_001;

/// Dada's order status codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Waiting,
    Accepted,
    Arrived,
    Delivering,
    Delivered,
    Cancelled,
    Expired,
    Appointed,
    Returning,
    Returned,
    CreateFailed,
}

impl Status {
    pub fn code(self) -> i32 {
        match self {
            Status::Waiting => 1,
            Status::Accepted => 2,
            Status::Arrived => 100,
            Status::Delivering => 3,
            Status::Delivered => 4,
            Status::Cancelled => 5,
            Status::Expired => 7,
            Status::Appointed => 8,
            Status::Returning => 9,
            Status::Returned => 10,
            Status::CreateFailed => 1000,
        }
    }

    pub fn msg(self) -> &'static str {
        match self {
            Status::Waiting => "待接单",
            Status::Accepted => "待取货",
            Status::Arrived => "骑士到店",
            Status::Delivering => "配送中",
            Status::Delivered => "已完成",
            Status::Cancelled => "已取消",
            Status::Expired => "已过期",
            Status::Appointed => "指派单",
            Status::Returning => "妥投异常之物品返回中",
            Status::Returned => "妥投异常之物品返回完成",
            Status::CreateFailed => "创建达达运单失败",
        }
    }

    /// Not yet taken by a courier.
    pub fn unaccepted(self) -> bool {
        matches!(self, Status::Waiting | Status::Appointed)
    }

    /// Accepted, courier on the way to or at the store.
    pub fn to_pick_up(self) -> bool {
        matches!(self, Status::Accepted | Status::Arrived)
    }

    /// The order can be published again under the same `origin_id` (re-add or a quote).
    pub fn republishable(self) -> bool {
        matches!(self, Status::Cancelled | Status::Expired | Status::Returned)
    }
}

/// Who cancelled, as `cancel_from` in the callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelFrom {
    Courier = 1,
    Merchant = 2,
    System = 3,
}

/// A validated addOrder / reAddOrder / queryDeliverFee body.
#[derive(Clone, Debug)]
pub struct OrderRequest {
    pub shop_no: String,
    pub origin_id: String,
    pub city_code: String,
    pub cargo_price_fen: i64,
    pub is_prepay: bool,
    pub receiver_name: String,
    pub receiver_address: String,
    pub receiver_phone: Option<String>,
    pub receiver_tel: Option<String>,
    /// Absent coordinates are "geocoded" to the city centre, as the document allows for quotes.
    pub receiver: Option<GeoPoint>,
    pub callback: String,
    pub cargo_weight_g: u64,
    pub tips_fen: i64,
    pub info: Option<String>,
    pub cargo_type: Option<i64>,
    pub cargo_num: Option<i64>,
    pub insured: bool,
    pub finish_code_needed: bool,
    pub direct_delivery: bool,
    pub delay_publish_time: Option<DateTime<Utc>>,
    pub origin_mark_no: Option<String>,
}

/// A merchant (`source_id`) and its accounts.
#[derive(Clone, Debug)]
pub struct Merchant {
    pub source_id: String,
    pub mobile: String,
    pub city_name: String,
    pub enterprise_name: String,
    pub contact_name: String,
    pub balance_fen: i64,
    pub red_packet_fen: i64,
}

/// A shop (门店), unique by `origin_shop_id` across all merchants.
#[derive(Clone, Debug)]
pub struct Shop {
    pub source_id: String,
    pub origin_shop_id: String,
    pub station_name: String,
    pub business: i64,
    pub city_name: String,
    pub area_name: String,
    pub station_address: String,
    pub lng: f64,
    pub lat: f64,
    pub contact_name: String,
    pub phone: String,
    pub id_card: String,
    pub status: i64,
}

impl Shop {
    pub fn point(&self) -> GeoPoint {
        GeoPoint {
            lng: self.lng,
            lat: self.lat,
        }
    }
}

/// One entry of an order's timeline.
#[derive(Clone, Debug)]
pub struct HistoryEntry {
    pub status: Status,
    pub at: DateTime<Utc>,
}

/// A complaint the merchant filed.
#[derive(Clone, Debug)]
pub struct Complaint {
    pub reason_id: i64,
    pub reason: &'static str,
    pub at: DateTime<Utc>,
}

/// A courier's request to cancel, pushed as message type 1.
#[derive(Clone, Debug)]
pub struct CourierCancel {
    pub message_id: usize,
    pub courier_id: i64,
    pub reason: String,
    /// `None` until the merchant answers through `/api/message/confirm`.
    pub confirmed: Option<bool>,
}

/// One published waybill.
#[derive(Clone, Debug)]
pub struct Order {
    pub source_id: String,
    pub origin_id: String,
    /// Dada's waybill number, `client_id` in callbacks, `dadaOrderId` in messages.
    pub client_id: i64,
    pub request: OrderRequest,
    pub shop_point: GeoPoint,
    pub receiver_point: GeoPoint,
    pub city_id: i64,
    pub quote: FeeQuote,
    /// Current tip; starts at the addOrder `tips` and only grows through addTip.
    pub tips_fen: i64,
    /// Debited for this waybill minus what was refunded.
    pub paid_fen: i64,
    pub deduct_fee_fen: i64,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    /// When couriers can first see it: creation, or `delay_publish_time`.
    pub published_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub fetched_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub courier: Option<i64>,
    pub appointed: Option<i64>,
    pub finish_code: String,
    pub cancel_from: i32,
    pub cancel_reason: String,
    pub history: Vec<HistoryEntry>,
    pub complaints: Vec<Complaint>,
    pub courier_cancel: Option<CourierCancel>,
}

impl Order {
    pub fn courier(&self) -> Option<&'static Courier> {
        self.courier.and_then(seed::courier)
    }

    /// Where the courier is, for the statuses in which Dada reports a position.
    pub fn courier_position(
        &self,
        now: DateTime<Utc>,
        finish_after_secs: Option<u64>,
    ) -> Option<GeoPoint> {
        self.courier?;
        match self.status {
            // Still on the way: a few hundred metres off the store.
            Status::Accepted => Some(GeoPoint {
                lng: self.shop_point.lng + 0.003,
                lat: self.shop_point.lat + 0.002,
            }),
            Status::Arrived => Some(self.shop_point),
            Status::Delivering => {
                let ride = finish_after_secs.map_or(NOMINAL_RIDE_SECS, |s| (s as f64).max(1.0));
                let elapsed = self
                    .fetched_at
                    .map_or(0.0, |t| (now - t).num_milliseconds() as f64 / 1000.0);
                let f = (elapsed / ride).clamp(0.0, 1.0);
                Some(GeoPoint {
                    lng: self.shop_point.lng + (self.receiver_point.lng - self.shop_point.lng) * f,
                    lat: self.shop_point.lat + (self.receiver_point.lat - self.shop_point.lat) * f,
                })
            }
            Status::Returning => Some(self.receiver_point),
            _ => None,
        }
    }

    /// The callback body for the order as it is now, dated `at`.
    fn callback_payload(&self, at: DateTime<Utc>) -> StatusCallback {
        let failed = self.status == Status::CreateFailed;
        // A waybill that failed to be created has no number, hence the documented `""`; status
        // 1000 is also the one dated in milliseconds.
        let client_id = if failed {
            String::new()
        } else {
            self.client_id.to_string()
        };
        let update_time = if failed {
            at.timestamp_millis()
        } else {
            at.timestamp()
        };
        let signature =
            sign::callback_signature(&client_id, &self.origin_id, &update_time.to_string());
        let courier = if self.status == Status::Appointed {
            self.appointed.and_then(seed::courier)
        } else {
            self.courier()
        };
        let cancelled = self.status == Status::Cancelled;
        StatusCallback {
            client_id,
            order_id: self.origin_id.clone(),
            order_status: self.status.code(),
            repeat_reason_type: 0,
            cancel_reason: if cancelled {
                self.cancel_reason.clone()
            } else {
                String::new()
            },
            cancel_from: if cancelled { self.cancel_from } else { 0 },
            update_time,
            signature,
            dm_id: courier.map_or(0, |c| c.id),
            dm_name: courier.map_or_else(String::new, |c| c.name.to_owned()),
            dm_mobile: courier.map_or_else(String::new, |c| c.phone.to_owned()),
            finish_code: self.finish_code.clone(),
        }
    }
}

/// A fee quote waiting for addAfterQuery.
#[derive(Clone, Debug)]
pub struct Quote {
    pub source_id: String,
    pub request: OrderRequest,
    pub fee: FeeQuote,
    pub created_at: DateTime<Utc>,
    pub used: bool,
}

/// A recharge link handed out by `/api/recharge`; paying it is a GET on its control route.
#[derive(Clone, Debug)]
pub struct Recharge {
    pub token: String,
    pub source_id: String,
    pub amount_fen: i64,
    pub category: String,
    pub notify_url: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
}

/// One status callback and its delivery record.
#[derive(Clone, Debug)]
pub struct Callback {
    pub id: usize,
    pub key: OrderKey,
    pub url: String,
    pub payload: StatusCallback,
    pub track: Tracker,
}

/// One message push and its delivery record.
#[derive(Clone, Debug)]
pub struct Message {
    pub id: usize,
    pub key: OrderKey,
    pub payload: MessagePush,
    pub created_at: DateTime<Utc>,
    pub attempts: u32,
    pub delivered: bool,
    pub in_flight: bool,
    pub gave_up: bool,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// The automatic moves. Each delay counts from the previous step: acceptance from publication,
/// pick-up from acceptance, delivery from pick-up.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub accept_after_secs: Option<u64>,
    pub fetch_after_secs: Option<u64>,
    pub finish_after_secs: Option<u64>,
    pub auto_cancel_after_secs: u64,
}

/// A status move the sandbox makes: by schedule, by a test-environment endpoint, or by a control
/// route standing in for the courier or Dada's staff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    Accept,
    Arrive,
    Fetch,
    Finish,
    /// Dada cancels (customer service); full refund.
    Cancel,
    Expire,
    /// Delivery failed, goods on the way back (9).
    AbnormalBack,
    /// Waybill creation failed (1000).
    Fail,
    /// Unaccepted for too long.
    AutoCancel,
}

/// How an order is being published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publish {
    /// addOrder: a new `origin_id`, or one whose waybill failed (1000).
    New,
    /// reAddOrder: only after 5, 7 or 10.
    Again,
}

pub struct State {
    pub faults: Faults,
    pub out_of_order_rate: f64,
    pub schedule: Schedule,
    pub merchants: BTreeMap<String, Merchant>,
    pub shops: BTreeMap<String, Shop>,
    pub orders: BTreeMap<OrderKey, Order>,
    pub quotes: HashMap<String, Quote>,
    pub recharges: HashMap<String, Recharge>,
    pub callbacks: Vec<Callback>,
    pub messages: Vec<Message>,
    pub message_url: Option<String>,
    next_waybill: i64,
    next_source_id: u64,
    next_quote: u64,
    next_shop: u64,
    courier_turn: usize,
}

/// `t + secs`, or `None` when that is beyond the calendar (a schedule of "never").
pub fn after(t: DateTime<Utc>, secs: u64) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(secs).ok()?;
    t.checked_add_signed(TimeDelta::try_seconds(secs)?)
}

impl State {
    pub fn new(
        source_id: &str,
        balance_fen: i64,
        schedule: Schedule,
        faults: Faults,
        out_of_order_rate: f64,
    ) -> Self {
        let mut merchants = BTreeMap::new();
        merchants.insert(
            source_id.to_owned(),
            Merchant {
                source_id: source_id.to_owned(),
                mobile: "13800138000".to_owned(),
                city_name: "上海".to_owned(),
                enterprise_name: "达达测试商户".to_owned(),
                contact_name: "达达测试".to_owned(),
                balance_fen,
                red_packet_fen: 0,
            },
        );
        let shops = seed::SHOPS
            .iter()
            .map(|s| {
                let shop = Shop {
                    source_id: source_id.to_owned(),
                    origin_shop_id: s.origin_shop_id.to_owned(),
                    station_name: s.station_name.to_owned(),
                    business: s.business,
                    city_name: s.city_name.to_owned(),
                    area_name: s.area_name.to_owned(),
                    station_address: s.station_address.to_owned(),
                    lng: s.lng,
                    lat: s.lat,
                    contact_name: s.contact_name.to_owned(),
                    phone: s.phone.to_owned(),
                    id_card: String::new(),
                    status: s.status,
                };
                (shop.origin_shop_id.clone(), shop)
            })
            .collect();
        State {
            faults,
            out_of_order_rate,
            schedule,
            merchants,
            shops,
            orders: BTreeMap::new(),
            quotes: HashMap::new(),
            recharges: HashMap::new(),
            callbacks: Vec::new(),
            messages: Vec::new(),
            message_url: None,
            next_waybill: FIRST_WAYBILL,
            next_source_id: FIRST_NEW_SOURCE_ID,
            next_quote: 1,
            next_shop: 1,
            courier_turn: 0,
        }
    }

    pub fn order(&self, source_id: &str, origin_id: &str) -> Result<&Order, Reject> {
        self.orders
            .get(&(source_id.to_owned(), origin_id.to_owned()))
            .ok_or_else(|| Reject::of(code::ORDER_NOT_FOUND))
    }

    fn merchant_mut(&mut self, source_id: &str) -> Result<&mut Merchant, Reject> {
        self.merchants
            .get_mut(source_id)
            .ok_or_else(|| Reject::of(code::SOURCE_NOT_BOUND))
    }

    /// The merchant's active shop `shop_no`: 2004 if it is not theirs, 2132 if it is offline.
    pub fn active_shop(&self, source_id: &str, shop_no: &str) -> Result<&Shop, Reject> {
        let shop = self
            .shops
            .get(shop_no)
            .filter(|s| s.source_id == source_id)
            .ok_or_else(|| Reject::of(code::INVALID_SHOP))?;
        if shop.status != 1 {
            return Err(Reject::of(code::SHOP_OFFLINE));
        }
        Ok(shop)
    }

    // ---------------------------------------------------------------- publishing

    /// Prices a request against its shop and city.
    pub fn price(
        &self,
        source_id: &str,
        request: &OrderRequest,
    ) -> Result<(FeeQuote, &'static City), Reject> {
        let shop = self.active_shop(source_id, &request.shop_no)?;
        let city = seed::city_by_code(&request.city_code)
            .ok_or_else(|| Reject::of(code::CITY_NOT_OPEN))?;
        let receiver = request.receiver.unwrap_or(GeoPoint {
            lng: city.lng,
            lat: city.lat,
        });
        let distance = fee::distance_m(shop.point(), receiver);
        let fee = fee::quote(FeeInput {
            city_base_fee_fen: city.base_fee_fen,
            // Rounded to whole metres: finer would only be noise in a model.
            distance_m: distance.round() as u64,
            weight_g: request.cargo_weight_g,
            direct_delivery: request.direct_delivery,
            insured: request.insured,
            cargo_price_fen: request.cargo_price_fen,
            tips_fen: request.tips_fen,
        });
        Ok((fee, city))
    }

    /// addOrder and reAddOrder: prices, checks, debits and publishes.
    pub fn publish(
        &mut self,
        source_id: &str,
        request: OrderRequest,
        mode: Publish,
        now: DateTime<Utc>,
    ) -> Result<FeeQuote, Reject> {
        let (fee, _) = self.price(source_id, &request)?;
        let key = (source_id.to_owned(), request.origin_id.clone());
        match (mode, self.orders.get(&key).map(|o| o.status)) {
            (Publish::New, Some(status)) if status != Status::CreateFailed => {
                return Err(Reject::of(code::ORDER_EXISTS));
            }
            (Publish::New, _) => {}
            (Publish::Again, None) => return Err(Reject::of(code::ORDER_NOT_FOUND)),
            (Publish::Again, Some(status)) if status.unaccepted() => {
                return Err(Reject::of(code::READD_NEW_ORDER));
            }
            (Publish::Again, Some(status)) if !status.republishable() => {
                return Err(Reject::of(code::READD_NOT_ALLOWED));
            }
            (Publish::Again, Some(_)) => {}
        }
        self.debit_and_create(source_id, request, fee, now)?;
        Ok(fee)
    }

    /// queryDeliverFee: prices the request and remembers it under a new `deliveryNo`.
    pub fn quote(
        &mut self,
        source_id: &str,
        request: OrderRequest,
        now: DateTime<Utc>,
    ) -> Result<(FeeQuote, String), Reject> {
        let (fee, _) = self.price(source_id, &request)?;
        if let Ok(existing) = self.order(source_id, &request.origin_id)
            && !existing.status.republishable()
            && existing.status != Status::CreateFailed
        {
            return Err(Reject::of(code::QUOTE_PUBLISHED));
        }
        let delivery_no = format!("Dd{}{:06}", now.format("%Y%m%d%H%M%S"), self.next_quote);
        self.next_quote += 1;
        self.quotes.insert(
            delivery_no.clone(),
            Quote {
                source_id: source_id.to_owned(),
                request,
                fee,
                created_at: now,
                used: false,
            },
        );
        Ok((fee, delivery_no))
    }

    /// addAfterQuery: publishes a quote at its quoted price.
    pub fn publish_quote(
        &mut self,
        source_id: &str,
        delivery_no: &str,
        now: DateTime<Utc>,
    ) -> Result<(FeeQuote, String), Reject> {
        // An unknown number is indistinguishable from one Dada already purged for age.
        let quote = self
            .quotes
            .get(delivery_no)
            .filter(|q| q.source_id == source_id)
            .ok_or_else(|| Reject::of(code::QUOTE_EXPIRED))?;
        if quote.used {
            return Err(Reject::of(code::QUOTE_USED));
        }
        if now - quote.created_at > QUOTE_VALIDITY {
            return Err(Reject::of(code::QUOTE_EXPIRED));
        }
        let (request, fee) = (quote.request.clone(), quote.fee);
        if let Ok(existing) = self.order(source_id, &request.origin_id)
            && !existing.status.republishable()
            && existing.status != Status::CreateFailed
        {
            return Err(Reject::of(code::QUOTE_ORDER_PUBLISHED));
        }
        self.debit_and_create(source_id, request, fee, now)?;
        if let Some(q) = self.quotes.get_mut(delivery_no) {
            q.used = true;
        }
        Ok((fee, delivery_no.to_owned()))
    }

    fn debit_and_create(
        &mut self,
        source_id: &str,
        request: OrderRequest,
        fee: FeeQuote,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let shop = self.active_shop(source_id, &request.shop_no)?.point();
        let city = seed::city_by_code(&request.city_code)
            .ok_or_else(|| Reject::of(code::CITY_NOT_OPEN))?;
        let total = fee.total_fen();
        let merchant = self.merchant_mut(source_id)?;
        if merchant.balance_fen < total {
            return Err(Reject::of(code::INSUFFICIENT_BALANCE));
        }
        merchant.balance_fen -= total;

        let key = (source_id.to_owned(), request.origin_id.clone());
        // A re-published order keeps its timeline and complaints; everything else starts over.
        let (history, complaints) = self
            .orders
            .remove(&key)
            .map(|o| (o.history, o.complaints))
            .unwrap_or_default();
        let client_id = self.next_waybill;
        self.next_waybill += 1;
        let finish_code = if request.finish_code_needed {
            format!("{:06}", client_id.rem_euclid(1_000_000))
        } else {
            String::new()
        };
        let receiver_point = request.receiver.unwrap_or(GeoPoint {
            lng: city.lng,
            lat: city.lat,
        });
        let published_at = request.delay_publish_time.map_or(now, |t| t.max(now));
        let order = Order {
            source_id: source_id.to_owned(),
            origin_id: request.origin_id.clone(),
            client_id,
            shop_point: shop,
            receiver_point,
            city_id: city.id,
            quote: fee,
            tips_fen: fee.tips_fen,
            paid_fen: total,
            deduct_fee_fen: 0,
            status: Status::Waiting,
            created_at: now,
            published_at,
            accepted_at: None,
            arrived_at: None,
            fetched_at: None,
            finished_at: None,
            cancelled_at: None,
            courier: None,
            appointed: None,
            finish_code,
            cancel_from: 0,
            cancel_reason: String::new(),
            history,
            complaints,
            courier_cancel: None,
            request,
        };
        self.orders.insert(key.clone(), order);
        self.record_status(&key, now);
        Ok(())
    }

    // ---------------------------------------------------------------- merchant actions

    /// addTip: checks in the order 2055, 2059, 2057, 2077, 2155.
    pub fn add_tip(
        &mut self,
        source_id: &str,
        origin_id: &str,
        tips_fen: i64,
    ) -> Result<(), Reject> {
        let order = self.order(source_id, origin_id)?;
        if tips_fen < 100 {
            return Err(Reject::of(code::TIP_TOO_SMALL));
        }
        if order.status != Status::Waiting {
            return Err(Reject::of(code::TIP_NOT_WAITING));
        }
        if tips_fen <= order.tips_fen {
            return Err(Reject::of(code::TIP_NOT_HIGHER));
        }
        if tips_fen > order.request.cargo_price_fen {
            return Err(Reject::of(code::TIP_ABOVE_AMOUNT));
        }
        // The tip is the latest amount, not a sum: only the increase is debited.
        let increase = tips_fen - order.tips_fen;
        let merchant = self.merchant_mut(source_id)?;
        if merchant.balance_fen < increase {
            return Err(Reject::of(code::INSUFFICIENT_BALANCE));
        }
        merchant.balance_fen -= increase;
        if let Some(order) = self
            .orders
            .get_mut(&(source_id.to_owned(), origin_id.to_owned()))
        {
            order.tips_fen = tips_fen;
            order.paid_fen += increase;
        }
        Ok(())
    }

    /// formalCancel; returns the penalty in fen.
    pub fn merchant_cancel(
        &mut self,
        source_id: &str,
        origin_id: &str,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<i64, Reject> {
        let order = self.order(source_id, origin_id)?;
        let penalty = match order.status {
            Status::Waiting | Status::Appointed => 0,
            Status::Accepted | Status::Arrived => {
                let accepted_at = order.accepted_at.unwrap_or(now);
                fee::penalty_fen(
                    CancelTiming {
                        accepted_at,
                        arrived_at: order.arrived_at,
                        now,
                    },
                    order.paid_fen,
                )
            }
            other => return Err(cannot_cancel(other)),
        };
        let key = (source_id.to_owned(), origin_id.to_owned());
        self.cancel(&key, CancelFrom::Merchant, reason, penalty, now);
        Ok(penalty)
    }

    /// Cancels, refunds what was paid minus `penalty`, and records the callback.
    fn cancel(
        &mut self,
        key: &OrderKey,
        from: CancelFrom,
        reason: String,
        penalty: i64,
        at: DateTime<Utc>,
    ) {
        let Some(order) = self.orders.get_mut(key) else {
            return;
        };
        let refund = (order.paid_fen - penalty).max(0);
        order.paid_fen -= refund;
        order.deduct_fee_fen = penalty;
        order.status = Status::Cancelled;
        order.cancelled_at = Some(at);
        order.cancel_from = from as i32;
        order.cancel_reason = reason;
        let source_id = order.source_id.clone();
        if let Some(m) = self.merchants.get_mut(&source_id) {
            m.balance_fen = m.balance_fen.saturating_add(refund);
        }
        self.record_status(key, at);
    }

    /// Ends an order without service (expired, failed): everything paid goes back.
    fn end_with_refund(&mut self, key: &OrderKey, status: Status, at: DateTime<Utc>) {
        let Some(order) = self.orders.get_mut(key) else {
            return;
        };
        let refund = order.paid_fen;
        order.paid_fen = 0;
        order.status = status;
        order.cancelled_at = Some(at);
        let source_id = order.source_id.clone();
        if let Some(m) = self.merchants.get_mut(&source_id) {
            m.balance_fen = m.balance_fen.saturating_add(refund);
        }
        self.record_status(key, at);
    }

    /// Couriers the shop may appoint to: the seeded regulars, plus whoever accepted one of its
    /// orders within the hour and has not finished it.
    pub fn appointable(
        &self,
        source_id: &str,
        shop_no: &str,
        now: DateTime<Utc>,
    ) -> Vec<&'static Courier> {
        let mut ids: Vec<i64> = seed::RECENT_COURIERS
            .iter()
            .filter(|(shop, _)| *shop == shop_no)
            .map(|(_, id)| *id)
            .collect();
        for order in self.orders.values() {
            let recent = order.accepted_at.is_some_and(|t| now - t <= APPOINT_WINDOW);
            let unfinished = matches!(
                order.status,
                Status::Accepted | Status::Arrived | Status::Delivering
            );
            if order.source_id == source_id
                && order.request.shop_no == shop_no
                && recent
                && unfinished
            {
                ids.extend(order.courier);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().filter_map(seed::courier).collect()
    }

    /// appoint/exist.
    pub fn appoint(
        &mut self,
        source_id: &str,
        origin_id: &str,
        courier_id: i64,
        shop_no: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        self.shops
            .get(shop_no)
            .filter(|s| s.source_id == source_id)
            .ok_or_else(|| Reject::of(code::INVALID_SHOP))?;
        let order = self.order(source_id, origin_id)?;
        if order.request.shop_no != shop_no {
            return Err(Reject::with(code::INVALID_SHOP, "订单不属于该门店"));
        }
        if order.status != Status::Waiting {
            return Err(Reject::of(code::APPOINT_ACCEPTED));
        }
        if !self
            .appointable(source_id, shop_no, now)
            .iter()
            .any(|c| c.id == courier_id)
        {
            return Err(Reject::with(code::BAD_FORMAT, "该配送员不满足追加条件"));
        }
        let key = (source_id.to_owned(), origin_id.to_owned());
        if let Some(order) = self.orders.get_mut(&key) {
            order.status = Status::Appointed;
            order.appointed = Some(courier_id);
        }
        self.record_status(&key, now);
        Ok(())
    }

    /// appoint/cancel: back to waiting, visible to every courier.
    pub fn cancel_appointment(
        &mut self,
        source_id: &str,
        origin_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let order = self.order(source_id, origin_id)?;
        if order.status != Status::Appointed {
            return Err(Reject::with(
                code::APPOINT_ACCEPTED,
                "订单不是指派单或已被接单",
            ));
        }
        let key = (source_id.to_owned(), origin_id.to_owned());
        if let Some(order) = self.orders.get_mut(&key) {
            order.status = Status::Waiting;
            order.appointed = None;
        }
        self.record_status(&key, now);
        Ok(())
    }

    /// complaint/dada.
    pub fn complain(
        &mut self,
        source_id: &str,
        origin_id: &str,
        reason_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let reason =
            seed::complaint_reason(reason_id).ok_or_else(|| Reject::format("reason_id"))?;
        let order = self.order(source_id, origin_id)?;
        let Some(accepted_at) = order.accepted_at else {
            return Err(Reject::with(
                code::COMPLAINT_INVALID,
                "订单未被接单,投诉无效",
            ));
        };
        if seed::LATE_COMPLAINTS.contains(&reason_id) && order.status == Status::Delivered {
            // "On time" in the sandbox: delivered within an hour of acceptance.
            let on_time = order
                .finished_at
                .is_some_and(|f| f - accepted_at <= TimeDelta::hours(1));
            if on_time {
                return Err(Reject::of(code::COMPLAINT_INVALID));
            }
        }
        if let Some(order) = self
            .orders
            .get_mut(&(source_id.to_owned(), origin_id.to_owned()))
        {
            order.complaints.push(Complaint {
                reason_id,
                reason,
                at: now,
            });
        }
        Ok(())
    }

    /// confirm/goods: 9 → 10.
    pub fn confirm_goods(
        &mut self,
        source_id: &str,
        origin_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        if self.order(source_id, origin_id)?.status != Status::Returning {
            return Err(Reject::of(code::NOT_RETURNING));
        }
        let key = (source_id.to_owned(), origin_id.to_owned());
        if let Some(order) = self.orders.get_mut(&key) {
            order.status = Status::Returned;
            order.finished_at = Some(now);
        }
        self.record_status(&key, now);
        Ok(())
    }

    /// A courier asks to cancel: message type 1 to the merchant's message URL.
    pub fn courier_cancel_request(
        &mut self,
        key: &OrderKey,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<usize, Reject> {
        let order = self
            .orders
            .get(key)
            .ok_or_else(|| Reject::of(code::ORDER_NOT_FOUND))?;
        let courier_id = match (order.status.to_pick_up(), order.courier) {
            (true, Some(id)) => id,
            _ => {
                return Err(Reject::with(
                    code::ORDER_STATE,
                    "只有待取货的订单骑士才能申请取消",
                ));
            }
        };
        let body = CourierCancelBody {
            order_id: order.origin_id.clone(),
            dada_order_id: order.client_id,
            cancel_reason: reason.clone(),
        };
        let message_body =
            serde_json::to_string(&body).map_err(|_| Reject::of(code::SYSTEM_ERROR))?;
        let id = self.messages.len();
        self.messages.push(Message {
            id,
            key: key.clone(),
            payload: MessagePush {
                message_type: 1,
                message_body,
            },
            created_at: now,
            attempts: 0,
            delivered: false,
            in_flight: false,
            gave_up: false,
            next_attempt_at: now,
            last_error: None,
        });
        if let Some(order) = self.orders.get_mut(key) {
            order.courier_cancel = Some(CourierCancel {
                message_id: id,
                courier_id,
                reason,
                confirmed: None,
            });
        }
        Ok(id)
    }

    /// message/confirm for type 1: agreeing cancels the order (no penalty, full refund, from the
    /// courier); declining keeps it with its courier.
    pub fn answer_courier_cancel(
        &mut self,
        source_id: &str,
        origin_id: &str,
        confirm: bool,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let order = self.order(source_id, origin_id)?;
        let pending = order
            .courier_cancel
            .as_ref()
            .filter(|c| c.confirmed.is_none())
            .ok_or_else(|| Reject::with(code::ORDER_STATE, "没有待确认的骑士取消消息"))?;
        let reason = pending.reason.clone();
        if confirm && !order.status.to_pick_up() {
            return Err(cannot_cancel(order.status));
        }
        let key = (source_id.to_owned(), origin_id.to_owned());
        if let Some(c) = self
            .orders
            .get_mut(&key)
            .and_then(|o| o.courier_cancel.as_mut())
        {
            c.confirmed = Some(confirm);
        }
        if confirm {
            self.cancel(&key, CancelFrom::Courier, reason, 0, now);
        }
        Ok(())
    }

    // ---------------------------------------------------------------- moves

    /// Applies a simulated or scheduled move, with Dada's test-environment refusals.
    pub fn apply(
        &mut self,
        key: &OrderKey,
        step: Move,
        reason: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let status = self
            .orders
            .get(key)
            .map(|o| o.status)
            .ok_or_else(|| Reject::of(code::ORDER_NOT_FOUND))?;
        let not_now = || {
            Reject::with(
                code::ORDER_STATE,
                format!(
                    "订单当前状态为{}({}),不能执行该操作",
                    status.msg(),
                    status.code()
                ),
            )
        };
        let allowed = match step {
            Move::Accept | Move::Expire | Move::Fail | Move::AutoCancel => status.unaccepted(),
            Move::Arrive => status == Status::Accepted,
            Move::Fetch => status.to_pick_up(),
            Move::Finish | Move::AbnormalBack => status == Status::Delivering,
            Move::Cancel => {
                status.unaccepted() || status.to_pick_up() || status == Status::Delivering
            }
        };
        if !allowed {
            let needs_courier = matches!(
                step,
                Move::Arrive | Move::Fetch | Move::Finish | Move::AbnormalBack
            );
            return Err(if needs_courier && status.unaccepted() {
                Reject::of(code::SIMULATE_NOT_ACCEPTED)
            } else {
                not_now()
            });
        }
        match step {
            Move::Accept => {
                let courier = self.pick_courier(key);
                if let Some(order) = self.orders.get_mut(key) {
                    order.status = Status::Accepted;
                    order.courier = Some(courier);
                    order.accepted_at = Some(at);
                }
            }
            Move::Arrive => self.set(key, Status::Arrived, |o| o.arrived_at = Some(at)),
            Move::Fetch => self.set(key, Status::Delivering, |o| o.fetched_at = Some(at)),
            Move::Finish => self.set(key, Status::Delivered, |o| o.finished_at = Some(at)),
            Move::AbnormalBack => self.set(key, Status::Returning, |_| {}),
            Move::Cancel => {
                let reason = reason.unwrap_or_else(|| "达达客服取消".to_owned());
                self.cancel(key, CancelFrom::System, reason, 0, at);
                return Ok(());
            }
            Move::AutoCancel => {
                self.cancel(
                    key,
                    CancelFrom::System,
                    "超过72小时未接单,系统自动取消".to_owned(),
                    0,
                    at,
                );
                return Ok(());
            }
            Move::Expire => {
                self.end_with_refund(key, Status::Expired, at);
                return Ok(());
            }
            Move::Fail => {
                self.end_with_refund(key, Status::CreateFailed, at);
                return Ok(());
            }
        }
        self.record_status(key, at);
        Ok(())
    }

    fn set(&mut self, key: &OrderKey, status: Status, stamp: impl FnOnce(&mut Order)) {
        if let Some(order) = self.orders.get_mut(key) {
            order.status = status;
            stamp(order);
        }
    }

    /// The appointed courier, else the next courier of the order's city in turn.
    fn pick_courier(&mut self, key: &OrderKey) -> i64 {
        let (appointed, city_id) = self
            .orders
            .get(key)
            .map_or((None, 0), |o| (o.appointed, o.city_id));
        if let Some(id) = appointed {
            return id;
        }
        let local: Vec<&Courier> = seed::COURIERS
            .iter()
            .filter(|c| c.city_id == city_id)
            .collect();
        let pool: Vec<&Courier> = if local.is_empty() {
            seed::COURIERS.iter().collect()
        } else {
            local
        };
        self.courier_turn = self.courier_turn.wrapping_add(1);
        pool.get(self.courier_turn % pool.len().max(1))
            .map_or(666, |c| c.id)
    }

    /// Runs every scheduled move that is due by `now`, dated when it fell due, so an order aged
    /// past several steps walks through each of them with its callbacks.
    pub fn advance(&mut self, now: DateTime<Utc>) {
        let keys: Vec<OrderKey> = self.orders.keys().cloned().collect();
        for key in keys {
            while let Some((step, at)) = self.next_due(&key).filter(|(_, at)| *at <= now) {
                if self.apply(&key, step, None, at).is_err() {
                    break;
                }
            }
        }
    }

    /// The next scheduled move of an order and when it falls due.
    pub fn next_due(&self, key: &OrderKey) -> Option<(Move, DateTime<Utc>)> {
        let order = self.orders.get(key)?;
        let s = &self.schedule;
        match order.status {
            Status::Waiting | Status::Appointed => {
                let accept = s
                    .accept_after_secs
                    .and_then(|x| after(order.published_at, x))
                    .map(|t| (Move::Accept, t));
                let cancel = after(order.published_at, s.auto_cancel_after_secs)
                    .map(|t| (Move::AutoCancel, t));
                match (accept, cancel) {
                    (Some(a), Some(c)) => Some(if a.1 <= c.1 { a } else { c }),
                    (a, c) => a.or(c),
                }
            }
            Status::Accepted | Status::Arrived => s
                .fetch_after_secs
                .zip(order.accepted_at)
                .and_then(|(x, t)| after(t, x))
                .map(|t| (Move::Fetch, t)),
            Status::Delivering => s
                .finish_after_secs
                .zip(order.fetched_at)
                .and_then(|(x, t)| after(t, x))
                .map(|t| (Move::Finish, t)),
            _ => None,
        }
    }

    /// The earliest scheduled move of any order, for the background task's sleep.
    pub fn earliest_due(&self) -> Option<DateTime<Utc>> {
        self.orders
            .keys()
            .filter_map(|k| self.next_due(k).map(|(_, t)| t))
            .min()
    }

    /// Pretends the order was created `secs` earlier: every timestamp moves back.
    pub fn age_order(&mut self, key: &OrderKey, secs: u64) -> Result<(), Reject> {
        let order = self
            .orders
            .get_mut(key)
            .ok_or_else(|| Reject::of(code::ORDER_NOT_FOUND))?;
        let delta = i64::try_from(secs)
            .ok()
            .and_then(TimeDelta::try_seconds)
            .ok_or_else(|| Reject::format("secs"))?;
        // The first timeline entry is the oldest moment the order knows (a re-published order
        // keeps its earlier history); if that can move, everything can.
        let earliest = order
            .history
            .first()
            .map_or(order.created_at, |h| h.at.min(order.created_at));
        if earliest.checked_sub_signed(delta).is_none() {
            return Err(Reject::format("secs"));
        }
        let back = |t: &mut DateTime<Utc>| {
            if let Some(earlier) = t.checked_sub_signed(delta) {
                *t = earlier;
            }
        };
        back(&mut order.created_at);
        back(&mut order.published_at);
        for t in [
            &mut order.accepted_at,
            &mut order.arrived_at,
            &mut order.fetched_at,
            &mut order.finished_at,
            &mut order.cancelled_at,
        ]
        .into_iter()
        .flatten()
        {
            back(t);
        }
        order.history.iter_mut().for_each(|h| back(&mut h.at));
        order.complaints.iter_mut().for_each(|c| back(&mut c.at));
        Ok(())
    }

    /// Appends the order's current status to its timeline and queues the callback.
    fn record_status(&mut self, key: &OrderKey, at: DateTime<Utc>) {
        let Some(order) = self.orders.get_mut(key) else {
            return;
        };
        order.history.push(HistoryEntry {
            status: order.status,
            at,
        });
        let payload = order.callback_payload(at);
        let url = order.request.callback.clone();
        self.enqueue_callback(key.clone(), url, payload, at);
    }

    // ---------------------------------------------------------------- merchants and money

    /// merchant/add: a new merchant with an empty balance.
    pub fn add_merchant(
        &mut self,
        mobile: String,
        city_name: String,
        enterprise_name: String,
        contact_name: String,
    ) -> u64 {
        let id = self.next_source_id;
        self.next_source_id += 1;
        let source_id = id.to_string();
        self.merchants.insert(
            source_id.clone(),
            Merchant {
                source_id,
                mobile,
                city_name,
                enterprise_name,
                contact_name,
                balance_fen: 0,
                red_packet_fen: 0,
            },
        );
        id
    }

    /// A shop number for a shop added without one.
    pub fn generate_shop_no(&mut self, source_id: &str) -> String {
        loop {
            let no = format!("{source_id}-{:04}", self.next_shop);
            self.next_shop += 1;
            if !self.shops.contains_key(&no) {
                return no;
            }
        }
    }

    /// Records a recharge link and returns its token.
    pub fn add_recharge(
        &mut self,
        source_id: &str,
        amount_fen: i64,
        category: String,
        notify_url: Option<String>,
    ) -> String {
        let token = format!("{:016x}", rand::random::<u64>());
        self.recharges.insert(
            token.clone(),
            Recharge {
                token: token.clone(),
                source_id: source_id.to_owned(),
                amount_fen,
                category,
                notify_url,
                paid_at: None,
            },
        );
        token
    }

    /// Pays a recharge link once; paying again changes nothing.
    pub fn pay_recharge(&mut self, token: &str, now: DateTime<Utc>) -> Option<Recharge> {
        let recharge = self.recharges.get_mut(token)?;
        if recharge.paid_at.is_none() {
            recharge.paid_at = Some(now);
            let (source_id, amount) = (recharge.source_id.clone(), recharge.amount_fen);
            if let Some(m) = self.merchants.get_mut(&source_id) {
                // Saturating: a balance set through the control route may already be near the limit.
                m.balance_fen = m.balance_fen.saturating_add(amount);
            }
        }
        self.recharges.get(token).cloned()
    }

    pub fn find_order_key(
        &self,
        origin_id: &str,
        source_id: Option<&str>,
        default_source: &str,
    ) -> Option<OrderKey> {
        let wanted = source_id.unwrap_or(default_source);
        let exact = (wanted.to_owned(), origin_id.to_owned());
        if self.orders.contains_key(&exact) {
            return Some(exact);
        }
        // Without an explicit source, any merchant's order of that number will do.
        if source_id.is_none() {
            return self.orders.keys().find(|(_, o)| o == origin_id).cloned();
        }
        None
    }

    /// Quotes are only looked at by control routes and addAfterQuery; old ones can go.
    pub fn purge_quotes(&mut self, now: DateTime<Utc>) {
        self.quotes
            .retain(|_, q| now - q.created_at <= TimeDelta::hours(1));
    }
}

/// The formalCancel refusal for a status that cannot be cancelled.
fn cannot_cancel(status: Status) -> Reject {
    Reject::of(match status {
        Status::Delivering => code::CANCEL_DELIVERING,
        Status::Delivered => code::CANCEL_DELIVERED,
        Status::Expired => code::CANCEL_EXPIRED,
        Status::Cancelled => code::CANCEL_CANCELLED,
        Status::Returning => code::CANCEL_RETURNING,
        Status::Returned => code::CANCEL_RETURNED,
        _ => code::CANCEL_NOT_ALLOWED,
    })
}

/// JSON of a value that is already in memory; `Null` can only come from a serializer bug.
pub fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
