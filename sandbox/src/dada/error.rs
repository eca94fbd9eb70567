//! Dada's error codes and the two response envelopes.
//!
//! Every refusal the sandbox gives is one of the codes in `platforms/dada.md`, answered with
//! HTTP 200 and `{"status":"fail","code":N,"errorCode":N,"msg":"…"}`, exactly as the platform
//! does; success is `{"status":"success","code":0,"msg":"成功","result":…}`. The one exception is
//! an injected fault, which answers HTTP 503 with code -1 so a client sees both a transport-level
//! and a platform-level failure and cannot mistake it for a business refusal.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::Value;

use crate::kit::reject::CodeTable;

/// The code table, named. Only codes the sandbox can answer are listed.
pub mod code {
    pub const SYSTEM_ERROR: i32 = -1;
    pub const EMPTY_PARAMETER: i32 = 1993;
    pub const BAD_FORMAT: i32 = 1994;
    pub const BODY_NULL: i32 = 1995;
    pub const BAD_VERSION: i32 = 1996;
    pub const CONTENT_TYPE: i32 = 1999;
    pub const INVALID_APP_KEY: i32 = 2001;
    pub const SOURCE_NOT_BOUND: i32 = 2002;
    pub const SIGNATURE_ERROR: i32 = 2003;
    pub const INVALID_SHOP: i32 = 2004;
    pub const ORDER_NOT_FOUND: i32 = 2005;
    pub const TIMESTAMP_EMPTY: i32 = 2009;
    pub const SIGNATURE_EMPTY: i32 = 2010;
    pub const ORDER_STATE: i32 = 2012;
    pub const CITY_NOT_OPEN: i32 = 2044;
    pub const CANCEL_REASON_EMPTY: i32 = 2048;
    pub const OTHER_NEEDS_REASON: i32 = 2049;
    pub const CANCEL_DELIVERING: i32 = 2050;
    pub const CANCEL_DELIVERED: i32 = 2051;
    pub const CANCEL_EXPIRED: i32 = 2052;
    pub const TIP_TOO_SMALL: i32 = 2055;
    pub const TIP_NOT_HIGHER: i32 = 2057;
    pub const TIP_NOT_WAITING: i32 = 2059;
    pub const READD_NEW_ORDER: i32 = 2060;
    pub const READD_NOT_ALLOWED: i32 = 2061;
    pub const QUOTE_EXPIRED: i32 = 2062;
    pub const QUOTE_ORDER_PUBLISHED: i32 = 2063;
    pub const QUOTE_USED: i32 = 2065;
    pub const TEST_ONLY: i32 = 2068;
    pub const APPOINT_ACCEPTED: i32 = 2070;
    pub const CANCEL_CANCELLED: i32 = 2076;
    pub const TIP_ABOVE_AMOUNT: i32 = 2077;
    pub const DELIVERY_NO_EMPTY: i32 = 2078;
    pub const NOT_RETURNING: i32 = 2082;
    pub const SIMULATE_NOT_ACCEPTED: i32 = 2083;
    pub const CARGO_WEIGHT: i32 = 2103;
    pub const ORIGIN_ID_EMPTY: i32 = 2104;
    pub const ORDER_EXISTS: i32 = 2105;
    pub const CARGO_PRICE: i32 = 2113;
    pub const RECEIVER_NAME: i32 = 2120;
    pub const RECEIVER_ADDRESS: i32 = 2121;
    pub const RECEIVER_PHONE: i32 = 2122;
    pub const CALLBACK_EMPTY: i32 = 2123;
    pub const CITY_CODE_EMPTY: i32 = 2126;
    pub const QUOTE_PUBLISHED: i32 = 2130;
    pub const WRONG_TEST_SOURCE: i32 = 2131;
    pub const SHOP_OFFLINE: i32 = 2132;
    pub const COMPLAINT_INVALID: i32 = 2134;
    pub const INSUFFICIENT_BALANCE: i32 = 2155;
    pub const SHOP_MISSING: i32 = 2402;
    pub const SHOP_EXISTS: i32 = 2403;
    pub const NOTHING_TO_UPDATE: i32 = 2406;
    pub const BODY_NOT_JSON: i32 = 2419;
    pub const CANCEL_REASON_UNKNOWN: i32 = 2457;
    pub const CANCEL_RETURNING: i32 = 2458;
    pub const CANCEL_RETURNED: i32 = 2459;
    pub const CANCEL_NOT_ALLOWED: i32 = 2460;
    pub const BOOKING_TOO_SOON: i32 = 2468;
}

/// Dada's code table, the messages behind [`Reject::of`].
#[derive(Clone, Copy, Debug)]
pub struct DadaCodes;

impl CodeTable for DadaCodes {
    fn default_msg(code: i32) -> &'static str {
        default_msg(code)
    }
}

/// A Dada refusal: the code and the message the caller sees.
pub type Reject = crate::kit::reject::Reject<DadaCodes>;

impl Reject {
    /// 1993 naming the empty parameter, the way Dada's messages do.
    pub fn empty(field: &str) -> Self {
        Reject::with(code::EMPTY_PARAMETER, format!("参数{field}不能为空"))
    }

    /// 1994 naming the malformed parameter.
    pub fn format(field: &str) -> Self {
        Reject::with(code::BAD_FORMAT, format!("参数{field}格式错误"))
    }
}

/// The message Dada gives for a code, in its wording where the notes quote it.
fn default_msg(c: i32) -> &'static str {
    use code::*;
    match c {
        SYSTEM_ERROR => "系统异常,请稍后重试",
        EMPTY_PARAMETER => "参数不能为空",
        BAD_FORMAT => "参数格式错误",
        BODY_NULL => "body不能为空",
        BAD_VERSION => "版本号错误",
        CONTENT_TYPE => "Content-Type必须为application/json",
        INVALID_APP_KEY => "app_key无效",
        SOURCE_NOT_BOUND => "source_id未绑定该开发者",
        SIGNATURE_ERROR => "签名错误",
        INVALID_SHOP => "门店编号无效",
        ORDER_NOT_FOUND => "订单不存在",
        TIMESTAMP_EMPTY => "timestamp不能为空",
        SIGNATURE_EMPTY => "signature不能为空",
        ORDER_STATE => "订单状态不允许该操作",
        CITY_NOT_OPEN => "该城市未开通",
        CANCEL_REASON_EMPTY => "取消原因ID不能为空",
        OTHER_NEEDS_REASON => "取消原因为其他时,取消原因不能为空",
        CANCEL_DELIVERING => "订单配送中,不能取消",
        CANCEL_DELIVERED => "订单已完成,不能取消",
        CANCEL_EXPIRED => "订单已过期,不能取消",
        TIP_TOO_SMALL => "小费金额不能小于1元",
        TIP_NOT_HIGHER => "小费金额必须大于上一次的小费金额",
        TIP_NOT_WAITING => "只有待接单的订单才能添加小费",
        READD_NEW_ORDER => "新订单不能重新发布",
        READD_NOT_ALLOWED => "只有已取消、已过期、妥投异常之物品返回完成的订单才能重新发布",
        QUOTE_EXPIRED => "运费查询已过期,请重新查询",
        QUOTE_ORDER_PUBLISHED => "订单已发布",
        QUOTE_USED => "该平台订单编号已使用",
        TEST_ONLY => "该接口仅在测试环境可用",
        APPOINT_ACCEPTED => "指派的订单已被接单",
        CANCEL_CANCELLED => "订单已取消",
        TIP_ABOVE_AMOUNT => "小费金额不能大于订单金额",
        DELIVERY_NO_EMPTY => "平台订单编号不能为空",
        NOT_RETURNING => "订单不是妥投异常之物品返回中状态,不能确认",
        SIMULATE_NOT_ACCEPTED => "订单未接单,请先模拟接单",
        CARGO_WEIGHT => "订单重量必须大于0",
        ORIGIN_ID_EMPTY => "第三方订单号不能为空",
        ORDER_EXISTS => "订单已下发,请使用重新发单接口",
        CARGO_PRICE => "订单金额不能为空",
        RECEIVER_NAME => "收货人姓名不能为空",
        RECEIVER_ADDRESS => "收货人地址不能为空",
        RECEIVER_PHONE => "收货人手机号和座机号不能同时为空",
        CALLBACK_EMPTY => "回调地址不能为空",
        CITY_CODE_EMPTY => "城市编码不能为空",
        QUOTE_PUBLISHED => "订单已发布,不能查询运费",
        WRONG_TEST_SOURCE => "测试环境商户编号错误",
        SHOP_OFFLINE => "门店已下线",
        COMPLAINT_INVALID => "规定时间送达,投诉无效",
        INSUFFICIENT_BALANCE => "账户余额不足",
        SHOP_MISSING => "门店不存在",
        SHOP_EXISTS => "门店编号已存在",
        NOTHING_TO_UPDATE => "没有可以更新的参数,请重新核对",
        BODY_NOT_JSON => "body不是合法的JSON",
        CANCEL_REASON_UNKNOWN => "取消原因不在列表中",
        CANCEL_RETURNING => "订单妥投异常之物品返回中,不能取消",
        CANCEL_RETURNED => "订单妥投异常之物品返回完成,不能取消",
        CANCEL_NOT_ALLOWED => "只有待接单、待取货的订单才能取消",
        BOOKING_TOO_SOON => "预约发单时间需至少提前5分钟",
        _ => "请求失败",
    }
}

#[derive(Serialize)]
struct Success {
    status: &'static str,
    code: i32,
    msg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Value>,
}

#[derive(Serialize)]
struct Failure<'a> {
    status: &'static str,
    code: i32,
    #[serde(rename = "errorCode")]
    error_code: i32,
    msg: &'a str,
}

/// The success envelope. `None` leaves `result` out, as Dada does for calls that return nothing.
pub fn success(result: Option<Value>) -> Response {
    Json(Success {
        status: "success",
        code: 0,
        msg: "成功",
        result,
    })
    .into_response()
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        Json(Failure {
            status: "fail",
            code: self.code,
            error_code: self.code,
            msg: &self.msg,
        })
        .into_response()
    }
}

/// An injected fault: HTTP 503 carrying the platform's system-error body.
pub fn injected_fault() -> Response {
    let mut response = Reject::of(code::SYSTEM_ERROR).into_response();
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response
}
