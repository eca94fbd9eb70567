//! The business endpoints: reading each body into the sandbox's rules in [`super::store`] and
//! answering in WeChat's spelling.
//!
//! Every order call resolves the company account first, then checks `delivery_sign`, then reads
//! the rest, the first failure answering:
//!
//! 1. `shopid` present (930561); `delivery_id`, when sent (required on pre_add/add/readd),
//!    known (930561) and bound to that `shopid` (930560); without it the account is found by
//!    `shopid` (930560 if none). The account must be bound and past review (930560), and the
//!    company up (930556 timeout / 930557 error, set through `/_control/companies`).
//! 2. `delivery_sign` present and equal to `SHA1(shopid + shop_order_id + AppSecret)` (or
//!    without `shop_order_id` when the body has none), lower-case hex: 930561 otherwise.
//! 3. The endpoint's own fields, in the order listed at each function.
//!
//! Type errors anywhere (a number sent as a string, …) are 47001, see `params.rs`.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};

use super::{
    CompanyConfig, Inner,
    error::{Reject, code},
    fee::GeoPoint,
    money::Yuan,
    params::{Fields, escapes_non_ascii},
    seed::{self, TEST_DELIVERY_ID},
    sign,
    store::{
        Cargo, Good, Order, OrderInfo, OrderRequest, Outage, Party, Publish, ShopInfo, Status,
        to_value,
    },
    wire::{AddAnswer, BoundAccount, CancelAnswer, DeliveryItem, GetAnswer, PreAddAnswer},
};

mod request;

use request::order_request;

/// What a handler knows about the call besides its body.
pub struct Ctx<'a> {
    pub now: DateTime<Utc>,
    /// The body exactly as sent, for checks on its text.
    pub raw: &'a [u8],
}

pub type Answer = Result<Map<String, Value>, Reject>;

fn fields_of(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Longest `shop_order_id`, in bytes.
const MAX_SHOP_ORDER_ID: usize = 128;
/// Cargo limits of the document: value in fen, dimensions in cm, weight in kg.
const MAX_GOODS_VALUE_FEN: i64 = 500_000;
const MAX_HEIGHT_CM: f64 = 45.0;
const MAX_LENGTH_CM: f64 = 65.0;
const MAX_WIDTH_CM: f64 = 50.0;
const MAX_WEIGHT_KG: f64 = 50.0;

// ------------------------------------------------------------------ account and signature

/// The company account a call is for (step 1 of the module doc).
fn account(inner: &Inner, f: &Fields, needs_delivery_id: bool) -> Result<CompanyConfig, Reject> {
    let shopid = f.required("shopid")?;
    let delivery_id = f.optional("delivery_id")?;
    if needs_delivery_id && delivery_id.is_none() {
        return Err(Reject::param("delivery_id is required"));
    }
    let state = inner.state();
    let company = match delivery_id {
        Some(id) => {
            let company = state
                .company(&id)
                .ok_or_else(|| Reject::param(format!("unknown delivery_id {id}")))?;
            if company.config.shopid != shopid {
                return Err(Reject::platform_with(
                    code::NOT_BOUND,
                    format!("shopid {shopid} is not an account at {id}"),
                ));
            }
            company
        }
        None => state.company_by_shopid(&shopid).ok_or_else(|| {
            Reject::platform_with(code::NOT_BOUND, format!("shopid {shopid} is not bound"))
        })?,
    };
    let id = &company.config.delivery_id;
    if !company.bound {
        return Err(Reject::platform_with(
            code::NOT_BOUND,
            format!("{id} account is not bound"),
        ));
    }
    match company.audit_result {
        0 => {}
        1 => {
            return Err(Reject::platform_with(
                code::NOT_BOUND,
                format!("{id} account is under review"),
            ));
        }
        _ => {
            return Err(Reject::platform_with(
                code::NOT_BOUND,
                format!("{id} account was rejected"),
            ));
        }
    }
    match company.outage {
        Some(Outage::Timeout) => Err(Reject::platform(code::COMPANY_TIMEOUT)),
        Some(Outage::Error) => Err(Reject::platform(code::COMPANY_SYSTEM_ERROR)),
        None => Ok(company.config.clone()),
    }
}

/// Step 2 of the module doc.
fn check_sign(f: &Fields, company: &CompanyConfig) -> Result<(), Reject> {
    let sent = f.required("delivery_sign")?;
    let shop_order_id = f.str("shop_order_id")?;
    if sign::verify_delivery_sign(&company.shopid, shop_order_id, &company.app_secret, &sent) {
        Ok(())
    } else {
        Err(Reject::param("delivery_sign error"))
    }
}

fn shop_order_id(f: &Fields) -> Result<String, Reject> {
    let id = f.required("shop_order_id")?;
    if id.len() > MAX_SHOP_ORDER_ID {
        return Err(Reject::param("shop_order_id is longer than 128 bytes"));
    }
    Ok(id)
}

fn check_openid(inner: &Inner, f: &Fields) -> Result<String, Reject> {
    let openid = f.required("openid")?;
    if !inner.openids.contains(&openid) {
        return Err(Reject::platform_with(
            code::INVALID_OPENID,
            format!("openid {openid}"),
        ));
    }
    Ok(openid)
}

/// A `waybill_id`, when sent, must name the order (under any of its names).
fn check_waybill(f: &Fields, order: &Order) -> Result<(), Reject> {
    match f.optional("waybill_id")? {
        Some(w) if !order.knows_waybill(&w) => Err(Reject::param(format!(
            "waybill_id {w} does not belong to shop_order_id {}",
            order.request.shop_order_id
        ))),
        _ => Ok(()),
    }
}

// ------------------------------------------------------------------ accounts

/// `delivery/getall`: every company, bound or not.
pub fn getall(inner: &Inner, _: &Ctx<'_>, _: &Fields) -> Answer {
    let list: Vec<DeliveryItem> = inner
        .state()
        .companies
        .iter()
        .map(|c| DeliveryItem {
            delivery_id: c.config.delivery_id.clone(),
            delivery_name: c.config.name.clone(),
        })
        .collect();
    Ok(fields_of(json!({ "list": to_value(&list) })))
}

/// `shop/get`: the bound accounts with their review state.
pub fn shop_get(inner: &Inner, _: &Ctx<'_>, _: &Fields) -> Answer {
    let list: Vec<BoundAccount> = inner
        .state()
        .companies
        .iter()
        .filter(|c| c.bound)
        .map(|c| BoundAccount {
            delivery_id: c.config.delivery_id.clone(),
            shopid: c.config.shopid.clone(),
            audit_result: c.audit_result,
        })
        .collect();
    Ok(fields_of(json!({ "shop_list": to_value(&list) })))
}

/// `shop/add` `{delivery_id}`: 930561 unknown company, company 10001 if already bound.
pub fn shop_add(inner: &Inner, _: &Ctx<'_>, f: &Fields) -> Answer {
    let delivery_id = f.required("delivery_id")?;
    inner.state().bind(&delivery_id)?;
    Ok(Map::new())
}

/// `open`: always succeeds.
pub fn open(inner: &Inner, _: &Ctx<'_>, _: &Fields) -> Answer {
    inner.state().opened = true;
    Ok(Map::new())
}

/// `order/pre_add`: the body of add; 930562 while an order of that id is live; company 10002
/// (range) and 10003 (booking window). Does not use quota.
pub fn pre_add(inner: &Inner, ctx: &Ctx<'_>, f: &Fields) -> Answer {
    let company = account(inner, f, true)?;
    check_sign(f, &company)?;
    let request = order_request(inner, ctx, f, &company)?;
    let (fee, token) = inner.state().pre_add(&company, &request, ctx.now)?;
    Ok(fields_of(to_value(&PreAddAnswer {
        fee: Yuan(fee.fee_fen),
        deliverfee: Yuan(fee.deliver_fee_fen),
        couponfee: Yuan(fee.coupon_fee_fen),
        tips: Yuan(fee.tips_fen),
        insurancefee: Yuan(fee.insurance_fee_fen),
        distance: fee.distance_m,
        dispatch_duration: company.dispatch_minutes.saturating_mul(60),
        delivery_token: token,
    })))
}

fn add_answer(order: &Order) -> Answer {
    let fee = &order.fee;
    Ok(fields_of(to_value(&AddAnswer {
        fee: Yuan(fee.fee_fen),
        deliverfee: Yuan(fee.deliver_fee_fen),
        couponfee: Yuan(fee.coupon_fee_fen),
        tips: Yuan(fee.tips_fen),
        insurancefee: Yuan(fee.insurance_fee_fen),
        distance: fee.distance_m,
        waybill_id: order.waybill_id.clone(),
        order_status: order.status.code(),
        finish_code: order.finish_code,
        pickup_code: order.pickup_code,
        dispatch_duration: order.dispatch_secs,
    })))
}

/// `order/add`: 930562 if the id was ever used (readd is for ended orders), 930564 without
/// quota, company 10002/10003, and 10004–10006 for a bad `delivery_token` of a company that
/// gives them (a token sent to one that does not is ignored).
pub fn add(inner: &Inner, ctx: &Ctx<'_>, f: &Fields) -> Answer {
    publish(inner, ctx, f, Publish::New)
}

/// `order/readd`: as add, but the id must belong to an order that ended without delivery (103,
/// 203, 204, 205, 401, 501, 502; 930563 unknown, company 10011 otherwise). It may go to another
/// company; the order keeps its timeline and gets a new waybill.
pub fn readd(inner: &Inner, ctx: &Ctx<'_>, f: &Fields) -> Answer {
    publish(inner, ctx, f, Publish::Again)
}

/// What add and readd share: the company's signature, the order body, then publication.
fn publish(inner: &Inner, ctx: &Ctx<'_>, f: &Fields, how: Publish) -> Answer {
    let company = account(inner, f, true)?;
    check_sign(f, &company)?;
    let request = order_request(inner, ctx, f, &company)?;
    let order = inner.state().publish(&company, request, how, ctx.now)?;
    add_answer(&order)
}

// ------------------------------------------------------------------ following orders

/// `order/addtips`: `shop_order_id`, `openid` (930559), `tips` yuan > 0 (930561), the order
/// (930563), `waybill_id` (930561 if it names another order); then company 10007 unless waiting
/// for a rider (101) and 10008 unless larger than the current tip. The tip replaces the last.
pub fn addtips(inner: &Inner, _: &Ctx<'_>, f: &Fields) -> Answer {
    let company = account(inner, f, false)?;
    check_sign(f, &company)?;
    let id = shop_order_id(f)?;
    check_openid(inner, f)?;
    let tips_fen = f
        .yuan("tips")?
        .filter(|t| *t > 0)
        .ok_or_else(|| Reject::param("tips must be a positive amount"))?;
    f.str("remark")?;
    let mut state = inner.state();
    check_waybill(f, state.order_of(&company.delivery_id, &id)?)?;
    state.add_tips(&id, tips_fen)?;
    Ok(Map::new())
}

/// `order/get`: status, waybill, rider and expected delivery time; 930563 unknown.
pub fn get(inner: &Inner, ctx: &Ctx<'_>, f: &Fields) -> Answer {
    let company = account(inner, f, false)?;
    check_sign(f, &company)?;
    let id = shop_order_id(f)?;
    let mut state = inner.state();
    let order = state.order_of(&company.delivery_id, &id)?;
    let position = order.rider_position(ctx.now);
    let answer = fields_of(to_value(&GetAnswer {
        order_status: order.status.code(),
        waybill_id: order.waybill_id.clone(),
        rider_name: order.rider.map_or_else(String::new, |r| r.name.to_owned()),
        rider_phone: order.rider.map_or_else(String::new, |r| r.phone.to_owned()),
        rider_lng: position.map_or(0.0, |p| round6(p.lng)),
        rider_lat: position.map_or(0.0, |p| round6(p.lat)),
        reach_time: order.reach_time(),
    }));
    state.note_get(&id);
    Ok(answer)
}

/// Six decimals, as the document gives coordinates.
fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The cancel reason: `cancel_reason_id` 1–6, and a text for 6.
fn cancel_reason(f: &Fields) -> Result<(u64, String), Reject> {
    let id = f
        .uint("cancel_reason_id")?
        .ok_or_else(|| Reject::param("cancel_reason_id is required"))?;
    let known = seed::CANCEL_REASONS
        .iter()
        .find(|(n, _)| *n == id)
        .ok_or_else(|| Reject::param(format!("cancel_reason_id {id} is not 1-6")))?;
    let text = f.optional("cancel_reason")?;
    if id == seed::OTHER_REASON && text.is_none() {
        return Err(Reject::param(
            "cancel_reason is required when cancel_reason_id is 6",
        ));
    }
    Ok((id, text.unwrap_or_else(|| known.1.to_owned())))
}

/// Shared start of precancel and cancel: `shop_order_id`, the order (930563), `waybill_id`,
/// the reason.
fn cancel_request(
    inner: &Inner,
    f: &Fields,
) -> Result<(CompanyConfig, String, u64, String), Reject> {
    let company = account(inner, f, false)?;
    check_sign(f, &company)?;
    let id = shop_order_id(f)?;
    {
        let state = inner.state();
        check_waybill(f, state.order_of(&company.delivery_id, &id)?)?;
    }
    let (reason_id, reason) = cancel_reason(f)?;
    Ok((company, id, reason_id, reason))
}

fn cancel_answer(deduct_fen: i64, desc: String) -> Answer {
    Ok(fields_of(to_value(&CancelAnswer {
        deduct_fee: Yuan(deduct_fen),
        desc,
    })))
}

/// `order/precancel`: what cancelling would cost (`deduct_fee` yuan, `desc`), changing nothing.
/// 930565 once the order is over; company 10010 while returning, 10009 after pick-up where the
/// company forbids it (Dada).
pub fn precancel(inner: &Inner, ctx: &Ctx<'_>, f: &Fields) -> Answer {
    let (company, id, _, _) = cancel_request(inner, f)?;
    let (fen, desc) = inner.state().cancel_terms(&company, &id, ctx.now)?;
    cancel_answer(fen, desc)
}

/// `order/cancel`: as precancel, and cancels: 103 before the store, 203 at it, 303 after
/// pick-up (the goods come back; confirm with confirm_return).
pub fn cancel(inner: &Inner, ctx: &Ctx<'_>, f: &Fields) -> Answer {
    let (company, id, reason_id, reason) = cancel_request(inner, f)?;
    let (fen, desc) = inner
        .state()
        .merchant_cancel(&company, &id, reason_id, reason, ctx.now)?;
    cancel_answer(fen, desc)
}

/// `order/confirm_return`: 303/304/305 → 401; company 10012 otherwise.
pub fn confirm_return(inner: &Inner, ctx: &Ctx<'_>, f: &Fields) -> Answer {
    let company = account(inner, f, false)?;
    check_sign(f, &company)?;
    let id = shop_order_id(f)?;
    let remark = f.optional("remark")?;
    let mut state = inner.state();
    check_waybill(f, state.order_of(&company.delivery_id, &id)?)?;
    state.confirm_return(&id, remark, ctx.now)?;
    Ok(Map::new())
}

/// `test_update_order` (mockUpdateOrder): `shopid` must be the TEST company's (930561),
/// `shop_order_id` an order (930563) of the TEST company (930561), `order_status` a documented
/// code (930561); `action_time` (unix seconds, default now) and `action_msg` optional. No
/// `delivery_sign` is needed; one that is sent must be right. Moves to the status, whatever the
/// current one, and pushes it.
pub fn test_update_order(inner: &Inner, ctx: &Ctx<'_>, f: &Fields) -> Answer {
    let shopid = f.required("shopid")?;
    let test = inner
        .state()
        .company(TEST_DELIVERY_ID)
        .map(|c| c.config.clone())
        .filter(|c| c.shopid == shopid)
        .ok_or_else(|| Reject::param("mockUpdateOrder only works with shopid test_shop_id"))?;
    if f.optional("delivery_sign")?.is_some() {
        check_sign(f, &test)?;
    }
    let id = shop_order_id(f)?;
    let status_code = f
        .uint("order_status")?
        .ok_or_else(|| Reject::param("order_status is required"))?;
    let status = i64::try_from(status_code)
        .ok()
        .and_then(Status::from_code)
        .ok_or_else(|| Reject::param(format!("order_status {status_code} is not documented")))?;
    let action_time = match f.uint("action_time")? {
        None | Some(0) => ctx.now,
        Some(secs) => i64::try_from(secs)
            .ok()
            .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
            .ok_or_else(|| Reject::param("action_time is out of range"))?,
    };
    let action_msg = f.optional("action_msg")?;
    let mut state = inner.state();
    let order = state
        .orders
        .get(&id)
        .ok_or_else(|| Reject::platform(code::ORDER_NOT_FOUND))?;
    if order.delivery_id != TEST_DELIVERY_ID {
        return Err(Reject::param(
            "mockUpdateOrder only works on orders of delivery_id TEST",
        ));
    }
    state.mock_update(&id, status, action_time, action_msg)?;
    Ok(Map::new())
}
