//! The sandbox's memory and the rules that change it.
//!
//! Everything lives in one [`State`] behind the sandbox's mutex; every method here is synchronous
//! and takes `now`, so the routes, the background task and the tests drive the same code and no
//! lock is ever held across an `.await`. Orders are keyed by 58's `orderId`. Delivery of pushes
//! (attempts, retries, reassignment) is in `push.rs`; this file owns orders, the status updates
//! we send back, technicians and goods types.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    error::{InjectedError, Reject, code},
    money::{self, Yuan},
    params::{self, parse_beijing_time},
    seed,
    status::{Status, Transition, judge},
    wire::{CreateOrder, OrderLine, lines_total},
};
use crate::faults::{self, Faults, RequestFault};

mod accounts;
mod overrides;
#[cfg(test)]
mod tests;
mod update;

use overrides::apply_overrides;
pub use update::UpdateRequest;
use update::sort_lines;

/// The document's example id; generated ids count up from the one after it, so the example
/// itself stays unknown (handy for the published signing vector).
pub const EXAMPLE_ORDER_ID: i64 = 31_421_593_368_511_488;
/// Longest acknowledgement deadline a schedule may set; longer would only hide a hung intake.
pub const MAX_ACK_DEADLINE_MS: u64 = 600_000;
/// Updates kept for `/_control/updates`; older ones are forgotten in blocks.
const MAX_UPDATES_KEPT: usize = 10_000;

/// The faults in force: the shared knobs plus this sandbox's own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultSet {
    /// `latencyMs` and `errorRate` act on the platform routes. `duplicateCallbackRate` and
    /// `dropCallbackRate` have no meaning here (pushes use `duplicatePushRate`; a push that is
    /// never sent is an order that does not exist) and must stay 0.
    #[serde(flatten)]
    pub faults: Faults,
    /// Probability (0–1) that a platform call is processed but its answer withheld for
    /// `hangMs`, past any sane client timeout.
    #[serde(default)]
    pub timeout_rate: f64,
    #[serde(default = "default_hang_ms")]
    pub hang_ms: u64,
    /// Probability (0–1) that a platform call is processed and answered only after `slowMs`.
    #[serde(default)]
    pub slow_rate: f64,
    #[serde(default = "default_slow_ms")]
    pub slow_ms: u64,
    /// Probability (0–1) that an acknowledged push is sent once more right away.
    #[serde(default)]
    pub duplicate_push_rate: f64,
}

pub fn default_hang_ms() -> u64 {
    30_000
}

pub fn default_slow_ms() -> u64 {
    2_000
}

impl Default for FaultSet {
    fn default() -> Self {
        FaultSet {
            faults: Faults::default(),
            timeout_rate: 0.0,
            hang_ms: default_hang_ms(),
            slow_rate: 0.0,
            slow_ms: default_slow_ms(),
            duplicate_push_rate: 0.0,
        }
    }
}

/// What the faults decided for one platform call.
#[derive(Clone, Copy, Debug)]
pub struct FaultPlan {
    pub latency_ms: u64,
    /// Answer with this instead of doing anything.
    pub error: Option<InjectedError>,
    /// Wait this long after processing before answering.
    pub answer_delay_ms: u64,
    /// The delay is a hang (`timeoutRate`), not a slow answer.
    pub withheld: bool,
}

impl FaultSet {
    /// Rejects rates outside 0–1 (and NaN) and the shared knobs this sandbox does not use, so a
    /// control request cannot silently mean something else than it says.
    pub fn validate(&self) -> Result<(), String> {
        self.faults.validate()?;
        for (name, rate) in [
            ("timeoutRate", self.timeout_rate),
            ("slowRate", self.slow_rate),
            ("duplicatePushRate", self.duplicate_push_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        if self.faults.duplicate_callback_rate != 0.0 || self.faults.drop_callback_rate != 0.0 {
            return Err(
                "duplicateCallbackRate and dropCallbackRate are not used by the 58 sandbox: \
                 use duplicatePushRate"
                    .to_owned(),
            );
        }
        Ok(())
    }

    /// Draws the fate of one call.
    pub fn plan(&self) -> FaultPlan {
        let error = match self.faults.roll_request() {
            RequestFault::InjectError => Some(InjectedError::draw()),
            RequestFault::Proceed => None,
        };
        let withheld = error.is_none() && faults::roll(self.timeout_rate);
        let slow = error.is_none() && !withheld && faults::roll(self.slow_rate);
        FaultPlan {
            latency_ms: self.faults.latency_ms,
            error,
            answer_delay_ms: if withheld {
                self.hang_ms
            } else if slow {
                self.slow_ms
            } else {
                0
            },
            withheld,
        }
    }
}

/// When and how orders are pushed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// A random order every so many seconds while a push URL is set; `None` only on demand.
    pub push_every_secs: Option<u64>,
    /// An attempt not acknowledged within this is a failure.
    pub ack_deadline_ms: u64,
    /// Wait after the first failed attempt; doubles per failure, capped at [`crate::faults::MAX_BACKOFF_MS`].
    pub push_retry_initial_ms: u64,
    /// Attempts before the order is reassigned.
    pub push_max_attempts: u32,
}

impl Schedule {
    /// Wait after the `failures`-th failure in a row.
    pub fn backoff(&self, failures: u32) -> TimeDelta {
        crate::faults::doubling_backoff(self.push_retry_initial_ms, failures)
    }
}

/// Where an order came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Origin {
    Schedule,
    Control,
}

/// Whether the order is ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushState {
    /// Not acknowledged yet; attempts continue.
    Pending,
    Acknowledged(DateTime<Utc>),
    /// Never acknowledged in time: lost to us.
    Reassigned(DateTime<Utc>),
}

/// Who put a status into an order's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum HistorySource {
    /// 10, set when 58 created the order.
    Push,
    /// An `updateOrderDetail` from us.
    Update,
}

#[derive(Clone, Debug)]
pub struct HistoryEntry {
    pub status: Status,
    pub at: DateTime<Utc>,
    pub source: HistorySource,
    /// `seq` of the update in `/_control/updates`.
    pub update_seq: Option<u64>,
}

/// One order 58 pushed (or is pushing) to us.
#[derive(Clone, Debug)]
pub struct Order {
    pub order_id: i64,
    pub origin: Origin,
    pub created_at: DateTime<Utc>,
    /// The createOrder body as first generated.
    pub create: CreateOrder,
    /// Exactly what every attempt and copy carries.
    pub daojia_json: String,
    pub push: PushState,
    /// Statuses walked, in order, starting with 10.
    pub path: Vec<Status>,
    pub history: Vec<HistoryEntry>,
    /// Ours, bound by the first accepted update.
    pub third_order_id: Option<String>,
    pub service_user_name: Option<String>,
    pub service_user_phone: Option<String>,
    /// Current price and lines; updates may change them until the order is paid.
    pub total_fen: i64,
    pub lines: Vec<OrderLine>,
}

impl Order {
    pub fn status(&self) -> Status {
        self.path.last().copied().unwrap_or(Status::Booking)
    }

    /// Price and details are frozen once 40 was reached.
    pub fn paid(&self) -> bool {
        self.path.contains(&Status::Paid)
    }
}

/// What an accepted update did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    pub from: Status,
    pub to: Status,
    /// The order already was in `to`: nothing moved.
    pub repeated: bool,
}

/// How one updateOrderDetail ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Accepted and the status moved.
    Applied,
    /// Accepted; the order already had that status.
    Repeated,
    /// Answered with a non-zero code; nothing changed.
    Refused,
    /// An injected HTTP 500/503; not looked at.
    Fault,
}

/// One updateOrderDetail as received, for `/_control/updates`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRecord {
    pub seq: u64,
    pub received_at: DateTime<Utc>,
    /// `form`, `json`, or `null` when the body could not be read.
    pub body_format: Option<&'static str>,
    /// The system parameters exactly as received.
    pub params: BTreeMap<String, String>,
    pub order_id: Option<i64>,
    pub third_order_id: Option<String>,
    /// The status asked for.
    pub order_status: Option<i32>,
    /// The order's status before the call, when it reached the order.
    pub from_status: Option<i32>,
    pub outcome: Outcome,
    pub code: i32,
    pub msg: String,
    pub http_status: u16,
    /// Extra wait before answering (slow answer or hang).
    pub answer_delay_ms: u64,
    /// The answer was held for `hangMs`, so the caller most likely timed out not knowing the
    /// outcome above.
    pub answer_withheld: bool,
}

/// A technician saved through saveServiceUser.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceUser {
    pub user_id: String,
    pub user_name: String,
    pub user_phone: String,
    pub user_age: Option<i64>,
    /// 1 male, 0 female.
    pub user_sex: i64,
    pub user_pic: Option<String>,
    pub user_remark: Option<String>,
    /// 1 active, 0 inactive.
    pub user_status: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it was saved.
    pub saves: u32,
}

/// A goods type saved through saveGoodsType.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GoodsType {
    pub type_id: String,
    /// `None` for a top-level type (`0` or absent).
    pub type_parent_id: Option<String>,
    pub type_name: String,
    pub type_remark: Option<String>,
    /// 1 on, 0 off.
    pub type_status: i64,
    pub create_time: Option<String>,
    pub service_code: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub saves: u32,
}

/// What `/_control/push` may fix instead of drawing at random. Anything left out is random
/// (and consistent); given values are taken as they are, so a test can also push an order
/// whose `totalPrice` does not match its lines.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Overrides {
    pub order_id: Option<i64>,
    pub user_mobile: Option<String>,
    pub city_id: Option<i64>,
    pub city_name: Option<String>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub service_address: Option<String>,
    pub service_begin_time: Option<String>,
    pub service_end_time: Option<String>,
    pub service_duration: Option<u32>,
    /// Yuan, number or string.
    pub total_price: Option<Value>,
    pub remark: Option<String>,
    /// Text or number.
    pub service_user_id: Option<Value>,
    pub order_details: Option<Vec<LineOverride>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineOverride {
    pub goods_id: i64,
    pub goods_number: u32,
    /// Yuan, number or string.
    pub goods_price: Value,
}

pub struct State {
    pub faults: FaultSet,
    pub schedule: Schedule,
    /// Our intake; nothing is pushed (or scheduled) until it is known.
    pub push_url: Option<String>,
    pub orders: BTreeMap<i64, Order>,
    pub deliveries: Vec<super::push::Delivery>,
    pub updates: Vec<UpdateRecord>,
    pub service_users: BTreeMap<String, ServiceUser>,
    pub goods_types: BTreeMap<String, GoodsType>,
    /// When the schedule creates its next order.
    pub next_scheduled_push: Option<DateTime<Utc>>,
    next_order_id: i64,
    next_update_seq: u64,
    next_batch: u64,
}

impl State {
    pub fn new(schedule: Schedule, faults: FaultSet) -> Self {
        State {
            faults,
            schedule,
            push_url: None,
            orders: BTreeMap::new(),
            deliveries: Vec::new(),
            updates: Vec::new(),
            service_users: BTreeMap::new(),
            goods_types: BTreeMap::new(),
            next_scheduled_push: None,
            next_order_id: EXAMPLE_ORDER_ID + 1,
            next_update_seq: 0,
            next_batch: 0,
        }
    }

    /// A number for a group of concurrent repush copies.
    pub fn next_batch(&mut self) -> u64 {
        self.next_batch += 1;
        self.next_batch
    }

    /// Creates an order and queues its push. `Err` explains a bad override.
    pub fn create_order(
        &mut self,
        overrides: &Overrides,
        origin: Origin,
        now: DateTime<Utc>,
    ) -> Result<i64, String> {
        let order_id = match overrides.order_id {
            Some(id) if id <= 0 => return Err("orderId must be positive".to_owned()),
            Some(id) if self.orders.contains_key(&id) => {
                return Err(format!("order {id} exists already"));
            }
            Some(id) => id,
            None => self.fresh_order_id(),
        };
        let city = overrides
            .city_id
            .and_then(seed::city_by_id)
            .or_else(|| overrides.city_name.as_deref().and_then(seed::city_by_name));
        let technicians: Vec<String> = self
            .service_users
            .values()
            .filter(|u| u.user_status == 1)
            .map(|u| u.user_id.clone())
            .collect();
        let mut create = seed::random_order(order_id, city, &technicians, now);
        apply_overrides(&mut create, overrides)?;
        let daojia_json = serde_json::to_string(&create)
            .map_err(|e| format!("cannot serialise the order: {e}"))?;
        let mut lines = create.order_details.clone();
        sort_lines(&mut lines);
        self.orders.insert(
            order_id,
            Order {
                order_id,
                origin,
                created_at: now,
                total_fen: create.total_price.0,
                lines,
                create,
                daojia_json,
                push: PushState::Pending,
                path: vec![Status::Booking],
                history: vec![HistoryEntry {
                    status: Status::Booking,
                    at: now,
                    source: HistorySource::Push,
                    update_seq: None,
                }],
                third_order_id: None,
                service_user_name: None,
                service_user_phone: None,
            },
        );
        self.enqueue(order_id, super::push::DeliveryKind::Original, None, now);
        Ok(order_id)
    }

    fn fresh_order_id(&mut self) -> i64 {
        loop {
            let id = self.next_order_id;
            self.next_order_id += 1;
            if !self.orders.contains_key(&id) {
                return id;
            }
        }
    }

    /// Whether an update for `order_id` may be looked at now: `Ok(true)` yes, `Ok(false)` not
    /// yet — the push is being answered at this very moment, so the caller should wait for that
    /// attempt's outcome instead of racing it.
    pub fn update_gate(&self, order_id: i64) -> Result<bool, Reject> {
        let order = self
            .orders
            .get(&order_id)
            .ok_or_else(|| Reject::of(code::UNKNOWN_ORDER))?;
        match order.push {
            PushState::Acknowledged(_) => Ok(true),
            PushState::Reassigned(_) => Err(Reject::of(code::ORDER_REASSIGNED)),
            PushState::Pending => {
                let answering = self
                    .deliveries
                    .iter()
                    .any(|d| d.order_id == order_id && d.in_flight);
                if answering {
                    Ok(false)
                } else {
                    Err(Reject::of(code::ORDER_NOT_ACKNOWLEDGED))
                }
            }
        }
    }

    /// Applies one update (all checks first, then every change at once). Log it right after,
    /// under the same lock, so the log's order is the order things happened in.
    pub fn apply_update(
        &mut self,
        req: &UpdateRequest,
        now: DateTime<Utc>,
    ) -> Result<Applied, Reject> {
        if !self.update_gate(req.order_id)? {
            return Err(Reject::of(code::ORDER_NOT_ACKNOWLEDGED));
        }
        let seq = self.next_update_seq;
        let order = self
            .orders
            .get_mut(&req.order_id)
            .ok_or_else(|| Reject::of(code::UNKNOWN_ORDER))?;
        if let Some(bound) = &order.third_order_id
            && *bound != req.third_order_id
        {
            return Err(Reject::with(
                code::THIRD_ORDER_MISMATCH,
                format!("thirdOrderId已绑定为{bound}"),
            ));
        }
        let from = order.status();
        let repeated = match judge(&order.path, req.status) {
            Transition::Refuse(reason) => {
                return Err(Reject::with(code::DISALLOWED_TRANSITION, reason));
            }
            Transition::Repeat => true,
            Transition::Move => false,
        };
        if order.paid() {
            let price_changes = req.total_fen.is_some_and(|t| t != order.total_fen);
            let lines_change = req.lines.as_ref().is_some_and(|l| *l != order.lines);
            if price_changes || lines_change {
                return Err(Reject::of(code::PRICE_LOCKED));
            }
        }
        order
            .third_order_id
            .get_or_insert_with(|| req.third_order_id.clone());
        if let Some(name) = &req.service_user_name {
            order.service_user_name = Some(name.clone());
        }
        if let Some(phone) = &req.service_user_phone {
            order.service_user_phone = Some(phone.clone());
        }
        if let Some(total) = req.total_fen {
            order.total_fen = total;
        }
        if let Some(lines) = &req.lines {
            order.lines = lines.clone();
        }
        if !repeated {
            order.path.push(req.status);
            order.history.push(HistoryEntry {
                status: req.status,
                at: now,
                source: HistorySource::Update,
                update_seq: Some(seq),
            });
        }
        Ok(Applied {
            from,
            to: req.status,
            repeated,
        })
    }

    /// The current status of an order, for the log.
    pub fn status_of(&self, order_id: i64) -> Option<Status> {
        self.orders.get(&order_id).map(Order::status)
    }

    /// Appends to `/_control/updates`, numbering the record.
    pub fn log_update(&mut self, mut record: UpdateRecord) {
        record.seq = self.next_update_seq;
        self.next_update_seq += 1;
        if self.updates.len() >= MAX_UPDATES_KEPT {
            self.updates.drain(..MAX_UPDATES_KEPT / 10);
        }
        self.updates.push(record);
    }
}
