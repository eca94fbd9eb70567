//! 微信小程序即时配送 (WeChat mini-program instant delivery) simulator.
//!
//! Follows `platforms/wechat.md` (endpoints, signing, status codes, pushes, message security,
//! error codes) and the seed `seeds/002_262eeefb0e588db8.txt`, and nothing of our adapter: it
//! signs, encrypts and parses with its own [`sign`], [`crypto`] and `params` modules and keeps
//! its own money in fen. Mount [`WechatSandbox::router`] anywhere; the platform paths sit at its
//! root exactly as under `https://api.weixin.qq.com`, the control routes under `/_control`.
//!
//! # Platform routes
//!
//! Tokens: `GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…` (a new token per
//! call) and `POST /cgi-bin/stable_token` `{grant_type, appid, secret, force_refresh}` (the same
//! token until it expires or is forced) answer `{"access_token", "expires_in"}`; refusals, in
//! this order: 40002 grant_type, 41002 / 41004 appid / secret missing, 40013 appid, 40125
//! secret (47001 for a stable_token body that is not JSON or a non-boolean `force_refresh`).
//!
//! Business routes are `POST /cgi-bin/express/local/business/<path>?access_token=…` with a JSON
//! body. Every one first answers 41001 (no token), 40001 (unknown, or a `/cgi-bin/token` token
//! replaced more than 5 minutes ago), 42001 (expired) or 47001 (body not a JSON object, or a
//! field of the wrong JSON type). Order calls then resolve the account and check
//! `delivery_sign` (930561, 930560, 930556, 930557; details in `orders.rs`).
//!
//! | path | answer besides `resultcode`/`resultmsg` | refusals (platform `errcode` · company `resultcode`) |
//! |---|---|---|
//! | `delivery/getall` | `list: [{delivery_id, delivery_name}]` | — |
//! | `shop/get` | `shop_list: [{delivery_id, shopid, audit_result}]` (bound accounts) | — |
//! | `shop/add` `{delivery_id}` | — (account goes to review, audit 1) | 930561 · 10001 already bound |
//! | `open` | — | — |
//! | `order/pre_add` | `fee, deliverfee, couponfee, tips, insurancefee, distance, dispatch_duration, delivery_token?` | body checks, 930562 live order · 10002 range, 10003 booking |
//! | `order/add` | `fee, deliverfee, couponfee, tips, insurancefee, distance, waybill_id, order_status (101), finish_code, pickup_code, dispatch_duration` | body checks, 930562, 930564 · 10002, 10003, 10004–10006 `delivery_token` |
//! | `order/readd` | as add | body checks, 930563, 930564 · 10011 not ended or delivered, 10002–10006 |
//! | `order/addtips` `{…, openid, tips, remark}` | — | 930559, 930561, 930563 · 10007 not 101, 10008 not larger |
//! | `order/get` | `order_status, waybill_id, rider_name, rider_phone, rider_lng, rider_lat, reach_time` | 930563 |
//! | `order/precancel` · `order/cancel` | `deduct_fee` (yuan), `desc` | 930561 reason, 930563, 930565 ended · 10009 after pick-up (Dada), 10010 returning |
//! | `order/confirm_return` | — (303/304/305 → 401) | 930563 · 10012 not returning |
//! | `test_update_order` `{shopid, shop_order_id, action_time, order_status, action_msg}` | — (moves and pushes) | 930561 not `test_shop_id` / not a TEST order / undocumented status, 930563 |
//!
//! The body checks of pre_add/add/readd (in order): `shop_order_id` ≤ 128 bytes, `openid`
//! (930559), Chinese escaped as `\uXXXX` (930570), `shop_no` registered (930567), `sender`,
//! `receiver`, `cargo` (`goods_value` (0, 5000] yuan, `goods_weight` (0, 50] kg, height (0, 45],
//! length (0, 65], width (0, 50] cm; a blank cargo class is 930570), `order_info`, then `shop`
//! (9300535). Platform refusals are `{"errcode": N, "errmsg": "… rid: …"}`, company refusals
//! `{"resultcode": N, "resultmsg": "…"}`, both HTTP 200 (see `error.rs`).
//!
//! # Orders, money and the clock
//!
//! Orders are keyed by `shop_order_id` across companies. Statuses: 101 → 102 (rider assigned) →
//! 201 (at the store) → 202 (picked up) → 301 (delivering) → 302 (delivered); merchant
//! cancellation ends in 103 (before the store), 203 (at it) or 303 (after pick-up: the goods
//! come back); 304/305 (receiver unreachable / refused) come from control routes; 303–305 end in
//! 401 through confirm_return; riders cancel with 204/205; the company ends orders with 501
//! (also automatically when nobody took it for `system_cancel_after_secs`) or 502.
//!
//! Moves happen on a schedule (`accept_after_secs` after dispatch, `arrive_after_secs` after
//! assignment, `pickup_after_secs` after arrival, `deliver_after_secs` after pick-up; per-company
//! overrides; `None` disables a step), dated when they fell due so an order aged through
//! `/_control` walks through each step. TEST orders are not scheduled: on WeChat's sandbox they
//! only move by mockUpdateOrder (and here also by control routes).
//!
//! Fees are each company's own model (`fee.rs`), in fen inside and yuan numbers on the wire;
//! TEST, SFTC, SS, MTPS and DADA price the same trip differently. The cancellation penalty
//! follows the company's [`CancelRule`].
//!
//! # Pushes
//!
//! Every status change after creation POSTs `update_waybill_status` `{ToUserName (the gh_ id),
//! FromUserName (the order's openid), CreateTime, MsgType "event", Event, shopid, shop_order_id,
//! shop_no, waybill_id, action_time, order_status, action_msg, agent {name, phone, reach_time}}`
//! to the push URL, encrypted in safe mode. Signing, encryption, what counts as delivered,
//! retries and faults are described in `deliver.rs`.
//!
//! # Faults
//!
//! Platform routes (tokens included): `latencyMs` delays every answer; `errorRate` answers
//! `{"errcode": -1, "errmsg": "system error rid: …"}` with HTTP 200 and changes nothing. Pushes:
//! `dropCallbackRate`, `duplicateCallbackRate`, and the sandbox's own `outOfOrderRate`.
//!
//! # Control routes (`/_control`)
//!
//! | route | effect |
//! |---|---|
//! | `GET /tokens` · `POST /tokens/expire` | `{issued, active}` · every token answers 42001 from now: `{expired, issued}` |
//! | `GET /orders`, `GET /orders/{shop_order_id}` | full views: request, fees in fen, rider, times, history, pushes with attempts/delivered/dropped/outOfOrder/heldBack flags |
//! | `POST /orders/{shop_order_id}/{action}` | `assign` `arrive` `pickup` `deliver` `return` (`{"reason": 303\|304\|305}`) `returned` `cancel-by-system` (501) `force-majeure` (502) `rider-cancel` (`{"reason": 204\|205}`) `age` (`{"secs"}`): 200 view, 404, 409 |
//! | `POST /quotes/{delivery_token}/age` `{"secs"}` | makes a pre_add quote older |
//! | `GET /pushes` | every push |
//! | `GET`/`PUT /push` | `{url, safeMode}`: where pushes go, encrypted or not |
//! | `POST /verify-url` `{"url"?, "echostr"?}` | GETs the push URL with `signature, timestamp, nonce, echostr`: `{…, status, body, echoed}` |
//! | `GET`/`PUT /faults` | `{latencyMs, errorRate, duplicateCallbackRate, dropCallbackRate, outOfOrderRate}`; PUT replaces |
//! | `GET`/`PUT /schedule` | `{acceptAfterSecs, arriveAfterSecs, pickupAfterSecs, deliverAfterSecs, systemCancelAfterSecs}`; `null` disables, absent keeps |
//! | `GET`/`PUT /quota` | `{dailyQuota, usedToday, day}` |
//! | `GET /companies` · `PUT /companies/{delivery_id}` | accounts; `{"bound"?, "auditResult"?, "outage"?: "timeout"\|"error"\|null, "acceptance"?, "baseFeeFen"?}` |
//! | `GET /stores` | the seeded stores |
//!
//! # What WeChat does not publish, and what the sandbox assumes
//!
//! Every choice below is the sandbox's; the notes are silent or uncertain on it.
//!
//! - A wrong `delivery_sign` is the platform's 930561 "argument invalid" (not a company error).
//! - Company `resultcode`s are the sandbox's own 10001–10012 (`error.rs`); the notes only say
//!   companies pass theirs through. Success has no `errcode` unless `errcode_on_success`.
//! - Bodies are typed: a value of the wrong JSON type is 47001, a missing or out-of-range one
//!   930561. Empty and `null` bodies read as `{}`.
//! - The daily quota (Beijing days) counts order/add and order/readd calls that pass the
//!   order-id check, whether or not the company then accepts; pre_add and the rest are free.
//! - A company account that is unbound, under review (1) or rejected (2) is 930560, as is a
//!   `shopid` that is not the account of the `delivery_id` sent. bindLocalAccount puts it under
//!   review; only `/_control/companies` passes it. openDelivery is recorded, never required.
//! - `order/add` with an id that was ever used is 930562 (readd is for ended orders); pre_add
//!   only while the order is live. readd may switch companies; the order keeps its timeline.
//! - A `waybill_id` that names another order is 930561; the order's current, pushed and earlier
//!   waybill ids are all accepted. TEST answers `<shop_order_id>_waybillid` but pushes
//!   `test_waybill_id_<shop_order_id>` (seen; `test_waybill_quirk`).
//! - Creation (101) and readd are not pushed; every later change is, mocks included.
//! - Merchant cancellation: 103 at 101/102, 203 at 201, 303 at 202/301 where allowed; not while
//!   returning (10010). Penalties, fees, dispatch times and ranges are the sandbox's models.
//! - `sender` may be left out with a registered `shop_no` except at SFTC (as the official
//!   parameter table says); cargo classes are optional, but not blank; Chinese escaped as
//!   `\uXXXX` is 930570 (seen blamed; `reject_escaped_unicode`).
//! - A `delivery_token` sent to a company that gives none is ignored; a used one is 10006.
//! - mockUpdateOrder needs no `delivery_sign` (its documented body has none) but checks one if
//!   sent; it may move an order to any documented status, even backwards.
//! - order/get reports `""`/0 for rider fields until a rider is assigned, and `reach_time` is an
//!   estimate (the delivery time once delivered, 0 once ended otherwise).
//! - Pushes are retried on any failure (the notes mark WeChat's retry as uncertain), and
//!   require the reply the notes describe; one POST per order is in flight at a time.
//! - `/cgi-bin/token` keeps replaced tokens valid for 5 minutes; `force_refresh` ends the old
//!   stable token at once; injected faults are HTTP 200 with errcode -1.

mod api;
mod control;
pub mod crypto;
mod deliver;
mod error;
mod fee;
mod money;
mod orders;
mod params;
mod seed;
pub mod sign;
mod store;
mod token;
mod wire;

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use axum::Router;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use self::{
    crypto::{CryptoError, MessageCrypto},
    deliver::RetryPolicy,
    store::{Schedule, Setup, State},
};
use crate::faults::Faults;

/// How the WeChat sandbox starts. Every field has a default, so an empty config section works.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, rename_all = "snake_case")]
pub struct WechatSandboxConfig {
    /// The mini-program's appid: `/cgi-bin/token` checks it, and safe-mode frames end with it.
    pub appid: String,
    /// The mini-program's AppSecret, for `/cgi-bin/token` and `/cgi-bin/stable_token`.
    pub secret: String,
    /// The message-push Token, in every push's `signature` and `msg_signature`.
    pub token: String,
    /// The message-push EncodingAESKey (43 characters).
    pub encoding_aes_key: String,
    /// Whether pushes are encrypted (safe mode, required for this feature) or plain JSON.
    pub safe_mode: bool,
    /// The mini-program's original id, `ToUserName` of every push.
    pub original_id: String,
    /// The users' openids the mini-program knows; any other is 930559.
    pub openids: Vec<String>,
    /// order/add and order/readd calls allowed per Beijing day (930564 beyond).
    pub daily_quota: u32,
    /// `expires_in` of every access_token.
    pub access_token_ttl_secs: u64,
    /// The courier companies, in `getall` order.
    pub companies: Vec<CompanyConfig>,
    /// 101 → 102 this long after dispatch; `None` leaves it to control routes.
    pub accept_after_secs: Option<u64>,
    /// 102 → 201 this long after assignment.
    pub arrive_after_secs: Option<u64>,
    /// 201 → 202 → 301 this long after arrival.
    pub pickup_after_secs: Option<u64>,
    /// 301 → 302 this long after pick-up.
    pub deliver_after_secs: Option<u64>,
    /// 101 → 501 when no rider took the order this long after dispatch.
    pub system_cancel_after_secs: Option<u64>,
    /// First wait before retrying a refused push; doubles per failure up to 60 s.
    pub push_initial_backoff_ms: u64,
    /// POSTs made for one push before giving up.
    pub push_max_attempts: u32,
    pub faults: Faults,
    /// Probability (0–1) that a push is held back and delivered after the order's next one.
    pub out_of_order_rate: f64,
    /// Adds `"errcode": 0, "errmsg": "ok"` to company-layer answers (the notes say it is absent;
    /// some real traffic has it).
    pub errcode_on_success: bool,
    /// TEST answers `waybill_id = "<shop_order_id>_waybillid"` at add but pushes
    /// `test_waybill_id_<shop_order_id>`, as WeChat's sandbox was seen to.
    pub test_waybill_quirk: bool,
    /// Refuses order bodies that escape Chinese as `\uXXXX` with 930570, as seen.
    pub reject_escaped_unicode: bool,
}

impl Default for WechatSandboxConfig {
    fn default() -> Self {
        WechatSandboxConfig {
            appid: "wx5ba5fad812f8e6fb".to_owned(),
            secret: "wechat_sandbox_secret".to_owned(),
            token: "wechat_sandbox_token".to_owned(),
            encoding_aes_key: "b3JkZXJodWItd2VjaGF0LXNhbmRib3gtYWVzLWtleSE".to_owned(),
            safe_mode: true,
            original_id: "gh_5ba5fad812f8".to_owned(),
            openids: vec!["o_sandbox_user_1".to_owned()],
            daily_quota: 500,
            access_token_ttl_secs: 7200,
            companies: seed::companies(),
            accept_after_secs: Some(20),
            arrive_after_secs: Some(30),
            pickup_after_secs: Some(30),
            deliver_after_secs: Some(90),
            system_cancel_after_secs: Some(3600),
            push_initial_backoff_ms: 1_000,
            push_max_attempts: 10,
            faults: Faults::default(),
            out_of_order_rate: 0.0,
            errcode_on_success: false,
            test_waybill_quirk: true,
            reject_escaped_unicode: true,
        }
    }
}

/// One courier company and the mini-program's account at it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, rename_all = "snake_case")]
pub struct CompanyConfig {
    /// `delivery_id`, e.g. `SFTC`.
    pub delivery_id: String,
    /// `delivery_name` in getall.
    pub name: String,
    /// The account's appkey at the company, sent as `shopid`.
    pub shopid: String,
    /// The account's AppSecret, the key of `delivery_sign`.
    pub app_secret: String,
    /// Whether the account is bound at start (unbound: 930560 until bindLocalAccount).
    pub bound: bool,
    /// 0 passed, 1 reviewing, 2 rejected; only 0 may order.
    pub audit_result: u8,
    /// Freight for the first `free_distance_m` and `free_weight_g`.
    pub base_fee_fen: i64,
    pub free_distance_m: u64,
    /// Per started kilometre beyond the free distance.
    pub per_km_fen: i64,
    pub free_weight_g: u64,
    /// Per started kilogram beyond the free weight.
    pub per_kg_fen: i64,
    /// Beyond this the company refuses (company error 10002).
    pub max_distance_m: u64,
    /// pre_add answers a `delivery_token` that add may carry.
    pub gives_delivery_token: bool,
    /// How long a `delivery_token` holds.
    pub token_ttl_secs: u64,
    /// `dispatch_duration`: expected minutes until a rider takes the order.
    pub dispatch_minutes: u64,
    /// What cancelling costs, and whether it is allowed after pick-up.
    pub cancel_rule: CancelRule,
    /// `sender` must be sent (SFTC); others take the store of `shop_no` when it is left out.
    pub sender_required: bool,
    /// How far ahead a booked order may be (company error 10003 beyond).
    pub max_booking_hours: u64,
    /// Whether the schedule moves this company's orders; TEST's only move through
    /// mockUpdateOrder and control routes, as on WeChat's sandbox.
    pub scheduled: bool,
    /// Overrides of the global schedule for this company (`None`: use the global step).
    pub accept_after_secs: Option<u64>,
    pub arrive_after_secs: Option<u64>,
    pub pickup_after_secs: Option<u64>,
    pub deliver_after_secs: Option<u64>,
}

impl Default for CompanyConfig {
    fn default() -> Self {
        CompanyConfig {
            delivery_id: String::new(),
            name: String::new(),
            shopid: String::new(),
            app_secret: String::new(),
            bound: true,
            audit_result: 0,
            base_fee_fen: 1000,
            free_distance_m: 3_000,
            per_km_fen: 100,
            free_weight_g: 5_000,
            per_kg_fen: 100,
            max_distance_m: 30_000,
            gives_delivery_token: false,
            token_ttl_secs: 180,
            dispatch_minutes: 5,
            cancel_rule: CancelRule::default(),
            sender_required: false,
            max_booking_hours: 168,
            scheduled: true,
            accept_after_secs: None,
            arrive_after_secs: None,
            pickup_after_secs: None,
            deliver_after_secs: None,
        }
    }
}

/// A company's cancellation penalties, in fen; never more than the order was charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "snake_case")]
pub struct CancelRule {
    /// Once a rider is assigned (102).
    pub after_assign_fen: i64,
    /// Once the rider is at the store (201).
    pub after_arrive_fen: i64,
    /// After pick-up (202, 301); `None`: not cancellable any more (Dada).
    pub after_pickup_fen: Option<i64>,
    /// Seconds after the rider is assigned during which cancelling before pick-up is still
    /// free (Dada's one minute); 0: charged from the assignment on.
    pub free_secs_after_assign: u64,
}

impl Default for CancelRule {
    fn default() -> Self {
        CancelRule {
            after_assign_fen: 200,
            after_arrive_fen: 200,
            after_pickup_fen: Some(500),
            free_secs_after_assign: 0,
        }
    }
}

/// A store registered under the same `shop_no` at every company.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeedStore {
    pub shop_no: String,
    pub name: String,
    pub city: String,
    pub address: String,
    pub address_detail: String,
    pub phone: String,
    pub lng: f64,
    pub lat: f64,
}

/// The stores registered under the same `shop_no` at every company from the start, for a
/// default run that wants something to dispatch from.
pub fn seeded_stores() -> Vec<SeedStore> {
    seed::stores()
}

/// A running WeChat simulator. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct WechatSandbox {
    inner: Arc<Inner>,
}

/// What the routes and the background task share.
struct Inner {
    appid: String,
    secret: String,
    /// The message-push Token.
    push_token: String,
    /// `Err` when the configured EncodingAESKey is unusable: safe-mode pushes then fail (and
    /// say why) instead of the sandbox refusing to start.
    crypto: Result<MessageCrypto, CryptoError>,
    openids: Vec<String>,
    access_token_ttl_secs: u64,
    errcode_on_success: bool,
    reject_escaped_unicode: bool,
    retry: RetryPolicy,
    state: Mutex<State>,
    /// Wakes the background task when something may be due sooner than it planned.
    wake: Notify,
    http: reqwest::Client,
}

impl Inner {
    /// The state, even after a panic elsewhere (see [`crate::kit::start::lock`]).
    fn state(&self) -> MutexGuard<'_, State> {
        crate::kit::start::lock(&self.state)
    }
}

/// Timeout of one push or URL-check request.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

impl WechatSandbox {
    pub fn new(config: WechatSandboxConfig) -> Self {
        let http = crate::kit::start::http_client(
            reqwest::Client::builder().timeout(DELIVERY_TIMEOUT),
            "wechat",
        );
        let crypto = MessageCrypto::new(&config.encoding_aes_key);
        if let Err(error) = &crypto {
            tracing::warn!(%error, "wechat sandbox: safe-mode pushes will fail");
        }
        let state = State::new(
            Setup {
                companies: config.companies,
                daily_quota: config.daily_quota,
                schedule: Schedule {
                    accept_after_secs: config.accept_after_secs,
                    arrive_after_secs: config.arrive_after_secs,
                    pickup_after_secs: config.pickup_after_secs,
                    deliver_after_secs: config.deliver_after_secs,
                    system_cancel_after_secs: config.system_cancel_after_secs,
                },
                faults: config.faults,
                out_of_order_rate: config.out_of_order_rate,
                safe_mode: config.safe_mode,
                original_id: config.original_id,
                test_waybill_quirk: config.test_waybill_quirk,
            },
            Utc::now(),
        );
        WechatSandbox {
            inner: Arc::new(Inner {
                appid: config.appid,
                secret: config.secret,
                push_token: config.token,
                crypto,
                openids: config.openids,
                access_token_ttl_secs: config.access_token_ttl_secs,
                errcode_on_success: config.errcode_on_success,
                reject_escaped_unicode: config.reject_escaped_unicode,
                retry: RetryPolicy {
                    initial_backoff_ms: config.push_initial_backoff_ms,
                    max_attempts: config.push_max_attempts.max(1),
                },
                state: Mutex::new(state),
                wake: Notify::new(),
                http,
            }),
        }
    }

    /// Platform routes at the root (as under `https://api.weixin.qq.com`), control routes under
    /// `/_control`.
    pub fn router(&self) -> Router {
        api::router(self.inner.clone()).nest("/_control", control::router(self.inner.clone()))
    }

    /// The stores registered at every company from the start (same as [`seeded_stores`]).
    pub fn seeded_stores() -> Vec<SeedStore> {
        seed::stores()
    }

    /// Our message-push URL. Until it is set, pushes wait without using up attempts.
    pub fn set_push_url(&self, url: String) {
        self.inner.state().push_url = Some(url);
        self.inner.wake.notify_one();
    }

    /// Background work: scheduled moves and push delivery. Stops promptly when `shutdown` is
    /// cancelled, abandoning POSTs in flight.
    pub fn spawn(&self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(deliver::run(self.inner.clone(), shutdown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_section_is_the_default() {
        let parsed: WechatSandboxConfig =
            serde_json::from_str("{}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.appid, "wx5ba5fad812f8e6fb");
        assert_eq!(parsed.daily_quota, 500);
        assert_eq!(parsed.companies.len(), 5);
        assert!(MessageCrypto::new(&parsed.encoding_aes_key).is_ok());
        let custom: WechatSandboxConfig =
            serde_json::from_str(r#"{"safe_mode": false, "companies": [{"delivery_id": "X", "cancel_rule": {"after_pickup_fen": null}}]}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert!(!custom.safe_mode);
        let x = &custom.companies[0];
        assert_eq!(x.delivery_id, "X");
        assert_eq!(x.base_fee_fen, 1000);
        assert_eq!(x.cancel_rule.after_pickup_fen, None);
        assert_eq!(x.cancel_rule.after_assign_fen, 200);
    }

    #[test]
    fn seeded_stores_are_in_shanghai_and_beijing() {
        let stores = seeded_stores();
        assert_eq!(stores.len(), 3);
        assert!(stores.iter().any(|s| s.city.starts_with("北京")));
        assert!(stores.iter().all(|s| s.lng > 100.0 && s.lat > 20.0));
    }
}
