//! 到位 (Daoway) channel API simulator.
//!
//! Follows the platform's channel API page (`seeds/001_1eb0328f654a2640.txt`) and nothing of our
//! adapter: catalogue, ordering against a pre-paid account, status queries, and the cancel
//! notification the partner must implement. Mount [`DaowaySandbox::router`] anywhere; its
//! platform routes sit at the router's root exactly as they sit under
//! `http://test.daoway.cn/daoway/rest/open/`.
//!
//! # Platform routes
//!
//! | route | answer `data` |
//! |---|---|
//! | `GET /categories` | `[{id, name, iconUrl}]` |
//! | `GET /services?channel&city&category&search&lng&lat&size&start` | `[{categoryId, categoryIconUrl, serviceId, title, imgUrl, priceId, price, priceUnit, priceName, tagIcons}]` |
//! | `GET /services/{serviceId}?channel` | the document's detail object, plus `city`, `lng`, `lat` (sandbox additions) |
//! | `POST /orders?channel` (JSON body) | `{orderId, consumedMoney, remainingMoney}` |
//! | `GET /orders/{orderId}/status?channel` | `"PENDING_CONFIRM"` / `"CONFIRMED"` / `"COMPLETED"` / `"CANCELLED"` |
//!
//! Success is `{"status":"ok","data":…}`. A refusal is HTTP 200 with
//! `{"status":"error","msg":"…"}`, `msg` being exactly one of:
//!
//! | msg | when |
//! |---|---|
//! | `缺少参数channel` | `channel` absent or empty on `/services`, `/services/{id}`, `POST /orders`, `/orders/{id}/status` |
//! | `渠道号不存在` | `channel` is not configured |
//! | `请求格式错误` | body not JSON, a field of the wrong JSON type, a `quantity` that is not a positive integer; non-numeric `size`/`start` |
//! | `用户名或密码错误` | `userName`/`password` do not match an account |
//! | `缺少参数X` | required order field X absent/blank: `serviceId`, `items`, `city`, `street`, `house`, `contactPerson`, `phone`, `appointTime` |
//! | `店铺不存在` | unknown `serviceId` (order or detail) |
//! | `价目不存在` | a `priceId` that is not one of the shop's prices |
//! | `起购数量为N` | a line's quantity below that price's `minBuyNum` N |
//! | `订单金额未达到起购金额` | items total below the shop's `minBuyPrice` |
//! | `预约时间格式错误` | `appointTime` not `YYYY-MM-DD HH:MM:SS` |
//! | `预约时间需提前N小时` | `appointTime` earlier than now + `aheadHours` (N like `24` or `1.5`) |
//! | `预约时间不在服务时间内` | time of day outside `[startTime, endTime)` or weekday not in `availableDays` |
//! | `余额不足` | balance below the order's consumed money |
//! | `订单不存在` | unknown order id, or an order placed through another channel |
//!
//! `POST /orders` checks in this order, the first failure answering: channel, body shape,
//! credentials, required fields, shop, every price exists, every `minBuyNum`, `minBuyPrice`,
//! `appointTime` (format, notice, hours and days), balance.
//!
//! Money: items total = Σ price × quantity; the shop's `fixFee` is added unless
//! `noFixFeePrice` > 0 and the items total reaches it (`noFixFeePrice` 0 means no threshold);
//! `consumedMoney` = total + fee, debited from the account. `appointTime` is Beijing time
//! (UTC+8) and is compared with the real clock. Days are 0 = Monday … 6 = Sunday.
//!
//! # Lifecycle and the cancel notification
//!
//! `PENDING_CONFIRM → CONFIRMED → COMPLETED`, and `CANCELLED` from either of the first two.
//! Confirmation and completion happen on a schedule (`confirm_after_secs` after creation,
//! `complete_after_secs` after confirmation) or through the control routes; cancellation only
//! through the control routes, standing in for the merchant or Daoway's staff. The document has
//! no route for the partner to cancel, so neither has the sandbox.
//!
//! A cancellation POSTs `application/x-www-form-urlencoded` `channel`, `orderId`,
//! `consumedMoney` (yuan, `23.4`), `contactPerson`, `phone`, `reason` to the URL given to
//! [`DaowaySandbox::set_cancel_notify_url`]. It counts as delivered only on HTTP 2xx with a JSON
//! body whose `result` is the string `"0"`; otherwise it is retried after
//! `notify_initial_backoff_ms`, doubling, capped at 60 s, up to `notify_max_attempts` POSTs.
//! Each POST times out after 10 s.
//!
//! Sandbox assumptions the document does not state: a cancelled order refunds its consumed money
//! to the account; the partner's URL is the same for every channel; `GET /categories` takes no
//! channel; a city that has no shops yields an empty list rather than an error.
//!
//! # Faults
//!
//! On platform routes only: `latencyMs` delays every answer; `errorRate` answers HTTP 503
//! `{"status":"error","msg":"系统繁忙"}` without touching state. On the cancel notification:
//! `dropCallbackRate` never sends it, `duplicateCallbackRate` sends it a second time after it was
//! accepted. The notification's fate is drawn when the order is cancelled.
//!
//! # Control routes (`/_control`, JSON in camelCase, never faulted)
//!
//! | route | effect |
//! |---|---|
//! | `GET /orders`, `GET /orders/{id}` | full order views, including the notification record and `statusQueries` (how often the partner polled the order) |
//! | `POST /orders/{id}/confirm` · `/complete` · `/cancel` (`{"reason"}` optional, default `商家取消`) | 200 view · 404 unknown · 409 not allowed |
//! | `GET`/`PUT /faults` | the [`Faults`] in force |
//! | `GET`/`PUT /accounts/{userName}` | `{userName, balanceFen}`; PUT `{"balanceFen", "password"?}` sets the balance (a password creates the account) |
//! | `GET`/`PUT /schedule` | `{"confirmAfterSecs", "completeAfterSecs"}`; `null` disables, an absent key is left as is |

mod api;
mod catalog;
mod control;
mod error;
mod money;
mod notify;
mod seed;
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

use self::store::{RetryPolicy, Schedule, State};
use crate::faults::Faults;

/// How the Daoway sandbox starts. Every field has a default, so an empty config section works.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, rename_all = "snake_case")]
pub struct DaowaySandboxConfig {
    /// Channel numbers the sandbox accepts (`channel` query parameter).
    pub channels: Vec<String>,
    /// Pre-paid accounts that may place orders.
    pub accounts: Vec<DaowayAccount>,
    /// Seconds after creation an order confirms on its own; `None` leaves it to the control route.
    pub confirm_after_secs: Option<u64>,
    /// Seconds after confirmation an order completes on its own; `None` leaves it to the control
    /// route.
    pub complete_after_secs: Option<u64>,
    /// First wait before retrying a refused cancel notification; doubles per failure up to 60 s.
    pub notify_initial_backoff_ms: u64,
    /// POSTs made for one cancel notification before giving up.
    pub notify_max_attempts: u32,
    /// Faults in force at start; changeable through `/_control/faults`.
    pub faults: Faults,
}

impl Default for DaowaySandboxConfig {
    fn default() -> Self {
        DaowaySandboxConfig {
            channels: vec!["orderhub".to_owned()],
            accounts: vec![DaowayAccount {
                user_name: "apitest".to_owned(),
                password: "api123".to_owned(),
                balance_fen: 1_000_000,
            }],
            confirm_after_secs: Some(30),
            complete_after_secs: Some(120),
            notify_initial_backoff_ms: 1_000,
            notify_max_attempts: 12,
            faults: Faults::default(),
        }
    }
}

/// A pre-paid Daoway account (the document's test account is `apitest` / `api123`).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct DaowayAccount {
    pub user_name: String,
    pub password: String,
    pub balance_fen: i64,
}

/// A running Daoway simulator. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct DaowaySandbox {
    inner: Arc<Inner>,
}

/// What the routes and the background task share.
struct Inner {
    channels: Vec<String>,
    retry: RetryPolicy,
    state: Mutex<State>,
    /// Wakes the background task when something may have become due earlier than it planned:
    /// a cancellation, a new partner URL.
    wake: Notify,
    http: reqwest::Client,
}

impl Inner {
    /// The state, even after a panic elsewhere (see [`crate::kit::start::lock`]).
    fn state(&self) -> MutexGuard<'_, State> {
        crate::kit::start::lock(&self.state)
    }

    fn faults(&self) -> Faults {
        self.state().faults.clone()
    }
}

/// Timeout of one cancel notification POST.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

impl DaowaySandbox {
    pub fn new(config: DaowaySandboxConfig) -> Self {
        let schedule = Schedule {
            confirm_after_secs: config.confirm_after_secs,
            complete_after_secs: config.complete_after_secs,
        };
        let http = crate::kit::start::http_client(
            reqwest::Client::builder().timeout(NOTIFY_TIMEOUT),
            "daoway",
        );
        DaowaySandbox {
            inner: Arc::new(Inner {
                channels: config.channels,
                retry: RetryPolicy {
                    initial_backoff_ms: config.notify_initial_backoff_ms,
                    max_attempts: config.notify_max_attempts,
                },
                state: Mutex::new(State::new(&config.accounts, config.faults, schedule)),
                wake: Notify::new(),
                http,
            }),
        }
    }

    /// Router with the platform's routes at its root and control routes under `/_control`.
    pub fn router(&self) -> Router {
        api::router(self.inner.clone()).nest("/_control", control::router(self.inner.clone()))
    }

    /// Where cancel notifications are POSTed (the partner's `cancel_order_notify_url`). Until
    /// it is set, notifications wait in the queue without using up attempts.
    pub fn set_cancel_notify_url(&self, url: String) {
        self.inner.state().notify_url = Some(url);
        self.inner.wake.notify_one();
    }

    /// Background work: scheduled status moves and the notification retry loop. Stops promptly
    /// when `shutdown` is cancelled, abandoning POSTs in flight.
    pub fn spawn(&self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(notify::run(self.inner.clone(), shutdown))
    }
}
