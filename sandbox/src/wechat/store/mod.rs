//! The sandbox's memory and the rules that change it.
//!
//! Everything lives in one [`State`] behind the sandbox's mutex; every method is synchronous and
//! takes `now`, so the routes, the background task and the tests drive the same code and no lock
//! is held across an `.await`. Orders are keyed by `shop_order_id`: it is the merchant's own id,
//! unique within the mini-program, and the one key every call and every push carries.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    CompanyConfig,
    error::{Reject, code, result},
    fee::{self, FeeInput, FeeQuote, GeoPoint},
    seed::{self, Rider, TEST_DELIVERY_ID},
    token::Tokens,
    wire::{Agent, WaybillPush},
};
use crate::faults::Faults;
use crate::kit::queue::Tracker;

mod actions;
mod moves;
mod publish;
mod quota;
#[cfg(test)]
mod tests;

pub use quota::Quota;

/// The order status codes of `platforms/wechat.md`, all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Waiting,
    Assigned,
    MerchantCancelled,
    AtShop,
    PickedUp,
    PickupFailedMerchantCancelled,
    RiderCancelled,
    RiderCancelledForMerchant,
    Delivering,
    Delivered,
    ReturningMerchantCancelled,
    ReturningUnreachable,
    ReturningRefused,
    Returned,
    SystemCancelled,
    ForceMajeure,
}

impl Status {
    pub const ALL: [Status; 16] = [
        Status::Waiting,
        Status::Assigned,
        Status::MerchantCancelled,
        Status::AtShop,
        Status::PickedUp,
        Status::PickupFailedMerchantCancelled,
        Status::RiderCancelled,
        Status::RiderCancelledForMerchant,
        Status::Delivering,
        Status::Delivered,
        Status::ReturningMerchantCancelled,
        Status::ReturningUnreachable,
        Status::ReturningRefused,
        Status::Returned,
        Status::SystemCancelled,
        Status::ForceMajeure,
    ];

    pub fn code(self) -> i64 {
        match self {
            Status::Waiting => 101,
            Status::Assigned => 102,
            Status::MerchantCancelled => 103,
            Status::AtShop => 201,
            Status::PickedUp => 202,
            Status::PickupFailedMerchantCancelled => 203,
            Status::RiderCancelled => 204,
            Status::RiderCancelledForMerchant => 205,
            Status::Delivering => 301,
            Status::Delivered => 302,
            Status::ReturningMerchantCancelled => 303,
            Status::ReturningUnreachable => 304,
            Status::ReturningRefused => 305,
            Status::Returned => 401,
            Status::SystemCancelled => 501,
            Status::ForceMajeure => 502,
        }
    }

    pub fn from_code(code: i64) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The `action_msg` the sandbox pushes for a status it moved to by itself.
    pub fn msg(self) -> &'static str {
        match self {
            Status::Waiting => "等待分配骑手",
            Status::Assigned => "分配骑手成功",
            Status::MerchantCancelled => "商家取消订单",
            Status::AtShop => "骑手到店开始取货",
            Status::PickedUp => "取货成功",
            Status::PickupFailedMerchantCancelled => "取货失败,商家取消订单",
            Status::RiderCancelled => "取货失败,骑手因自身原因取消订单",
            Status::RiderCancelledForMerchant => "取货失败,骑手因商家原因取消订单",
            Status::Delivering => "配送中",
            Status::Delivered => "配送成功",
            Status::ReturningMerchantCancelled => "商家取消订单,配送物品开始返还商家",
            Status::ReturningUnreachable => "无法联系收货人,配送物品开始返还商家",
            Status::ReturningRefused => "收货人拒收,配送物品开始返还商家",
            Status::Returned => "货品返还商户成功",
            Status::SystemCancelled => "因运力系统原因取消",
            Status::ForceMajeure => "因不可抗拒因素取消",
        }
    }

    /// The order is over (the notes' "end" statuses).
    pub fn is_end(self) -> bool {
        matches!(
            self,
            Status::MerchantCancelled
                | Status::PickupFailedMerchantCancelled
                | Status::RiderCancelled
                | Status::RiderCancelledForMerchant
                | Status::Delivered
                | Status::Returned
                | Status::SystemCancelled
                | Status::ForceMajeure
        )
    }

    /// Goods on the way back to the store.
    pub fn is_returning(self) -> bool {
        matches!(
            self,
            Status::ReturningMerchantCancelled
                | Status::ReturningUnreachable
                | Status::ReturningRefused
        )
    }

    /// Over without being delivered: order/readd may publish it again.
    pub fn readdable(self) -> bool {
        self.is_end() && self != Status::Delivered
    }

    /// A rider is involved from this status on.
    fn has_rider(self) -> bool {
        !matches!(
            self,
            Status::Waiting
                | Status::MerchantCancelled
                | Status::SystemCancelled
                | Status::ForceMajeure
        )
    }
}

/// Why a company refuses service now, set through `/_control/companies`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outage {
    /// 930556.
    Timeout,
    /// 930557.
    Error,
}

/// A courier company and the mini-program's account there.
#[derive(Clone, Debug)]
pub struct Company {
    pub config: CompanyConfig,
    pub bound: bool,
    /// 0 passed, 1 reviewing, 2 rejected.
    pub audit_result: u8,
    pub outage: Option<Outage>,
    /// When set, each order's acceptance is drawn from it instead of the schedule.
    pub acceptance: Option<crate::kit::acceptance::Acceptance>,
}

impl Company {
    /// Bound and passed review: orders may be placed.
    pub fn usable(&self) -> bool {
        self.bound && self.audit_result == 0
    }
}

/// A sender or receiver.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Party {
    pub name: String,
    pub city: String,
    pub address: String,
    pub address_detail: String,
    pub phone: String,
    /// In GCJ-02, whatever `coordinate_type` was sent.
    pub point: GeoPoint,
    pub coordinate_type: u64,
}

/// One line of `cargo.goods_detail.goods`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Good {
    pub good_count: u64,
    pub good_name: String,
    pub good_price_fen: Option<i64>,
    pub good_unit: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cargo {
    pub goods_value_fen: i64,
    pub goods_weight_g: u64,
    pub first_class: Option<String>,
    pub second_class: Option<String>,
    pub goods: Vec<Good>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderInfo {
    /// 0 now, 1 booked.
    pub order_type: u64,
    /// When a booked order is released to riders (`expected_delivery_time`, else the earliest of
    /// the other expected times).
    pub dispatch_at: Option<DateTime<Utc>>,
    pub tips_fen: i64,
    pub insured_value_fen: Option<i64>,
    pub note: Option<String>,
    pub poi_seq: Option<String>,
    pub finish_code_needed: bool,
    pub pickup_code_needed: bool,
    pub direct_delivery: bool,
}

/// `shop`: what the logistics message shows the user.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopInfo {
    pub wxa_path: String,
    pub img_url: String,
    pub goods_name: String,
    pub goods_count: u64,
}

/// A validated pre_add / add / readd body.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRequest {
    pub shopid: String,
    pub shop_order_id: String,
    pub delivery_id: String,
    pub openid: String,
    pub shop_no: String,
    pub sender: Party,
    pub receiver: Party,
    pub cargo: Cargo,
    pub order_info: OrderInfo,
    pub shop: ShopInfo,
    pub delivery_token: Option<String>,
    pub sub_biz_id: Option<String>,
}

/// One entry of an order's timeline.
#[derive(Clone, Debug)]
pub struct HistoryEntry {
    pub status: Status,
    pub at: DateTime<Utc>,
    pub action_msg: String,
    /// `merchant`, `schedule`, `control` or `mock`.
    pub by: &'static str,
}

/// One waybill, under the merchant's `shop_order_id`.
#[derive(Clone, Debug)]
pub struct Order {
    pub request: OrderRequest,
    pub delivery_id: String,
    pub shopid: String,
    /// What add, readd and order/get answer.
    pub waybill_id: String,
    /// What pushes carry; differs from `waybill_id` only for the TEST company (see `mod.rs`).
    pub push_waybill_id: String,
    /// Waybills of earlier publications (before a readd).
    pub earlier_waybills: Vec<String>,
    pub fee: FeeQuote,
    pub status: Status,
    pub rider: Option<Rider>,
    pub finish_code: u32,
    pub pickup_code: u32,
    pub dispatch_secs: u64,
    pub created_at: DateTime<Utc>,
    /// When riders can take it: creation, or the booked time.
    pub dispatch_at: DateTime<Utc>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub picked_at: Option<DateTime<Utc>>,
    pub returning_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub deduct_fee_fen: i64,
    pub cancel_reason_id: Option<u64>,
    pub cancel_reason: Option<String>,
    pub return_remark: Option<String>,
    pub readds: u32,
    pub history: Vec<HistoryEntry>,
    /// `order/get` calls answered for this order (a counter tests can wait on).
    pub get_calls: u64,
}

/// Nominal time from dispatch to the rider reaching the store, for estimates only.
const NOMINAL_TO_SHOP_SECS: i64 = 600;

impl Order {
    /// Seconds on the road for the order's distance: 5 m/s plus five minutes of handling.
    fn ride_secs(&self) -> i64 {
        i64::try_from(self.fee.distance_m / 5).unwrap_or(i64::MAX / 4) + 300
    }

    /// Expected delivery time (unix seconds): the real one once delivered, 0 for orders that
    /// ended otherwise.
    pub fn reach_time(&self) -> i64 {
        if self.status == Status::Delivered {
            return self.ended_at.map_or(0, |t| t.timestamp());
        }
        if self.status.is_end() {
            return 0;
        }
        let ride = self.ride_secs();
        match self.picked_at {
            Some(picked) => picked.timestamp().saturating_add(ride),
            None => self
                .dispatch_at
                .timestamp()
                .saturating_add(i64::try_from(self.dispatch_secs).unwrap_or(0))
                .saturating_add(NOMINAL_TO_SHOP_SECS)
                .saturating_add(ride),
        }
    }

    /// Where the rider is, for the statuses in which there is one on the road.
    pub fn rider_position(&self, now: DateTime<Utc>) -> Option<GeoPoint> {
        self.rider?;
        let (shop, home) = (self.request.sender.point, self.request.receiver.point);
        let progress = |since: Option<DateTime<Utc>>| {
            let elapsed = since.map_or(0, |t| (now - t).num_seconds());
            elapsed as f64 / self.ride_secs().max(1) as f64
        };
        match self.status {
            // On the way to the store: a few hundred metres off it.
            Status::Assigned => Some(GeoPoint {
                lng: shop.lng + 0.003,
                lat: shop.lat + 0.002,
            }),
            Status::AtShop | Status::PickedUp => Some(shop),
            Status::Delivering => Some(shop.towards(home, progress(self.picked_at))),
            s if s.is_returning() => Some(home.towards(shop, progress(self.returning_at))),
            _ => None,
        }
    }

    /// Whether `waybill_id` names this order, under any of its names.
    pub fn knows_waybill(&self, waybill_id: &str) -> bool {
        waybill_id == self.waybill_id
            || waybill_id == self.push_waybill_id
            || self.earlier_waybills.iter().any(|w| w == waybill_id)
    }
}

/// A pre_add quote a company stands by for a while (`delivery_token`).
#[derive(Clone, Debug)]
pub struct Quote {
    pub delivery_id: String,
    pub shop_order_id: String,
    pub fee: FeeQuote,
    pub created_at: DateTime<Utc>,
    pub ttl_secs: u64,
    pub used: bool,
}

/// One `update_waybill_status` push and its delivery record.
#[derive(Clone, Debug)]
pub struct Push {
    pub id: usize,
    pub shop_order_id: String,
    pub payload: WaybillPush,
    pub track: Tracker,
}

/// The automatic moves, each counted from the previous step; `None` disables a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// 101 → 102, from dispatch.
    pub accept_after_secs: Option<u64>,
    /// 102 → 201, from assignment.
    pub arrive_after_secs: Option<u64>,
    /// 201 → 202 → 301, from arrival.
    pub pickup_after_secs: Option<u64>,
    /// 301 → 302, from pick-up.
    pub deliver_after_secs: Option<u64>,
    /// 101 → 501 when nobody took the order, from dispatch.
    pub system_cancel_after_secs: Option<u64>,
}

/// A status move the sandbox makes by schedule or through a control route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// 101 → 102.
    Assign,
    /// 102 → 201.
    Arrive,
    /// 101 / 102 / 201 → (102 → 201 →) 202 → 301; the schedule only uses it from 201.
    Pickup,
    /// 202 → 301 (an order a mock left at 202).
    Depart,
    /// 301 → 302.
    Deliver,
    /// 202 / 301 → 303, 304 or 305.
    Return(Status),
    /// 303–305 → 401.
    Returned,
    /// Any live status → 501 or 502.
    SystemCancel(Status),
    /// 102 / 201 → 204 or 205.
    RiderCancel(Status),
}

/// pre_add/add versus readd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publish {
    New,
    Again,
}

pub struct State {
    pub companies: Vec<Company>,
    pub orders: BTreeMap<String, Order>,
    pub quotes: HashMap<String, Quote>,
    pub tokens: Tokens,
    pub quota: Quota,
    pub pushes: Vec<Push>,
    pub push_url: Option<String>,
    pub safe_mode: bool,
    pub faults: Faults,
    pub out_of_order_rate: f64,
    pub schedule: Schedule,
    /// Whether openDelivery was called; informational, orders work either way.
    pub opened: bool,
    /// `ToUserName` of pushes: the mini-program's original id.
    pub original_id: String,
    /// TEST answers `<id>_waybillid` but pushes `test_waybill_id_<id>`.
    pub test_waybill_quirk: bool,
    next_waybill: u64,
    next_code: u32,
    next_quote: u64,
    rider_turn: usize,
}

/// `t + secs`, or `None` beyond the calendar.
pub fn after(t: DateTime<Utc>, secs: u64) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(secs).ok()?;
    t.checked_add_signed(TimeDelta::try_seconds(secs)?)
}

/// The settings a [`State`] starts from.
pub struct Setup {
    pub companies: Vec<CompanyConfig>,
    pub daily_quota: u32,
    pub schedule: Schedule,
    pub faults: Faults,
    pub out_of_order_rate: f64,
    pub safe_mode: bool,
    pub original_id: String,
    pub test_waybill_quirk: bool,
}

impl State {
    pub fn new(setup: Setup, now: DateTime<Utc>) -> Self {
        let companies = setup
            .companies
            .into_iter()
            .map(|config| Company {
                bound: config.bound,
                audit_result: config.audit_result,
                outage: None,
                acceptance: None,
                config,
            })
            .collect();
        State {
            companies,
            orders: BTreeMap::new(),
            quotes: HashMap::new(),
            tokens: Tokens::default(),
            quota: Quota::new(setup.daily_quota, now),
            pushes: Vec::new(),
            push_url: None,
            safe_mode: setup.safe_mode,
            faults: setup.faults,
            out_of_order_rate: setup.out_of_order_rate,
            schedule: setup.schedule,
            opened: false,
            original_id: setup.original_id,
            test_waybill_quirk: setup.test_waybill_quirk,
            next_waybill: 1,
            next_code: 1,
            next_quote: 1,
            rider_turn: 0,
        }
    }

    pub fn company(&self, delivery_id: &str) -> Option<&Company> {
        self.companies
            .iter()
            .find(|c| c.config.delivery_id == delivery_id)
    }

    pub fn company_mut(&mut self, delivery_id: &str) -> Option<&mut Company> {
        self.companies
            .iter_mut()
            .find(|c| c.config.delivery_id == delivery_id)
    }

    pub fn company_by_shopid(&self, shopid: &str) -> Option<&Company> {
        self.companies.iter().find(|c| c.config.shopid == shopid)
    }

    /// The order `shop_order_id` placed with `delivery_id`; 930563 otherwise.
    pub fn order_of(&self, delivery_id: &str, shop_order_id: &str) -> Result<&Order, Reject> {
        self.orders
            .get(shop_order_id)
            .filter(|o| o.delivery_id == delivery_id)
            .ok_or_else(|| Reject::platform(code::ORDER_NOT_FOUND))
    }

    /// Counts an `order/get` answered for `shop_order_id`.
    pub fn note_get(&mut self, shop_order_id: &str) {
        if let Some(o) = self.orders.get_mut(shop_order_id) {
            o.get_calls += 1;
        }
    }

    fn order_mut(&mut self, shop_order_id: &str) -> Result<&mut Order, Reject> {
        self.orders
            .get_mut(shop_order_id)
            .ok_or_else(|| Reject::platform(code::ORDER_NOT_FOUND))
    }
}

/// `2元` / `2.5元` for descriptions.
fn yuan_text(fen: i64) -> String {
    if fen % 100 == 0 {
        format!("{}元", fen / 100)
    } else {
        format!("{:.2}元", fen as f64 / 100.0)
    }
}

/// JSON of a value already in memory; `Null` only from a serializer bug.
pub fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The agent block of a push or order/get for an order as it is now.
pub fn agent_of(order: &Order) -> Agent {
    Agent {
        name: order.rider.map_or_else(String::new, |r| r.name.to_owned()),
        phone: order.rider.map_or_else(String::new, |r| r.phone.to_owned()),
        reach_time: order.reach_time(),
    }
}
