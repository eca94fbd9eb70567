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

/// Order calls (add, readd) allowed per Beijing calendar day.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quota {
    pub daily_quota: u32,
    pub used_today: u32,
    pub day: NaiveDate,
}

/// Beijing time (UTC+8, no daylight saving), in which WeChat's days turn.
fn beijing_date(now: DateTime<Utc>) -> NaiveDate {
    (now + TimeDelta::hours(8)).date_naive()
}

impl Quota {
    pub fn new(daily_quota: u32, now: DateTime<Utc>) -> Self {
        Quota {
            daily_quota,
            used_today: 0,
            day: beijing_date(now),
        }
    }

    /// Starts a new day's count if the day turned.
    pub fn roll(&mut self, now: DateTime<Utc>) {
        let today = beijing_date(now);
        if today != self.day {
            self.day = today;
            self.used_today = 0;
        }
    }

    /// Uses one call; `false` when the day's quota is gone.
    fn take(&mut self, now: DateTime<Utc>) -> bool {
        self.roll(now);
        if self.used_today >= self.daily_quota {
            return false;
        }
        self.used_today += 1;
        true
    }
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

    fn order_mut(&mut self, shop_order_id: &str) -> Result<&mut Order, Reject> {
        self.orders
            .get_mut(shop_order_id)
            .ok_or_else(|| Reject::platform(code::ORDER_NOT_FOUND))
    }

    // ---------------------------------------------------------------- binding

    /// bindLocalAccount: a bind request goes to the company's review (audit 1). Asking again
    /// while reviewing changes nothing; after a rejection it starts a new review; an account that
    /// passed is refused as already bound.
    pub fn bind(&mut self, delivery_id: &str) -> Result<(), Reject> {
        let company = self
            .company_mut(delivery_id)
            .ok_or_else(|| Reject::param(format!("unknown delivery_id {delivery_id}")))?;
        if company.usable() {
            return Err(Reject::company(result::ALREADY_BOUND));
        }
        company.bound = true;
        company.audit_result = 1;
        Ok(())
    }

    // ---------------------------------------------------------------- publishing

    /// The company's price for a request: 10002 beyond its range.
    pub fn price(company: &CompanyConfig, request: &OrderRequest) -> Result<FeeQuote, Reject> {
        let distance_m = fee::distance_m(request.sender.point, request.receiver.point);
        if distance_m > company.max_distance_m {
            return Err(Reject::company_with(
                result::OUT_OF_RANGE,
                format!(
                    "超出配送范围: {distance_m}米, 最远{}米",
                    company.max_distance_m
                ),
            ));
        }
        Ok(fee::quote(
            company,
            FeeInput {
                distance_m,
                weight_g: request.cargo.goods_weight_g,
                tips_fen: request.order_info.tips_fen,
                insured_value_fen: request.order_info.insured_value_fen,
            },
        ))
    }

    /// A booked order's time must be within the company's booking window.
    fn check_booking(
        company: &CompanyConfig,
        request: &OrderRequest,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        if let Some(at) = request.order_info.dispatch_at {
            let limit = i64::try_from(company.max_booking_hours)
                .ok()
                .and_then(TimeDelta::try_hours)
                .and_then(|h| now.checked_add_signed(h));
            if limit.is_some_and(|limit| at > limit) {
                return Err(Reject::company_with(
                    result::BOOKING_TOO_FAR,
                    format!("最多提前{}小时预约", company.max_booking_hours),
                ));
            }
        }
        Ok(())
    }

    /// pre_add: prices the request and, for companies that give one, hands out a
    /// `delivery_token`. 930562 while an order of that id is live.
    pub fn pre_add(
        &mut self,
        company: &CompanyConfig,
        request: &OrderRequest,
        now: DateTime<Utc>,
    ) -> Result<(FeeQuote, Option<String>), Reject> {
        if self
            .orders
            .get(&request.shop_order_id)
            .is_some_and(|o| !o.status.is_end())
        {
            return Err(Reject::platform(code::ORDER_EXISTS));
        }
        Self::check_booking(company, request, now)?;
        let fee = Self::price(company, request)?;
        if !company.gives_delivery_token {
            return Ok((fee, None));
        }
        let token = format!(
            "{}_{}_{:06}",
            company.delivery_id.to_lowercase(),
            now.timestamp(),
            self.next_quote
        );
        self.next_quote += 1;
        self.quotes.insert(
            token.clone(),
            Quote {
                delivery_id: company.delivery_id.clone(),
                shop_order_id: request.shop_order_id.clone(),
                fee,
                created_at: now,
                ttl_secs: company.token_ttl_secs,
                used: false,
            },
        );
        Ok((fee, Some(token)))
    }

    /// add and readd. Platform checks first (the order id's history: 930562 / 930563; the day's
    /// quota: 930564, counted for every call that gets this far), then the company's (booking
    /// window, range, `delivery_token`).
    pub fn publish(
        &mut self,
        company: &CompanyConfig,
        request: OrderRequest,
        mode: Publish,
        now: DateTime<Utc>,
    ) -> Result<Order, Reject> {
        let existing = self.orders.get(&request.shop_order_id);
        match (mode, existing) {
            (Publish::New, Some(_)) => return Err(Reject::platform(code::ORDER_EXISTS)),
            (Publish::Again, None) => return Err(Reject::platform(code::ORDER_NOT_FOUND)),
            (Publish::Again, Some(o)) if !o.status.readdable() => {
                return Err(Reject::company_with(
                    result::READD_NOT_ALLOWED,
                    format!(
                        "订单当前状态{},只有已取消或已返还的订单才能重新下单",
                        o.status.code()
                    ),
                ));
            }
            _ => {}
        }
        if !self.quota.take(now) {
            return Err(Reject::platform(code::NO_QUOTA));
        }
        Self::check_booking(company, &request, now)?;
        let mut fee = Self::price(company, &request)?;
        if let Some(token) = request
            .delivery_token
            .as_deref()
            .filter(|_| company.gives_delivery_token)
        {
            let quote = self.usable_quote(token, company, &request.shop_order_id, now)?;
            // The company stands by its freight; tips and insurance follow this request.
            fee.distance_m = quote.fee.distance_m;
            fee.deliver_fee_fen = quote.fee.deliver_fee_fen;
            fee.coupon_fee_fen = quote.fee.coupon_fee_fen;
            fee.fee_fen = quote.fee.fee_fen;
            if let Some(q) = self.quotes.get_mut(token) {
                q.used = true;
            }
        }
        Ok(self.create(company, request, fee, now))
    }

    fn usable_quote(
        &self,
        token: &str,
        company: &CompanyConfig,
        shop_order_id: &str,
        now: DateTime<Utc>,
    ) -> Result<&Quote, Reject> {
        let quote = self
            .quotes
            .get(token)
            .filter(|q| q.delivery_id == company.delivery_id && q.shop_order_id == shop_order_id)
            .ok_or_else(|| Reject::company(result::TOKEN_INVALID))?;
        if quote.used {
            return Err(Reject::company(result::TOKEN_USED));
        }
        let expired = after(quote.created_at, quote.ttl_secs).is_none_or(|end| now >= end);
        if expired {
            return Err(Reject::company(result::TOKEN_EXPIRED));
        }
        Ok(quote)
    }

    fn create(
        &mut self,
        company: &CompanyConfig,
        request: OrderRequest,
        fee: FeeQuote,
        now: DateTime<Utc>,
    ) -> Order {
        let id = request.shop_order_id.clone();
        let earlier = self.orders.remove(&id);
        let (waybill_id, push_waybill_id) = if company.delivery_id == TEST_DELIVERY_ID {
            if self.test_waybill_quirk {
                (format!("{id}_waybillid"), format!("test_waybill_id_{id}"))
            } else {
                let w = format!("{id}_waybillid");
                (w.clone(), w)
            }
        } else {
            let w = format!(
                "{}{}{:08}",
                company.delivery_id,
                now.format("%Y%m%d"),
                self.next_waybill
            );
            self.next_waybill += 1;
            (w.clone(), w)
        };
        let mut code = || {
            let n = self.next_code;
            self.next_code = self.next_code.wrapping_add(1);
            // Four digits that do not simply count up.
            1000 + n.wrapping_mul(7919) % 9000
        };
        let finish_code = if request.order_info.finish_code_needed {
            code()
        } else {
            0
        };
        let pickup_code = if request.order_info.pickup_code_needed {
            code()
        } else {
            0
        };
        let dispatch_at = request.order_info.dispatch_at.map_or(now, |t| t.max(now));
        let (mut history, mut earlier_waybills, readds) = match earlier {
            Some(o) => {
                let mut waybills = o.earlier_waybills;
                waybills.push(o.waybill_id);
                waybills.push(o.push_waybill_id);
                (o.history, waybills, o.readds + 1)
            }
            None => (Vec::new(), Vec::new(), 0),
        };
        earlier_waybills.dedup();
        history.push(HistoryEntry {
            status: Status::Waiting,
            at: now,
            action_msg: Status::Waiting.msg().to_owned(),
            by: "merchant",
        });
        let order = Order {
            delivery_id: company.delivery_id.clone(),
            shopid: company.shopid.clone(),
            waybill_id,
            push_waybill_id,
            earlier_waybills,
            fee,
            status: Status::Waiting,
            rider: None,
            finish_code,
            pickup_code,
            dispatch_secs: company.dispatch_minutes.saturating_mul(60),
            created_at: now,
            dispatch_at,
            assigned_at: None,
            arrived_at: None,
            picked_at: None,
            returning_at: None,
            ended_at: None,
            deduct_fee_fen: 0,
            cancel_reason_id: None,
            cancel_reason: None,
            return_remark: None,
            readds,
            history,
            request,
        };
        self.orders.insert(id, order.clone());
        order
    }

    // ---------------------------------------------------------------- merchant actions

    /// addtips: only while waiting for a rider, and only upwards.
    pub fn add_tips(&mut self, shop_order_id: &str, tips_fen: i64) -> Result<(), Reject> {
        let order = self.order_mut(shop_order_id)?;
        if order.status != Status::Waiting {
            return Err(Reject::company(result::TIPS_NOT_WAITING));
        }
        if tips_fen <= order.fee.tips_fen {
            return Err(Reject::company(result::TIPS_NOT_HIGHER));
        }
        order.fee.tips_fen = tips_fen;
        Ok(())
    }

    /// What cancelling would cost now and what it would say: 930565 once over, a company refusal
    /// while returning or (Dada) after pick-up.
    pub fn cancel_terms(
        &self,
        company: &CompanyConfig,
        shop_order_id: &str,
    ) -> Result<(i64, String), Reject> {
        let order = self.order_of(&company.delivery_id, shop_order_id)?;
        if order.status.is_end() {
            return Err(Reject::platform(code::ORDER_FINISHED));
        }
        if order.status.is_returning() {
            return Err(Reject::company(result::CANCEL_RETURNING));
        }
        let penalty = fee::penalty_fen(&company.cancel_rule, order.status, order.fee.charged_fen())
            .ok_or_else(|| Reject::company(result::CANCEL_AFTER_PICKUP))?;
        let desc = match (order.status, penalty) {
            (Status::Waiting, _) => "骑手未接单,免费取消".to_owned(),
            (_, 0) => "本次取消不扣费".to_owned(),
            (Status::Assigned, fen) => format!("骑手已接单,取消将扣除{}", yuan_text(fen)),
            (Status::AtShop, fen) => format!("骑手已到店,取消将扣除{}", yuan_text(fen)),
            (_, fen) => format!("骑手已取货,取消将扣除{},物品将返还商家", yuan_text(fen)),
        };
        Ok((penalty, desc))
    }

    /// order/cancel: 103 before the store, 203 at it, 303 (goods come back) after pick-up.
    pub fn merchant_cancel(
        &mut self,
        company: &CompanyConfig,
        shop_order_id: &str,
        reason_id: u64,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<(i64, String), Reject> {
        let (penalty, desc) = self.cancel_terms(company, shop_order_id)?;
        let order = self.order_mut(shop_order_id)?;
        let next = match order.status {
            Status::Waiting | Status::Assigned => Status::MerchantCancelled,
            Status::AtShop => Status::PickupFailedMerchantCancelled,
            _ => Status::ReturningMerchantCancelled,
        };
        order.deduct_fee_fen = penalty;
        order.cancel_reason_id = Some(reason_id);
        order.cancel_reason = Some(reason);
        self.record(
            shop_order_id,
            next,
            now,
            next.msg().to_owned(),
            "merchant",
            true,
        );
        Ok((penalty, desc))
    }

    /// order/confirm_return: 303–305 → 401.
    pub fn confirm_return(
        &mut self,
        shop_order_id: &str,
        remark: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let order = self.order_mut(shop_order_id)?;
        if !order.status.is_returning() {
            return Err(Reject::company(result::NOT_RETURNING));
        }
        order.return_remark = remark;
        self.record(
            shop_order_id,
            Status::Returned,
            now,
            Status::Returned.msg().to_owned(),
            "merchant",
            true,
        );
        Ok(())
    }

    /// test_update_order: any documented status, pushed like a real change and dated
    /// `action_time`.
    pub fn mock_update(
        &mut self,
        shop_order_id: &str,
        status: Status,
        action_time: DateTime<Utc>,
        action_msg: Option<String>,
    ) -> Result<(), Reject> {
        self.order_mut(shop_order_id)?;
        let msg = action_msg.unwrap_or_else(|| status.msg().to_owned());
        self.record(shop_order_id, status, action_time, msg, "mock", false);
        Ok(())
    }

    // ---------------------------------------------------------------- moves

    /// A move by schedule or control route; `Err` says why it does not apply now.
    pub fn apply(
        &mut self,
        shop_order_id: &str,
        step: Move,
        at: DateTime<Utc>,
        by: &'static str,
    ) -> Result<(), String> {
        let status = self
            .orders
            .get(shop_order_id)
            .map(|o| o.status)
            .ok_or_else(|| format!("no order {shop_order_id}"))?;
        let allowed = match step {
            Move::Assign => status == Status::Waiting,
            Move::Arrive => status == Status::Assigned,
            Move::Pickup => matches!(status, Status::Waiting | Status::Assigned | Status::AtShop),
            Move::Depart => status == Status::PickedUp,
            Move::Deliver => status == Status::Delivering,
            Move::Return(to) => {
                to.is_returning() && matches!(status, Status::PickedUp | Status::Delivering)
            }
            Move::Returned => status.is_returning(),
            Move::SystemCancel(to) => {
                matches!(to, Status::SystemCancelled | Status::ForceMajeure) && !status.is_end()
            }
            Move::RiderCancel(to) => {
                matches!(
                    to,
                    Status::RiderCancelled | Status::RiderCancelledForMerchant
                ) && matches!(status, Status::Assigned | Status::AtShop)
            }
        };
        if !allowed {
            return Err(format!(
                "{step:?} does not apply to an order in status {} ({})",
                status.code(),
                status.msg()
            ));
        }
        let steps: &[Status] = match step {
            Move::Assign => &[Status::Assigned],
            Move::Arrive => &[Status::AtShop],
            Move::Pickup if status == Status::Waiting => &[
                Status::Assigned,
                Status::AtShop,
                Status::PickedUp,
                Status::Delivering,
            ],
            Move::Pickup if status == Status::Assigned => {
                &[Status::AtShop, Status::PickedUp, Status::Delivering]
            }
            Move::Pickup => &[Status::PickedUp, Status::Delivering],
            Move::Depart => &[Status::Delivering],
            Move::Deliver => &[Status::Delivered],
            Move::Returned => &[Status::Returned],
            Move::Return(to) | Move::SystemCancel(to) | Move::RiderCancel(to) => &[to],
        };
        for &next in steps {
            self.record(shop_order_id, next, at, next.msg().to_owned(), by, true);
        }
        Ok(())
    }

    /// Sets a status, stamps the order, appends to its timeline and queues the push.
    /// `stamp_forward` is false for mocks, which may move anywhere, even backwards, and must
    /// not rewrite the times of steps the order really made.
    fn record(
        &mut self,
        shop_order_id: &str,
        status: Status,
        at: DateTime<Utc>,
        action_msg: String,
        by: &'static str,
        stamp_forward: bool,
    ) {
        let needs_rider = status.has_rider()
            && self
                .orders
                .get(shop_order_id)
                .is_some_and(|o| o.rider.is_none());
        let rider = if needs_rider {
            self.rider_turn = self.rider_turn.wrapping_add(1);
            Some(seed::rider(self.rider_turn))
        } else {
            None
        };
        let Some(order) = self.orders.get_mut(shop_order_id) else {
            return;
        };
        if rider.is_some() {
            order.rider = rider;
        }
        order.status = status;
        let stamp = |slot: &mut Option<DateTime<Utc>>| {
            if stamp_forward || slot.is_none() {
                *slot = Some(at);
            }
        };
        match status {
            Status::Assigned => stamp(&mut order.assigned_at),
            Status::AtShop => stamp(&mut order.arrived_at),
            Status::PickedUp => stamp(&mut order.picked_at),
            Status::Delivering if order.picked_at.is_none() => stamp(&mut order.picked_at),
            s if s.is_returning() => stamp(&mut order.returning_at),
            _ => {}
        }
        if status.is_end() {
            order.ended_at = Some(at);
        }
        order.history.push(HistoryEntry {
            status,
            at,
            action_msg: action_msg.clone(),
            by,
        });
        let payload = WaybillPush::new(&self.original_id, order, at, action_msg);
        self.enqueue_push(shop_order_id.to_owned(), payload, Utc::now());
    }

    /// Runs every scheduled move that is due by `now`, dated when it fell due, so an order aged
    /// past several steps walks through each of them with its pushes.
    pub fn advance(&mut self, now: DateTime<Utc>) {
        self.quota.roll(now);
        let ids: Vec<String> = self.orders.keys().cloned().collect();
        for id in ids {
            while let Some((step, at)) = self.next_due(&id).filter(|(_, at)| *at <= now) {
                if self.apply(&id, step, at, "schedule").is_err() {
                    break;
                }
            }
        }
    }

    /// The next scheduled move of an order and when it falls due.
    pub fn next_due(&self, shop_order_id: &str) -> Option<(Move, DateTime<Utc>)> {
        let order = self.orders.get(shop_order_id)?;
        let company = self.company(&order.delivery_id)?;
        if !company.config.scheduled {
            return None;
        }
        let c = &company.config;
        let s = &self.schedule;
        let step = |own: Option<u64>, global: Option<u64>, from: Option<DateTime<Utc>>| {
            own.or(global)
                .zip(from)
                .and_then(|(secs, t)| after(t, secs))
        };
        match order.status {
            Status::Waiting => {
                let assign = step(
                    c.accept_after_secs,
                    s.accept_after_secs,
                    Some(order.dispatch_at),
                )
                .map(|t| (Move::Assign, t));
                let cancel = s
                    .system_cancel_after_secs
                    .and_then(|secs| after(order.dispatch_at, secs))
                    .map(|t| (Move::SystemCancel(Status::SystemCancelled), t));
                match (assign, cancel) {
                    (Some(a), Some(c)) => Some(if a.1 <= c.1 { a } else { c }),
                    (a, c) => a.or(c),
                }
            }
            Status::Assigned => step(c.arrive_after_secs, s.arrive_after_secs, order.assigned_at)
                .map(|t| (Move::Arrive, t)),
            Status::AtShop => step(c.pickup_after_secs, s.pickup_after_secs, order.arrived_at)
                .map(|t| (Move::Pickup, t)),
            Status::PickedUp => order.picked_at.map(|t| (Move::Depart, t)),
            Status::Delivering => step(c.deliver_after_secs, s.deliver_after_secs, order.picked_at)
                .map(|t| (Move::Deliver, t)),
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
    pub fn age_order(&mut self, shop_order_id: &str, secs: u64) -> Result<(), String> {
        let order = self
            .orders
            .get_mut(shop_order_id)
            .ok_or_else(|| format!("no order {shop_order_id}"))?;
        let delta = i64::try_from(secs)
            .ok()
            .and_then(TimeDelta::try_seconds)
            .ok_or("secs out of range")?;
        let earliest = order
            .history
            .first()
            .map_or(order.created_at, |h| h.at.min(order.created_at))
            .min(order.dispatch_at);
        if earliest.checked_sub_signed(delta).is_none() {
            return Err("secs out of range".to_owned());
        }
        let back = |t: &mut DateTime<Utc>| {
            if let Some(earlier) = t.checked_sub_signed(delta) {
                *t = earlier;
            }
        };
        back(&mut order.created_at);
        back(&mut order.dispatch_at);
        for t in [
            &mut order.assigned_at,
            &mut order.arrived_at,
            &mut order.picked_at,
            &mut order.returning_at,
            &mut order.ended_at,
        ]
        .into_iter()
        .flatten()
        {
            back(t);
        }
        order.history.iter_mut().for_each(|h| back(&mut h.at));
        Ok(())
    }

    /// Quotes are only looked at by add and control routes; old ones can go.
    pub fn purge_quotes(&mut self, now: DateTime<Utc>) {
        self.quotes
            .retain(|_, q| now - q.created_at <= TimeDelta::hours(1));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_and_no_other() {
        let codes: Vec<i64> = Status::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(
            codes,
            [
                101, 102, 103, 201, 202, 203, 204, 205, 301, 302, 303, 304, 305, 401, 501, 502
            ]
        );
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
            assert!(!s.msg().is_empty());
        }
        assert_eq!(Status::from_code(402), None);
        assert_eq!(Status::from_code(403), None);
        let ends: Vec<i64> = Status::ALL
            .iter()
            .filter(|s| s.is_end())
            .map(|s| s.code())
            .collect();
        assert_eq!(ends, [103, 203, 204, 205, 302, 401, 501, 502]);
        let readdable: Vec<i64> = Status::ALL
            .iter()
            .filter(|s| s.readdable())
            .map(|s| s.code())
            .collect();
        assert_eq!(readdable, [103, 203, 204, 205, 401, 501, 502]);
    }

    #[test]
    fn quota_days_turn_at_beijing_midnight() {
        let before = DateTime::parse_from_rfc3339("2024-05-01T15:59:59Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let after = before + TimeDelta::seconds(1);
        let mut quota = Quota::new(1, before);
        assert!(quota.take(before));
        assert!(!quota.take(before));
        assert!(quota.take(after), "a new day in Beijing");
        assert_eq!(quota.used_today, 1);
    }

    #[test]
    fn yuan_text_reads_well() {
        assert_eq!(yuan_text(200), "2元");
        assert_eq!(yuan_text(250), "2.50元");
    }
}
