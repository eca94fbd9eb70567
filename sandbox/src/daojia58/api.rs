//! 58's API as we call it: `updateOrderDetail`, `saveServiceUser`, `saveGoodsType`.
//!
//! Every call goes through the same gate, in this order, the first failure answering:
//! body readable (form or JSON, 1006) → `accessToken`, `serviceKey`, `format`, `timestamp`,
//! `daojiaJson`, `sign` all present and non-empty (1006) → `serviceKey` known (1009) → `sign`
//! right over every received parameter except itself (1001) → `accessToken` the configured one
//! (1003) → `timestamp` is `yyyy-MM-dd HH:mm:ss` (1006) within ±`clock_skew_secs` of the
//! sandbox's clock in GMT+8 (1002) → `format` is `json` (1006) → the business fields of
//! `daojiaJson` (1006) → the endpoint's own rules.
//!
//! Faults come first of all: `latencyMs` delays the call, `errorRate` answers HTTP 500/503
//! without looking at it; `timeoutRate` and `slowRate` let the call do its work and then hold
//! the answer (`hangMs` / `slowMs`), so a timed-out caller does not know that it succeeded.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{
    Inner,
    error::{Reject, code, success},
    params::{self, Fields, SystemParams, parse_beijing_time},
    sign,
    store::{FaultPlan, GoodsType, Outcome, ServiceUser, UpdateRecord, UpdateRequest},
};

pub const UPDATE_ORDER_DETAIL: &str = "/api/v1/order/updateOrderDetail";
pub const SAVE_SERVICE_USER: &str = "/api/v1/serviceUser/saveServiceUser";
pub const SAVE_GOODS_TYPE: &str = "/api/v1/goodsType/saveGoodsType";

/// The system parameters every call must carry.
const REQUIRED: [&str; 6] = [
    "accessToken",
    "serviceKey",
    "format",
    "timestamp",
    "daojiaJson",
    sign::SIGN,
];

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route(UPDATE_ORDER_DETAIL, post(update_order_detail))
        .route(SAVE_SERVICE_USER, post(save_service_user))
        .route(SAVE_GOODS_TYPE, post(save_goods_type))
        .with_state(inner)
}

/// Draws the faults for a call and sleeps the latency.
async fn begin(inner: &Inner) -> FaultPlan {
    let plan = inner.state().faults.plan();
    if plan.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.latency_ms)).await;
    }
    plan
}

/// Holds a processed answer as long as the faults say.
async fn finish(plan: FaultPlan, response: Response) -> Response {
    if plan.answer_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.answer_delay_ms)).await;
    }
    response
}

fn answer(result: Result<Value, Reject>) -> Response {
    match result {
        Ok(data) => success(data),
        Err(reject) => {
            tracing::debug!(code = reject.code, msg = %reject.msg, "58 sandbox: refused");
            reject.into_response()
        }
    }
}

/// The gate every call passes before its own rules.
fn authenticate(inner: &Inner, p: &SystemParams, now: DateTime<Utc>) -> Result<(), Reject> {
    for name in REQUIRED {
        p.required(name)?;
    }
    if p.required("serviceKey")? != inner.service_key {
        return Err(Reject::of(code::BAD_SERVICE_KEY));
    }
    if !sign::verify(&inner.service_secret, &p.pairs(), p.required(sign::SIGN)?) {
        return Err(Reject::of(code::BAD_SIGN));
    }
    if p.required("accessToken")? != inner.access_token {
        return Err(Reject::of(code::BAD_TOKEN));
    }
    let sent =
        parse_beijing_time(p.required("timestamp")?).ok_or_else(|| Reject::format("timestamp"))?;
    let skew = (now - sent).num_seconds().unsigned_abs();
    if skew > inner.clock_skew_secs {
        return Err(Reject::with(
            code::STALE_TIMESTAMP,
            format!(
                "时间戳与服务器时间相差{skew}秒,超过{}秒",
                inner.clock_skew_secs
            ),
        ));
    }
    if p.required("format")? != "json" {
        return Err(Reject::with(code::BAD_PARAMS, "format只支持json"));
    }
    Ok(())
}

// ------------------------------------------------------------------ updateOrderDetail

async fn update_order_detail(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let received_at = Utc::now();
    let plan = begin(&inner).await;
    let request = SystemParams::read(&headers, &bytes);
    let mut record = first_record(received_at, &request, plan);
    if let Some(error) = plan.error {
        record.outcome = Outcome::Fault;
        record.code = code::SYSTEM_BUSY;
        record.msg = "injected fault: not processed".to_owned();
        record.http_status = error.http_status().as_u16();
        record.answer_delay_ms = 0;
        record.answer_withheld = false;
        inner.state().log_update(record);
        return error.into_response();
    }
    let result = update(&inner, request, record).await;
    finish(plan, answer(result)).await
}

/// What can be told about a call before judging it, for the log.
fn first_record(
    received_at: DateTime<Utc>,
    request: &Result<SystemParams, Reject>,
    plan: FaultPlan,
) -> UpdateRecord {
    let (body_format, params) = match request {
        Ok(p) => (Some(p.format.as_str()), p.to_map()),
        Err(_) => (None, Default::default()),
    };
    // Best effort: the fields are only read here, not judged.
    let fields = params.get("daojiaJson").and_then(|j| Fields::parse(j).ok());
    let field = |name| fields.as_ref().and_then(|f| f.int(name).ok().flatten());
    UpdateRecord {
        seq: 0,
        received_at,
        body_format,
        order_id: field("orderId"),
        third_order_id: fields
            .as_ref()
            .and_then(|f| f.text("thirdOrderId").ok().flatten()),
        order_status: field("orderStatus").and_then(|s| i32::try_from(s).ok()),
        params,
        from_status: None,
        outcome: Outcome::Refused,
        code: 0,
        msg: String::new(),
        http_status: StatusCode::OK.as_u16(),
        answer_delay_ms: plan.answer_delay_ms,
        answer_withheld: plan.withheld,
    }
}

async fn update(
    inner: &Inner,
    request: Result<SystemParams, Reject>,
    mut record: UpdateRecord,
) -> Result<Value, Reject> {
    let prepared = request.and_then(|p| {
        authenticate(inner, &p, Utc::now())?;
        UpdateRequest::parse(p.required("daojiaJson")?)
    });
    let req = match prepared {
        Ok(req) => req,
        Err(reject) => {
            let mut state = inner.state();
            if let Some(id) = record.order_id {
                record.from_status = state.status_of(id).map(|s| s.code());
            }
            record.code = reject.code;
            record.msg = reject.msg.clone();
            state.log_update(record);
            return Err(reject);
        }
    };
    wait_while_push_is_answered(inner, req.order_id).await;
    let mut state = inner.state();
    record.from_status = state.status_of(req.order_id).map(|s| s.code());
    let result = state.apply_update(&req, Utc::now());
    match &result {
        Ok(applied) => {
            record.outcome = if applied.repeated {
                Outcome::Repeated
            } else {
                Outcome::Applied
            };
            record.msg = "success".to_owned();
        }
        Err(reject) => {
            record.code = reject.code;
            record.msg = reject.msg.clone();
        }
    }
    state.log_update(record);
    result.map(|applied| {
        json!({
            "orderId": req.order_id,
            "thirdOrderId": req.third_order_id,
            "orderStatus": applied.to.code(),
            "previousStatus": applied.from.code(),
        })
    })
}

/// Our intake may send its first update while 58 is still reading our acknowledgement of the
/// push. Rather than refuse that race with 1008, wait (at most the ack deadline) for the
/// attempt's outcome, as 58's own bookkeeping would already have it.
async fn wait_while_push_is_answered(inner: &Inner, order_id: i64) {
    let mut changes = inner.attempts.subscribe();
    // The deadline is bounded by MAX_ACK_DEADLINE_MS, so this cannot overflow an Instant.
    let limit = inner.state().schedule.ack_deadline_ms.saturating_add(1_000);
    let deadline = tokio::time::Instant::now() + Duration::from_millis(limit);
    loop {
        let answering = matches!(inner.state().update_gate(order_id), Ok(false));
        if !answering {
            return;
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => {}
            _ => return,
        }
    }
}

// ------------------------------------------------------------------ technicians and goods types

async fn save_service_user(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    saving(&inner, &headers, &bytes, |daojia_json, now| {
        let user = parse_service_user(daojia_json, now)?;
        let user_id = user.user_id.clone();
        let created = inner.state().save_service_user(user, now);
        Ok(json!({ "userId": user_id, "created": created }))
    })
    .await
}

fn parse_service_user(daojia_json: &str, now: DateTime<Utc>) -> Result<ServiceUser, Reject> {
    let f = Fields::parse(daojia_json)?;
    let user_id = f.required_text("userId", 64)?;
    let user_name = f.required_text("userName", 32)?;
    let user_phone = f.required_text("userPhone", 11)?;
    if !params::is_mobile(&user_phone) {
        return Err(Reject::format("userPhone"));
    }
    let user_age = f.int("userAge")?;
    if user_age.is_some_and(|age| !(16..=80).contains(&age)) {
        return Err(Reject::with(code::BAD_PARAMS, "参数userAge须在16到80之间"));
    }
    let user_sex = f
        .flag("userSex")?
        .ok_or_else(|| Reject::missing("userSex"))?;
    let user_pic = f.optional_text("userPic", 512)?;
    if let Some(pic) = &user_pic
        && !(pic.starts_with("http://") || pic.starts_with("https://"))
    {
        return Err(Reject::format("userPic"));
    }
    let user_remark = f.optional_text("userRemark", 200)?;
    let user_status = f.flag("userStatus")?.unwrap_or(true);
    Ok(ServiceUser {
        user_id,
        user_name,
        user_phone,
        user_age,
        user_sex: i64::from(user_sex),
        user_pic,
        user_remark,
        user_status: i64::from(user_status),
        created_at: now,
        updated_at: now,
        saves: 0,
    })
}

async fn save_goods_type(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    saving(&inner, &headers, &bytes, |daojia_json, now| {
        let goods_type = parse_goods_type(daojia_json, now)?;
        let type_id = goods_type.type_id.clone();
        let created = inner.state().save_goods_type(goods_type, now)?;
        Ok(json!({ "typeId": type_id, "created": created }))
    })
    .await
}

/// The frame of the two save calls: faults, then the system parameters and authentication,
/// then `save` with the `daojiaJson`, then the answer (delayed if a fault says so).
async fn saving(
    inner: &Inner,
    headers: &HeaderMap,
    bytes: &[u8],
    save: impl FnOnce(&str, DateTime<Utc>) -> Result<Value, Reject>,
) -> Response {
    let plan = begin(inner).await;
    if let Some(error) = plan.error {
        return error.into_response();
    }
    let now = Utc::now();
    let result = SystemParams::read(headers, bytes).and_then(|p| {
        authenticate(inner, &p, now)?;
        save(p.required("daojiaJson")?, now)
    });
    finish(plan, answer(result)).await
}

fn parse_goods_type(daojia_json: &str, now: DateTime<Utc>) -> Result<GoodsType, Reject> {
    let f = Fields::parse(daojia_json)?;
    let type_id = f.required_text("typeId", 64)?;
    let type_parent_id = f
        .optional_text("typeParentId", 64)?
        .filter(|parent| parent != "0");
    let type_name = f.required_text("typeName", 32)?;
    let type_remark = f.optional_text("typeRemark", 200)?;
    let type_status = f
        .flag("typeStatus")?
        .ok_or_else(|| Reject::missing("typeStatus"))?;
    let create_time = f.optional_text("createTime", 19)?;
    if let Some(t) = &create_time
        && parse_beijing_time(t).is_none()
    {
        return Err(Reject::format("createTime"));
    }
    let service_code = f.optional_text("serviceCode", 64)?;
    Ok(GoodsType {
        type_id,
        type_parent_id,
        type_name,
        type_remark,
        type_status: i64::from(type_status),
        create_time,
        service_code,
        updated_at: now,
        saves: 0,
    })
}
