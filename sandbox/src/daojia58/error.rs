//! The answer envelope and refusal codes of 58's API, as this sandbox assumes them.
//!
//! 58 publishes neither (see "Assumptions" in the module doc of `daojia58`), so this file is the
//! one place they are defined: success is HTTP 200 `{"code":0,"msg":"success","data":…}`, a
//! refusal HTTP 200 `{"code":N,"msg":"…","data":null}` with `N` from [`code`]. An injected fault
//! is a transport-level failure instead — HTTP 503 with `code` -1, or a bare HTTP 500 — so a
//! caller cannot mistake it for a business refusal and must retry it.

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::Value;

use crate::kit::reject::CodeTable;

/// The refusal codes, named. Every one is answered with HTTP 200.
pub mod code {
    /// Injected fault only (HTTP 503).
    pub const SYSTEM_BUSY: i32 = -1;
    pub const BAD_SIGN: i32 = 1001;
    /// `timestamp` more than the allowed skew away from the sandbox's clock.
    pub const STALE_TIMESTAMP: i32 = 1002;
    pub const BAD_TOKEN: i32 = 1003;
    pub const UNKNOWN_ORDER: i32 = 1004;
    pub const DISALLOWED_TRANSITION: i32 = 1005;
    /// A parameter missing, empty, duplicated or malformed; the message names it.
    pub const BAD_PARAMS: i32 = 1006;
    /// The push was never acknowledged in time and the order went to another provider.
    pub const ORDER_REASSIGNED: i32 = 1007;
    /// The push has not been acknowledged (yet): a failed attempt, a retry still to come.
    pub const ORDER_NOT_ACKNOWLEDGED: i32 = 1008;
    pub const BAD_SERVICE_KEY: i32 = 1009;
    /// Price or details changed after the order was paid (40).
    pub const PRICE_LOCKED: i32 = 1010;
    /// `thirdOrderId` differs from the one the order is already bound to.
    pub const THIRD_ORDER_MISMATCH: i32 = 1011;
    /// saveGoodsType: `typeParentId` names a type that was never saved.
    pub const UNKNOWN_PARENT_TYPE: i32 = 1012;
}

/// 58's code table, the messages behind [`Reject::of`].
#[derive(Clone, Copy, Debug)]
pub struct Daojia58Codes;

impl CodeTable for Daojia58Codes {
    fn default_msg(code: i32) -> &'static str {
        default_msg(code)
    }
}

/// A 58 refusal: the code and the message the caller sees.
pub type Reject = crate::kit::reject::Reject<Daojia58Codes>;

impl Reject {
    /// 1006 for an absent or empty parameter.
    pub fn missing(name: &str) -> Self {
        Reject::with(code::BAD_PARAMS, format!("缺少参数{name}"))
    }

    /// 1006 for a malformed parameter.
    pub fn format(name: &str) -> Self {
        Reject::with(code::BAD_PARAMS, format!("参数{name}格式错误"))
    }
}

fn default_msg(c: i32) -> &'static str {
    use code::*;
    match c {
        SYSTEM_BUSY => "系统繁忙,请稍后重试",
        BAD_SIGN => "签名错误",
        STALE_TIMESTAMP => "时间戳已过期",
        BAD_TOKEN => "accessToken无效",
        UNKNOWN_ORDER => "订单不存在",
        DISALLOWED_TRANSITION => "订单状态不允许该变更",
        BAD_PARAMS => "参数错误",
        ORDER_REASSIGNED => "订单已改派",
        ORDER_NOT_ACKNOWLEDGED => "订单尚未确认接收",
        BAD_SERVICE_KEY => "serviceKey无效",
        PRICE_LOCKED => "订单已支付,价格和明细不能修改",
        THIRD_ORDER_MISMATCH => "thirdOrderId与已绑定的不一致",
        UNKNOWN_PARENT_TYPE => "父级服务类型不存在",
        _ => "请求失败",
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    code: i32,
    msg: &'a str,
    data: Value,
}

/// The success envelope.
pub fn success(data: Value) -> Response {
    Json(Envelope {
        code: 0,
        msg: "success",
        data,
    })
    .into_response()
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        Json(Envelope {
            code: self.code,
            msg: &self.msg,
            data: Value::Null,
        })
        .into_response()
    }
}

/// Which transport failure an injected error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InjectedError {
    /// HTTP 503 with the envelope and code -1.
    Busy,
    /// HTTP 500 with a plain-text body, as a crashed gateway answers.
    Crash,
}

impl InjectedError {
    /// Half and half, so a caller meets both a JSON and a non-JSON error body.
    pub fn draw() -> Self {
        if rand::random::<bool>() {
            InjectedError::Busy
        } else {
            InjectedError::Crash
        }
    }

    pub fn http_status(self) -> StatusCode {
        match self {
            InjectedError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            InjectedError::Crash => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn into_response(self) -> Response {
        match self {
            InjectedError::Busy => {
                let mut response = Reject::of(code::SYSTEM_BUSY).into_response();
                *response.status_mut() = self.http_status();
                response
            }
            InjectedError::Crash => (
                self.http_status(),
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "Internal Server Error",
            )
                .into_response(),
        }
    }
}
