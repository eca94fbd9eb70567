//! 58到家 (58 Daojia) open-platform simulator.
//!
//! Follows `platforms/daojia58.md` (hosts, system parameters, the MD5 signing rule and its two
//! vectors, status codes and the two allowed sequences, the createOrder push) and the
//! integration guide `seeds/000_e6f72ff707c7587e.txt` (acknowledge within 3–5 s or lose the
//! order, retried pushes, duplicates, backoff), and nothing of our adapter: it signs and
//! verifies with its own [`sign`] module, parses with its own code and keeps money in fen.
//! Where 58 publishes nothing, the sandbox decides, and every such decision is listed under
//! [Assumptions](#assumptions) below — nowhere else.
//!
//! Mount [`Daojia58Sandbox::router`] anywhere: 58's routes sit at its root exactly as under
//! `https://sandboxapi.daojia.com`, the control routes under `/_control`.
//!
//! # 58's API (we call it)
//!
//! `POST`, body form-encoded or JSON, system parameters `accessToken`, `serviceKey`,
//! `format=json`, `timestamp` (`yyyy-MM-dd HH:mm:ss`, GMT+8), `daojiaJson` (the business
//! fields as one JSON string) and `sign`. The order of the checks is in `api.rs`.
//!
//! | route | `daojiaJson` | `data` on success | refusals besides the gate's |
//! |---|---|---|---|
//! | `/api/v1/order/updateOrderDetail` | `orderId`, `thirdOrderId`, `orderStatus`; optional `serviceUserName`, `serviceUserPhone`, `totalPrice`, `orderDetails` | `{orderId, thirdOrderId, orderStatus, previousStatus}` | 1004, 1007, 1008, 1011, 1005, 1010 (in that order) |
//! | `/api/v1/serviceUser/saveServiceUser` | `userId`, `userName`, `userPhone`, `userSex`; optional `userAge`, `userPic`, `userRemark`, `userStatus` | `{userId, created}` | — |
//! | `/api/v1/goodsType/saveGoodsType` | `typeId`, `typeName`, `typeStatus`; optional `typeParentId`, `typeRemark`, `createTime`, `serviceCode` | `{typeId, created}` | 1012 |
//!
//! Refusal codes (all HTTP 200, `{"code":N,"msg":"…","data":null}`): 1001 bad sign · 1002
//! timestamp outside the allowed skew · 1003 bad access token · 1004 unknown order · 1005
//! disallowed status move · 1006 missing/malformed/duplicated parameter (the message names it)
//! · 1007 order reassigned · 1008 push not acknowledged · 1009 unknown serviceKey · 1010 price
//! or details changed after payment · 1011 `thirdOrderId` differs from the bound one · 1012
//! unknown parent goods type. The table is `error.rs`.
//!
//! # Orders pushed to us
//!
//! Random, consistent `createOrder` orders (`seed.rs`) every `push_every_secs` while a push
//! URL is set ([`Daojia58Sandbox::set_push_url`]), and on demand through `/_control/push`. Each
//! is POSTed to our intake as `application/x-www-form-urlencoded` `serviceKey`, `nonce`,
//! `timestamp`, `daojiaJson`, `funId=createOrder`, `sign`. Acknowledgement, retries,
//! reassignment, duplicates and repushes are described in `push.rs`. Status moves are only
//! ours to make (`updateOrderDetail`); the sandbox moves no order by itself.
//!
//! # Faults
//!
//! On 58's routes (all three): `latencyMs` delays every answer; `errorRate` answers HTTP 503
//! `{"code":-1,"msg":"系统繁忙,请稍后重试","data":null}` or a plain-text HTTP 500 (half and
//! half) and changes nothing; `timeoutRate` processes the call and then withholds the answer
//! for `hangMs` (default 30 s); `slowRate` processes it and answers after `slowMs` (default
//! 2 s). On pushes: `duplicatePushRate`. `duplicateCallbackRate` and `dropCallbackRate` of the
//! shared [`Faults`] are refused here (400), since they would mean nothing.
//!
//! # Control routes (`/_control`, JSON camelCase, never faulted)
//!
//! | route | effect |
//! |---|---|
//! | `GET /orders`, `GET /orders/{orderId}` | the order (`order` as pushed and `daojiaJson`), `push` `pending`/`acknowledged`/`reassigned` (+ `acknowledgedAt`, `reassignedAt`), `status`, `paid`, `thirdOrderId`, technician, `totalPriceFen`, `history` `[{status, at, source push/update, updateSeq}]`, `pushAttempts`, `deliveries` `[{id, kind original/duplicate/repush, batch, state, attempts [{attempt, at, latencyMs, acknowledged, httpStatus, error, nonce, timestamp}]}]` |
//! | `POST /push` | optional overrides of any createOrder field (`orderId`, `cityName`, `orderDetails`, `totalPrice`, …; see `store::Overrides`): 201 order view; 400 bad override; 409 `orderId` taken |
//! | `POST /orders/{orderId}/repush` `{"copies": n}` | the same push again, `n` (1–100, default 1) copies at once: 202 `{queued, order}`; 404; 409 reassigned |
//! | `GET /updates?orderId=` | every updateOrderDetail in arrival order: `{seq, receivedAt, bodyFormat, params, orderId, thirdOrderId, orderStatus, fromStatus, outcome applied/repeated/refused/fault, code, msg, httpStatus, answerDelayMs, answerWithheld}` |
//! | `GET`/`PUT /faults` | `{latencyMs, errorRate, duplicateCallbackRate, dropCallbackRate, timeoutRate, hangMs, slowRate, slowMs, duplicatePushRate}`; PUT replaces |
//! | `GET`/`PUT /schedule` | `{pushEverySecs, ackDeadlineMs, pushRetryInitialMs, pushMaxAttempts}` (+ `nextScheduledPushAt`); `null` disables `pushEverySecs`, absent keeps |
//! | `GET /service-users`, `GET /goods-types` | what was saved |
//! | `GET`/`PUT /push-url` | `{"url"}`: our intake, as [`Daojia58Sandbox::set_push_url`] sets it |
//!
//! # Assumptions
//!
//! What 58 does not publish, decided here once:
//!
//! 1. **Access token.** The token endpoint and lifetime are not public. The sandbox has no
//!    token route and accepts exactly one configured `access_token` (default
//!    `64256A615F66CC8FBE38AFCFD26EA744`, the SDK vector's), which never expires.
//! 2. **Answer envelope and codes.** `{"code":0,"msg":"success","data":…}`; refusals HTTP 200
//!    with the codes 1001–1012 above; transient failures are HTTP 5xx, never a 200.
//! 3. **Body of our calls.** Both `application/x-www-form-urlencoded` and `application/json`
//!    (an object whose values are strings; numbers are read in decimal) are accepted;
//!    `daojiaJson` must be a string, never an embedded object. Repeated parameters are refused.
//! 4. **What is signed.** Every parameter received except `sign`, so an extra parameter must
//!    be signed too. Only upper-case hex is accepted. `timestamp` may be off by
//!    `clock_skew_secs` (600) either way.
//! 5. **The push's wire.** Form-encoded POST (58's system-parameter style) of `serviceKey`,
//!    `nonce` (32 hex chars), `timestamp`, `daojiaJson`, `funId`, signed with the same MD5
//!    rule and service secret into a field named `sign` (the real name and algorithm are not
//!    public). Every attempt gets a fresh `nonce` and `timestamp`; `daojiaJson` is byte for
//!    byte the same on every attempt and copy.
//! 6. **Acknowledgement.** Exactly the seed's shape: HTTP 200 and
//!    `{"code":200,"msg":"success","data":{"order_id":<the id>,"status":"received"}}`,
//!    `order_id` as a JSON integer or a string of its digits, within `ack_deadline_ms`
//!    (5000, the seed's upper bound) per attempt.
//! 7. **Retries.** Not public: after a failed attempt, retry after `push_retry_initial_ms`
//!    (1000) doubling per failure, capped at 60 s, `push_max_attempts` (6) attempts in all;
//!    then the order is reassigned. We are not told: we learn it from 1007 on our next update.
//!    An acknowledgement of any copy while attempts continue makes the order ours.
//! 8. **Cancellation push.** Not public; the sandbox only ever pushes `funId=createOrder` and
//!    never cancels an order on 58's side.
//! 9. **Status updates.** Required in `daojiaJson`: `orderId`, `thirdOrderId`, `orderStatus`;
//!    the technician fields are optional (validated when present). Repeating the current
//!    status is an idempotent success (code 0, logged as `repeated`), so an at-least-once
//!    sender is safe; older statuses and skipped steps are 1005; 70 is allowed from every
//!    non-final status. The first accepted update binds `thirdOrderId`. `totalPrice` /
//!    `orderDetails` may change until the order was paid (40), then only be repeated. An update
//!    for an order whose push is being answered at that moment waits for the outcome instead
//!    of racing it; one for an order with no acknowledgement yet is 1008.
//! 10. **Technicians and goods types.** Saved by `userId` / `typeId` (saving again updates);
//!     `userSex` and `typeStatus` are 1/0, `userStatus` 1 active / 0 inactive (default 1),
//!     `userAge` 16–80, `userPhone` a mainland mobile, `userPic` an http(s) URL,
//!     `typeParentId` `0`/absent or a type saved before, `createTime` in 58's time format.
//! 11. **Order content.** `cityId`s, `goodsId`s and prices are the sandbox's own (no public
//!     table). `serviceUserId` is the `userId` of a saved active technician the customer
//!     picked, or `""`. Order ids count up from the document's 31421593368511488 (exclusive):
//!     above 2^53, so a caller that passes them through a double is caught.
//! 12. **Source address.** Pushes come from wherever the sandbox runs; `push_source_ip`
//!     binds them to a given local address (e.g. `127.0.0.2`) to exercise an IP allow-list.

mod api;
mod control;
mod error;
mod money;
mod params;
mod push;
mod seed;
pub mod sign;
mod status;
mod store;
mod wire;

use std::{
    net::IpAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use axum::Router;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use self::store::{FaultSet, Schedule, State};
use crate::faults::Faults;

/// How the 58 sandbox starts. Every field has a default, so an empty config section works.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, rename_all = "snake_case")]
pub struct Daojia58SandboxConfig {
    /// The `serviceKey` 58 assigned us.
    pub service_key: String,
    /// The `serviceSecret` both sides sign with.
    pub service_secret: String,
    /// The one `accessToken` the sandbox accepts (assumption 1).
    pub access_token: String,
    /// A random order every so many seconds while a push URL is set; `None` or 0: only on
    /// demand.
    pub push_every_secs: Option<u64>,
    /// An attempt not acknowledged within this is a failure (at most 600 000).
    pub ack_deadline_ms: u64,
    /// Wait after the first failed attempt; doubles per failure up to 60 s.
    pub push_retry_initial_ms: u64,
    /// Attempts before the order is reassigned (lost to us).
    pub push_max_attempts: u32,
    /// How far `timestamp` may be from the sandbox's clock, either way.
    pub clock_skew_secs: u64,
    /// `latency_ms` and `error_rate` act on 58's routes; the callback rates must stay 0.
    pub faults: Faults,
    /// Probability (0–1) that a call to 58 is processed but its answer withheld `hang_ms`.
    pub timeout_rate: f64,
    pub hang_ms: u64,
    /// Probability (0–1) that a call to 58 is processed and answered after `slow_ms`.
    pub slow_rate: f64,
    pub slow_ms: u64,
    /// Probability (0–1) that an acknowledged push is sent again right away.
    pub duplicate_push_rate: f64,
    /// Local address pushes are sent from; `None` lets the system choose.
    pub push_source_ip: Option<IpAddr>,
}

impl Default for Daojia58SandboxConfig {
    fn default() -> Self {
        Daojia58SandboxConfig {
            service_key: "2801209652".to_owned(),
            service_secret: "daojia58_sandbox_secret".to_owned(),
            access_token: "64256A615F66CC8FBE38AFCFD26EA744".to_owned(),
            push_every_secs: Some(60),
            ack_deadline_ms: 5_000,
            push_retry_initial_ms: 1_000,
            push_max_attempts: 6,
            clock_skew_secs: 600,
            faults: Faults::default(),
            timeout_rate: 0.0,
            hang_ms: store::default_hang_ms(),
            slow_rate: 0.0,
            slow_ms: store::default_slow_ms(),
            duplicate_push_rate: 0.0,
            push_source_ip: None,
        }
    }
}

/// A running 58 simulator. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Daojia58Sandbox {
    inner: Arc<Inner>,
}

/// What the routes and the background task share.
struct Inner {
    service_key: String,
    service_secret: String,
    access_token: String,
    clock_skew_secs: u64,
    state: Mutex<State>,
    /// Wakes the background task when something may be due sooner than it planned.
    wake: Notify,
    /// Bumped after every recorded push attempt; an update racing a push waits on it.
    attempts: watch::Sender<u64>,
    http: reqwest::Client,
}

impl Inner {
    /// The state, even after a panic elsewhere (see [`crate::kit::start::lock`]).
    fn state(&self) -> MutexGuard<'_, State> {
        crate::kit::start::lock(&self.state)
    }
}

/// Connecting to our intake must not eat the whole acknowledgement deadline unnoticed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Daojia58Sandbox {
    pub fn new(config: Daojia58SandboxConfig) -> Self {
        let http = crate::kit::start::http_client(
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .local_address(config.push_source_ip),
            "58",
        );
        let faults = FaultSet {
            faults: config.faults,
            timeout_rate: config.timeout_rate,
            hang_ms: config.hang_ms,
            slow_rate: config.slow_rate,
            slow_ms: config.slow_ms,
            duplicate_push_rate: config.duplicate_push_rate,
        };
        let faults = match faults.validate() {
            Ok(()) => faults,
            Err(error) => {
                tracing::warn!(%error, "58 sandbox: invalid faults in config, starting without faults");
                FaultSet::default()
            }
        };
        let schedule = Schedule {
            push_every_secs: config.push_every_secs.filter(|s| *s > 0),
            ack_deadline_ms: config.ack_deadline_ms.clamp(1, store::MAX_ACK_DEADLINE_MS),
            push_retry_initial_ms: config.push_retry_initial_ms,
            push_max_attempts: config.push_max_attempts.max(1),
        };
        Daojia58Sandbox {
            inner: Arc::new(Inner {
                service_key: config.service_key,
                service_secret: config.service_secret,
                access_token: config.access_token,
                clock_skew_secs: config.clock_skew_secs,
                state: Mutex::new(State::new(schedule, faults)),
                wake: Notify::new(),
                attempts: watch::Sender::new(0),
                http,
            }),
        }
    }

    /// 58's routes at the root, control routes under `/_control`.
    pub fn router(&self) -> Router {
        api::router(self.inner.clone()).nest("/_control", control::router(self.inner.clone()))
    }

    /// Our intake URL. Until it is set, pushes wait (using up no attempts) and the schedule
    /// creates no orders.
    pub fn set_push_url(&self, url: String) {
        self.inner.state().push_url = Some(url);
        self.inner.wake.notify_one();
    }

    /// Background work: scheduled orders, push attempts and their retries. Stops promptly when
    /// `shutdown` is cancelled, abandoning attempts in flight.
    pub fn spawn(&self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(push::run(self.inner.clone(), shutdown))
    }
}
