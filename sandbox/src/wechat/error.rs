//! WeChat's two result layers and the sandbox's code tables.
//!
//! A call fails on the **platform** layer with `{"errcode": N, "errmsg": "… rid: …"}` (token,
//! format, binding, signature, parameter and order-lookup problems, all codes from
//! `platforms/wechat.md`), or on the **company** layer with `{"resultcode": N, "resultmsg": "…"}`
//! when the courier company refuses by its own rules. Success is `{"resultcode": 0,
//! "resultmsg": "ok", …}` with no `errcode`, as the notes describe; the
//! `errcode_on_success` switch adds `"errcode": 0, "errmsg": "ok"` to company-layer answers for
//! adapters that must cope with both shapes. Every answer is HTTP 200, injected faults included,
//! because WeChat reports even "system busy" (-1) in the body.
//!
//! The company codes in [`result`] are the sandbox's own: the notes say only that companies pass
//! their own codes through, so these are chosen to be distinct and stable for tests.

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

/// Platform codes (`errcode`). Only codes the sandbox answers are listed.
pub mod code {
    pub const SYSTEM_BUSY: i64 = -1;
    pub const INVALID_CREDENTIAL: i64 = 40001;
    pub const INVALID_GRANT_TYPE: i64 = 40002;
    pub const INVALID_APPID: i64 = 40013;
    pub const INVALID_APPSECRET: i64 = 40125;
    pub const ACCESS_TOKEN_MISSING: i64 = 41001;
    pub const APPID_MISSING: i64 = 41002;
    pub const APPSECRET_MISSING: i64 = 41004;
    pub const ACCESS_TOKEN_EXPIRED: i64 = 42001;
    pub const DATA_FORMAT: i64 = 47001;
    pub const COMPANY_TIMEOUT: i64 = 930556;
    pub const COMPANY_SYSTEM_ERROR: i64 = 930557;
    pub const INVALID_OPENID: i64 = 930559;
    pub const NOT_BOUND: i64 = 930560;
    pub const PARAMETER: i64 = 930561;
    pub const ORDER_EXISTS: i64 = 930562;
    pub const ORDER_NOT_FOUND: i64 = 930563;
    pub const NO_QUOTA: i64 = 930564;
    pub const ORDER_FINISHED: i64 = 930565;
    pub const SHOP_ARG: i64 = 930567;
    pub const CARGO_CLASS: i64 = 930570;
    pub const BAD_SHOP: i64 = 9_300_535;
}

/// Company codes (`resultcode`), the sandbox's own.
pub mod result {
    pub const ALREADY_BOUND: i64 = 10001;
    pub const OUT_OF_RANGE: i64 = 10002;
    pub const BOOKING_TOO_FAR: i64 = 10003;
    pub const TOKEN_INVALID: i64 = 10004;
    pub const TOKEN_EXPIRED: i64 = 10005;
    pub const TOKEN_USED: i64 = 10006;
    pub const TIPS_NOT_WAITING: i64 = 10007;
    pub const TIPS_NOT_HIGHER: i64 = 10008;
    pub const CANCEL_AFTER_PICKUP: i64 = 10009;
    pub const CANCEL_RETURNING: i64 = 10010;
    pub const READD_NOT_ALLOWED: i64 = 10011;
    pub const NOT_RETURNING: i64 = 10012;
}

/// A refusal on one of the two layers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reject {
    /// `errcode`/`errmsg`; the `rid` is added when answering.
    Platform { errcode: i64, errmsg: String },
    /// `resultcode`/`resultmsg`.
    Company { resultcode: i64, resultmsg: String },
}

impl Reject {
    /// A platform refusal with the code's usual message.
    pub fn platform(errcode: i64) -> Self {
        Reject::Platform {
            errcode,
            errmsg: platform_msg(errcode).to_owned(),
        }
    }

    /// A platform refusal whose message also names what was wrong.
    pub fn platform_with(errcode: i64, detail: impl AsRef<str>) -> Self {
        Reject::Platform {
            errcode,
            errmsg: format!("{}: {}", platform_msg(errcode), detail.as_ref()),
        }
    }

    /// 930561 naming the parameter.
    pub fn param(detail: impl AsRef<str>) -> Self {
        Reject::platform_with(code::PARAMETER, detail)
    }

    /// 47001 naming the problem.
    pub fn format(detail: impl AsRef<str>) -> Self {
        Reject::platform_with(code::DATA_FORMAT, detail)
    }

    /// A company refusal with the code's usual message.
    pub fn company(resultcode: i64) -> Self {
        Reject::Company {
            resultcode,
            resultmsg: company_msg(resultcode).to_owned(),
        }
    }

    /// A company refusal with its own message.
    pub fn company_with(resultcode: i64, resultmsg: impl Into<String>) -> Self {
        Reject::Company {
            resultcode,
            resultmsg: resultmsg.into(),
        }
    }

    /// The code of either layer.
    pub fn code(&self) -> i64 {
        match self {
            Reject::Platform { errcode, .. } => *errcode,
            Reject::Company { resultcode, .. } => *resultcode,
        }
    }

    /// The message of either layer.
    pub fn message(&self) -> &str {
        match self {
            Reject::Platform { errmsg, .. } => errmsg,
            Reject::Company { resultmsg, .. } => resultmsg,
        }
    }
}

fn platform_msg(c: i64) -> &'static str {
    use code::*;
    match c {
        SYSTEM_BUSY => "system error",
        INVALID_CREDENTIAL => "invalid credential, access_token is invalid or not latest",
        INVALID_GRANT_TYPE => "invalid grant_type",
        INVALID_APPID => "invalid appid",
        INVALID_APPSECRET => "invalid appsecret",
        ACCESS_TOKEN_MISSING => "access_token missing",
        APPID_MISSING => "appid missing",
        APPSECRET_MISSING => "appsecret missing",
        ACCESS_TOKEN_EXPIRED => "access_token expired",
        DATA_FORMAT => "data format error",
        COMPANY_TIMEOUT => "delivery company timeout",
        COMPANY_SYSTEM_ERROR => "delivery company system error",
        INVALID_OPENID => "invalid openid",
        NOT_BOUND => "shopid not bound",
        PARAMETER => "argument invalid",
        ORDER_EXISTS => "order already exists",
        ORDER_NOT_FOUND => "order not exists",
        NO_QUOTA => "no quota",
        ORDER_FINISHED => "order already finished",
        SHOP_ARG => "shop arg error",
        CARGO_CLASS => "invalid cargo class",
        BAD_SHOP => "invalid shop object",
        _ => "error",
    }
}

fn company_msg(c: i64) -> &'static str {
    use result::*;
    match c {
        ALREADY_BOUND => "该配送公司账号已绑定",
        OUT_OF_RANGE => "超出配送范围",
        BOOKING_TOO_FAR => "预约时间超出可预约范围",
        TOKEN_INVALID => "delivery_token无效",
        TOKEN_EXPIRED => "delivery_token已过期,请重新预下单",
        TOKEN_USED => "delivery_token已使用",
        TIPS_NOT_WAITING => "只有待接单的订单才能加小费",
        TIPS_NOT_HIGHER => "小费金额必须大于上一次的小费金额",
        CANCEL_AFTER_PICKUP => "骑手已取货,订单不能取消",
        CANCEL_RETURNING => "订单返还中,不能取消",
        READD_NOT_ALLOWED => "订单未结束或已完成,不能重新下单",
        NOT_RETURNING => "订单不在返还中,无需确认",
        _ => "配送公司处理失败",
    }
}

/// A request id in WeChat's shape: three groups of hex, the first the time.
pub fn rid() -> String {
    let secs = chrono::Utc::now().timestamp();
    format!(
        "{:08x}-{:08x}-{:08x}",
        secs & 0xffff_ffff,
        rand::random::<u32>(),
        rand::random::<u32>()
    )
}

/// `{"errcode": N, "errmsg": "… rid: …"}`.
pub fn platform_error(errcode: i64, errmsg: &str) -> Response {
    Json(json!({ "errcode": errcode, "errmsg": format!("{errmsg} rid: {}", rid()) }))
        .into_response()
}

/// An injected fault: WeChat's "system busy".
pub fn injected_fault() -> Response {
    platform_error(code::SYSTEM_BUSY, platform_msg(code::SYSTEM_BUSY))
}

/// The answer of a business call.
pub fn answer(result: Result<Map<String, Value>, Reject>, errcode_on_success: bool) -> Response {
    let company = |mut fields: Map<String, Value>, resultcode: i64, resultmsg: String| {
        if errcode_on_success {
            fields.insert("errcode".to_owned(), json!(0));
            fields.insert("errmsg".to_owned(), json!("ok"));
        }
        fields.insert("resultcode".to_owned(), json!(resultcode));
        fields.insert("resultmsg".to_owned(), json!(resultmsg));
        Json(Value::Object(fields)).into_response()
    };
    match result {
        Ok(fields) => company(fields, 0, "ok".to_owned()),
        Err(Reject::Company {
            resultcode,
            resultmsg,
        }) => company(Map::new(), resultcode, resultmsg),
        Err(Reject::Platform { errcode, errmsg }) => platform_error(errcode, &errmsg),
    }
}
