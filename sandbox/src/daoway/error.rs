//! The platform's business refusals and how they look on the wire.
//!
//! Daoway answers a refused request with HTTP 200 and `{"status":"error","msg":"…"}`, so the
//! message text is the whole contract. Each refusal is one variant here and its text is spelled
//! in exactly one place, [`Reject::message`]; the table in the module docs of `daoway` mirrors it.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use super::money::hours_text;

/// Why the platform refused a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Reject {
    /// A required parameter or order field is missing or empty; carries its name.
    Missing(&'static str),
    /// The `channel` is not one the sandbox was configured with.
    UnknownChannel,
    /// `userName`/`password` do not name an account.
    BadCredentials,
    /// No shop has that `serviceId`.
    UnknownShop,
    /// A `priceId` is not one of the shop's prices.
    UnknownPrice,
    /// A line's quantity is below the price's `minBuyNum`; carries that minimum.
    BelowMinBuyNum(u32),
    /// The items total is below the shop's `minBuyPrice`.
    BelowMinBuyPrice,
    /// `appointTime` is not `YYYY-MM-DD HH:MM:SS`.
    BadAppointTime,
    /// `appointTime` is sooner than the shop's notice; carries the notice in minutes.
    TooSoon(u32),
    /// `appointTime` falls outside opening hours or on a closed day.
    OutsideHours,
    /// The account cannot pay for the order.
    InsufficientBalance,
    /// No order with that id is visible to the channel.
    UnknownOrder,
    /// The body is not JSON of the documented shape, or a number is not what it must be.
    Malformed,
}

impl Reject {
    pub(crate) fn message(&self) -> String {
        match self {
            Reject::Missing(name) => format!("缺少参数{name}"),
            Reject::UnknownChannel => "渠道号不存在".to_owned(),
            Reject::BadCredentials => "用户名或密码错误".to_owned(),
            Reject::UnknownShop => "店铺不存在".to_owned(),
            Reject::UnknownPrice => "价目不存在".to_owned(),
            Reject::BelowMinBuyNum(n) => format!("起购数量为{n}"),
            Reject::BelowMinBuyPrice => "订单金额未达到起购金额".to_owned(),
            Reject::BadAppointTime => "预约时间格式错误".to_owned(),
            Reject::TooSoon(minutes) => format!("预约时间需提前{}小时", hours_text(*minutes)),
            Reject::OutsideHours => "预约时间不在服务时间内".to_owned(),
            Reject::InsufficientBalance => "余额不足".to_owned(),
            Reject::UnknownOrder => "订单不存在".to_owned(),
            Reject::Malformed => "请求格式错误".to_owned(),
        }
    }
}

/// `{"status":"ok","data":…}`; typed rather than built with `json!` so serializing cannot fail.
#[derive(Serialize)]
struct Success<T> {
    status: &'static str,
    data: T,
}

/// `{"status":"error","msg":"…"}`.
#[derive(Serialize)]
struct Failure {
    status: &'static str,
    msg: String,
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        Json(Failure {
            status: "error",
            msg: self.message(),
        })
        .into_response()
    }
}

/// The success envelope around `data`.
pub(crate) fn ok<T: Serialize>(data: T) -> Response {
    Json(Success { status: "ok", data }).into_response()
}

/// What an injected fault answers: the platform being overloaded, with a status code a client
/// can treat as transient.
pub(crate) fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(Failure {
            status: "error",
            msg: "系统繁忙".to_owned(),
        }),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_with_numbers() {
        assert_eq!(Reject::Missing("phone").message(), "缺少参数phone");
        assert_eq!(Reject::BelowMinBuyNum(2).message(), "起购数量为2");
        assert_eq!(Reject::TooSoon(24 * 60).message(), "预约时间需提前24小时");
        assert_eq!(Reject::TooSoon(90).message(), "预约时间需提前1.5小时");
    }
}
