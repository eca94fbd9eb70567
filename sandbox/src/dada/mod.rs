//! 达达 (Dada) open-platform simulator.
//!
//! Follows `platforms/dada.md` (wire, signing, codes) and the API page
//! `seeds/003_b44e3705bf7d61ff.txt` (fields), and nothing of our adapter: it signs and verifies
//! with its own [`sign`] module, reads bodies with its own parser and keeps its own money in fen.
//! Mount [`DadaSandbox::router`] anywhere; the platform paths sit at its root exactly as under
//! `https://newopen.imdada.cn`, the control routes under `/_control`.
//!
//! # Requests
//!
//! Every platform route is `POST` with `Content-Type: application/json` and the envelope
//! `{app_key, body, format:"json", source_id, timestamp, v:"1.0", signature}`, `body` being the
//! business parameters as a JSON string (`""` when there are none). The order of envelope
//! checks and their codes is in `api.rs`; the order of the order-body checks in `orders.rs`.
//! Answers are HTTP 200 `{"status":"success","code":0,"msg":"成功","result":…}` (no `result` for
//! calls that return nothing) or `{"status":"fail","code":N,"errorCode":N,"msg":"…"}`.
//!
//! | route | result | refusals besides the envelope's |
//! |---|---|---|
//! | `/api/order/addOrder` | `{distance, fee, deliverFee, couponFee, tips, insuranceFee}` | body checks, 2004, 2132, 2044, 2105, 2155 |
//! | `/api/order/reAddOrder` | same | body checks, 2005, 2060 (status 1/8), 2061 (not 5/7/10), 2155 |
//! | `/api/order/queryDeliverFee` | same + `deliveryNo` (valid 3 min) | body checks, 2130 (order live) |
//! | `/api/order/addAfterQuery` `{deliveryNo}` | same + `deliveryNo` | 2078, 2062 (expired or unknown), 2065 (used), 2063 (order published since), 2155 |
//! | `/api/order/addTip` `{order_id, tips, city_code, info}` | — | 2005, 2126, 2055, 2059, 2057, 2077, 2155 |
//! | `/api/order/status/query` `{order_id}` | `{orderId, statusCode, statusMsg, transporterName, transporterPhone, transporterLng, transporterLat, deliveryFee, tips, couponFee, insuranceFee, actualFee, distance, createTime, acceptTime, fetchTime, finishTime, cancelTime, orderFinishCode, deductFee}` | 2005 |
//! | `/api/order/formalCancel` `{order_id, cancel_reason_id, cancel_reason}` | `{deduct_fee}`; allowed in 1, 8, 2 and 100 | 2048, 2457, 2049, 2005, 2050 (3), 2051 (4), 2052 (7), 2076 (5), 2458 (9), 2459 (10), 2460 (1000) |
//! | `/api/order/cancel/reasons` | `[{id, reason}]` | — |
//! | `/api/order/appoint/exist` `{order_id, transporter_id, shop_no}` | — | 2004, 2005, 2070 (not waiting), 1994 (courier not appointable) |
//! | `/api/order/appoint/cancel` `{order_id}` | — | 2005, 2070 (not appointed) |
//! | `/api/order/appoint/list/transporter` `{shop_no}` | `[{id, name, city_id, phone}]` | 2004 |
//! | `/api/complaint/dada` `{order_id, reason_id}` | — | 2005, 1994, 2134 |
//! | `/api/complaint/reasons` | `[{id, reason}]` | — |
//! | `/api/order/confirm/goods` `{order_id}` | — | 2005, 2082 |
//! | `/api/order/transporter/position` `{orderIds}` | `[{orderId, transporterId, transporterName, transporterPhone, transporterLng, transporterLat}]` | 1993, 1994 (> 50) |
//! | `/api/order/transporter/track` `{order_id}` | `{trackUrl}` | 2005 |
//! | `/api/cityCode/list` | `[{cityName, cityCode}]` | — |
//! | `/merchantApi/merchant/add` (`source_id` `""`) | new `source_id` (number) | 1993, 2044 |
//! | `/api/shop/add` (array) | `{success, successList, failedList}` | per shop: 1993, 2044, 2403 |
//! | `/api/shop/update` | — | 1993, 2402, 2403, 2406, 2044 |
//! | `/api/shop/detail` `{origin_shop_id}` | the shop, snake_case | 2402 |
//! | `/api/recharge` `{amount, category PC/H5, notify_url}` | cashier URL (string) | 1993, 1994 |
//! | `/api/balance/query` `{category}` | `{deliverBalance?, redPacketBalance?}` | 1994 |
//! | `/api/message/confirm` `{messageType 1, messageBody}` | — | 1993, 1994, 2005, 2012 (no pending request) |
//! | `/api/order/accept` · `fetch` · `finish` · `cancel` · `expire` · `delivery/abnormal/back` `{order_id}` | — | 2068 (production), 2005, 2083, 2012 |
//!
//! # Orders, money and the clock
//!
//! Statuses: 1 waiting → (8 appointed) → 2 accepted → (100 at store) → 3 delivering → 4
//! delivered; 5 cancelled, 7 expired, 9 returning → 10 returned, 1000 waybill failed (a new
//! addOrder with the same `origin_id` is then allowed). Publishing debits freight + tips +
//! insurance from the merchant's balance (2155 if short); a tip raise debits the difference;
//! cancellations refund what was paid minus the penalty (`fee.rs` has the model and the penalty
//! rule); expiry, Dada-side cancellation, the courier's cancellation and 1000 refund everything; a
//! delivered or returned order keeps its fee. `actualFee` is what the order costs the merchant
//! now. Recharging is real: the URL `/api/recharge` hands out is `/_control/recharge/{token}`
//! under the sandbox's own address, and fetching it credits the amount once.
//!
//! Orders move on their own: `accept_after_secs` after publication (to the appointed courier if
//! any), `fetch_after_secs` after acceptance, `finish_after_secs` after pick-up (`None` disables
//! a step); unaccepted orders are cancelled by the system (`cancel_from` 3) after
//! `auto_cancel_after_secs` — continuously, not in Dada's 02:00 batch. Scheduled moves are dated
//! when they fell due, so an order aged through `/_control` catches up step by step. Courier
//! arrival (100) only happens through the control route.
//!
//! Appointing is open to the couriers who accepted one of the shop's orders in the last hour and
//! have not finished it, plus seeded regulars (see `seed.rs`); only while the order waits (1).
//!
//! # Callbacks and messages
//!
//! Every status change POSTs the signed callback `{client_id, order_id, order_status,
//! repeat_reason_type, cancel_reason, cancel_from, update_time, signature, dm_id, dm_name,
//! dm_mobile, finish_code}` to the order's `callback` URL, status 1 included. `client_id` is the
//! waybill number (`""` for 1000), `update_time` unix seconds (milliseconds for 1000),
//! `repeat_reason_type` always 0, `cancel_from` 1 courier / 2 merchant / 3 Dada or system. A
//! courier's cancel request ([`DadaSandbox::set_message_url`]) is pushed as
//! `{"messageType":1,"messageBody":"{\"orderId\",\"dadaOrderId\",\"cancelReason\"}"}`. Delivery,
//! retries and faults are described in `deliver.rs`.
//!
//! # Faults
//!
//! Platform routes: `latencyMs` delays every answer; `errorRate` answers HTTP 503 with
//! `{"status":"fail","code":-1,"errorCode":-1,"msg":"系统异常,请稍后重试"}` and changes nothing.
//! Callbacks: `dropCallbackRate`, `duplicateCallbackRate`, and the sandbox's own
//! `outOfOrderRate`.
//!
//! # Control routes (`/_control`)
//!
//! | route | effect |
//! |---|---|
//! | `GET /orders`, `GET /orders/{origin_id}?sourceId=` | full views: request, fees in fen, courier, times, history, callbacks with attempts/delivered/dropped/outOfOrder flags, messages |
//! | `POST /orders/{origin_id}/{action}` | `accept` `arrive` `fetch` `finish` `cancel` `expire` `abnormal-back` `fail` `courier-cancel-request` (`{"reason"}`) `age` (`{"secs"}`): 200 view, 404, 409 `{error, code}` |
//! | `POST /quotes/{deliveryNo}/age` `{"secs"}` | makes a quote older |
//! | `GET`/`PUT /faults` | `{latencyMs, errorRate, duplicateCallbackRate, dropCallbackRate, outOfOrderRate}`; PUT replaces |
//! | `GET`/`PUT /schedule` | `{acceptAfterSecs, fetchAfterSecs, finishAfterSecs, autoCancelAfterSecs}`; `null` disables, absent keeps |
//! | `GET`/`PUT /acceptance` | `{minMs, maxMs, neverRate?, lateRate?, seed?}`: each order accepted after a delay drawn from its reference, or never, or (`lateRate`) in the instant a cancellation arrives; `null` goes back to `acceptAfterSecs` |
//! | `GET`/`PUT /balance` | `{balanceFen, redPacketBalanceFen, sourceId?}` (default merchant) |
//! | `GET /recharge/{token}` | pays a recharge link |
//! | `GET /track/{origin_id}` | where a `trackUrl` points: the courier's position |
//! | `GET /shops`, `GET /merchants` | what is registered |

mod api;
mod control;
mod deliver;
mod error;
mod fee;
mod merchant;
mod money;
mod orders;
mod params;
mod seed;
pub mod sign;
mod store;
mod wire;

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use axum::Router;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use self::{
    deliver::RetryPolicy,
    store::{Schedule, State},
};
use crate::faults::Faults;

/// How the Dada sandbox starts. Every field has a default, so an empty config section works.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, rename_all = "snake_case")]
pub struct DadaSandboxConfig {
    pub app_key: String,
    pub app_secret: String,
    /// The merchant that exists from the start and owns the seeded shops.
    pub source_id: String,
    /// Starting freight balance of that merchant.
    pub balance_fen: i64,
    /// Whether Dada's test-environment simulation routes work (else 2068), and whether an
    /// unknown `source_id` is 2131 (test) or 2002 (production).
    pub test_environment: bool,
    /// Seconds from publication to acceptance; `None` leaves it to simulation or control.
    pub accept_after_secs: Option<u64>,
    /// Seconds from acceptance to pick-up.
    pub fetch_after_secs: Option<u64>,
    /// Seconds from pick-up to delivery.
    pub finish_after_secs: Option<u64>,
    /// Unaccepted orders are cancelled by the system after this long.
    pub auto_cancel_after_secs: u64,
    /// First wait before retrying a refused callback; doubles per failure up to 60 s.
    pub callback_initial_backoff_ms: u64,
    /// POSTs made for one callback before giving up.
    pub callback_max_attempts: u32,
    pub faults: Faults,
    /// Probability (0–1) that a callback is held back and delivered after the order's next one.
    pub out_of_order_rate: f64,
}

impl Default for DadaSandboxConfig {
    fn default() -> Self {
        DadaSandboxConfig {
            app_key: "dada_sandbox_key".to_owned(),
            app_secret: "dada_sandbox_secret".to_owned(),
            source_id: "73753".to_owned(),
            balance_fen: 1_000_000,
            test_environment: true,
            accept_after_secs: Some(20),
            fetch_after_secs: Some(40),
            finish_after_secs: Some(90),
            auto_cancel_after_secs: 72 * 3600,
            callback_initial_backoff_ms: 1_000,
            callback_max_attempts: 10,
            faults: Faults::default(),
            out_of_order_rate: 0.0,
        }
    }
}

/// A running Dada simulator. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct DadaSandbox {
    inner: Arc<Inner>,
}

/// What the routes and the background task share.
struct Inner {
    app_key: String,
    app_secret: String,
    source_id: String,
    test_environment: bool,
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

/// Timeout of one callback or message POST.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

impl DadaSandbox {
    pub fn new(config: DadaSandboxConfig) -> Self {
        let http = crate::kit::start::http_client(
            reqwest::Client::builder().timeout(DELIVERY_TIMEOUT),
            "dada",
        );
        let schedule = Schedule {
            accept_after_secs: config.accept_after_secs,
            acceptance: None,
            fetch_after_secs: config.fetch_after_secs,
            finish_after_secs: config.finish_after_secs,
            auto_cancel_after_secs: config.auto_cancel_after_secs,
        };
        let state = State::new(
            &config.source_id,
            config.balance_fen,
            schedule,
            config.faults,
            config.out_of_order_rate,
        );
        DadaSandbox {
            inner: Arc::new(Inner {
                app_key: config.app_key,
                app_secret: config.app_secret,
                source_id: config.source_id,
                test_environment: config.test_environment,
                retry: RetryPolicy {
                    initial_backoff_ms: config.callback_initial_backoff_ms,
                    max_attempts: config.callback_max_attempts.max(1),
                },
                state: Mutex::new(state),
                wake: Notify::new(),
                http,
            }),
        }
    }

    /// Platform routes at the root, control routes under `/_control`.
    pub fn router(&self) -> Router {
        api::router(self.inner.clone()).nest("/_control", control::router(self.inner.clone()))
    }

    /// Numbers of the stores seeded at start (the documented test shop first), for a default
    /// run that wants something to dispatch from.
    pub fn seeded_shop_numbers() -> Vec<String> {
        seed::SHOPS
            .iter()
            .map(|s| s.origin_shop_id.to_owned())
            .collect()
    }

    /// Where message pushes (a courier asking to cancel, messageType 1) are POSTed. Until it is
    /// set, messages wait without using up attempts.
    pub fn set_message_url(&self, url: String) {
        self.inner.state().message_url = Some(url);
        self.inner.wake.notify_one();
    }

    /// Background work: scheduled moves, the 72 h auto-cancel, callback and message delivery.
    /// Stops promptly when `shutdown` is cancelled, abandoning POSTs in flight.
    pub fn spawn(&self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(deliver::run(self.inner.clone(), shutdown))
    }
}
