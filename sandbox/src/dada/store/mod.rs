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

mod accounts;
mod actions;
mod moves;
mod publish;

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
    /// When set, each order's acceptance is drawn from it instead of `accept_after_secs`.
    pub acceptance: Option<crate::kit::acceptance::Acceptance>,
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
