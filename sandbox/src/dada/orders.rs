//! Order endpoints: reading each business body into the sandbox's rules in [`super::store`] and
//! answering in Dada's spelling.
//!
//! addOrder, reAddOrder and queryDeliverFee share one body, read in this order (first failure
//! answers): `origin_id` (2104), `shop_no` (1993), `city_code` (2126), `cargo_price` (2113 if
//! absent or negative), `is_prepay` (1993 absent, 1994 not 0/1), `receiver_name` (2120),
//! `receiver_address` (2121), `receiver_phone` or `receiver_tel` (2122), `callback` (2123),
//! `cargo_weight` (2103 if absent or ≤ 0), coordinates, `tips`, switches, `origin_mark`,
//! `product_list` (1994 if malformed), `delay_publish_time` (2468 if less than 5 minutes ahead,
//! 1994 beyond 3 days); then the shop (2004, 2132 offline), the city (2044), the `origin_id`'s
//! history (2105 / 2005, 2060, 2061 / 2130) and the balance (2155).

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::{
    Inner,
    api::Ctx,
    error::{Reject, code},
    fee::{FeeQuote, GeoPoint},
    money::Yuan,
    params::Fields,
    seed,
    store::{Move, OrderKey, OrderRequest, Publish, to_value},
    wire::{
        CancelResult, FeeResult, OrderDetail, Reason, TrackResult, Transporter, TransporterPosition,
    },
};

/// Most orders `/api/order/transporter/position` takes at once.
const MAX_POSITION_ORDERS: usize = 50;

type Answer = Result<Option<Value>, Reject>;

/// Reads an addOrder-shaped body.
fn order_request(f: &Fields, now: DateTime<Utc>) -> Result<OrderRequest, Reject> {
    let origin_id = f.required("origin_id", Reject::of(code::ORIGIN_ID_EMPTY))?;
    let shop_no = f.required("shop_no", Reject::empty("shop_no"))?;
    let city_code = f.required("city_code", Reject::of(code::CITY_CODE_EMPTY))?;
    let cargo_price_fen = f
        .yuan("cargo_price")?
        .filter(|p| *p >= 0)
        .ok_or_else(|| Reject::of(code::CARGO_PRICE))?;
    let is_prepay = match f.int("is_prepay")? {
        None => return Err(Reject::empty("is_prepay")),
        Some(0) => false,
        Some(1) => true,
        Some(_) => return Err(Reject::format("is_prepay")),
    };
    let receiver_name = f.required("receiver_name", Reject::of(code::RECEIVER_NAME))?;
    let receiver_address = f.required("receiver_address", Reject::of(code::RECEIVER_ADDRESS))?;
    let receiver_phone = f.text("receiver_phone")?;
    let receiver_tel = f.text("receiver_tel")?;
    if receiver_phone.is_none() && receiver_tel.is_none() {
        return Err(Reject::of(code::RECEIVER_PHONE));
    }
    let callback = f.required("callback", Reject::of(code::CALLBACK_EMPTY))?;
    let weight_kg = f
        .float("cargo_weight")?
        .filter(|w| *w > 0.0)
        .ok_or_else(|| Reject::of(code::CARGO_WEIGHT))?;
    let receiver = match (f.float("receiver_lat")?, f.float("receiver_lng")?) {
        (Some(lat), Some(lng))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng) =>
        {
            Some(GeoPoint { lng, lat })
        }
        (None, None) => None,
        _ => return Err(Reject::format("receiver_lat/receiver_lng")),
    };
    let tips_fen = f.yuan("tips")?.unwrap_or(0);
    if tips_fen < 0 {
        return Err(Reject::format("tips"));
    }
    if let Some(mark) = f.text("origin_mark")?
        && (mark.chars().count() > 10 || !mark.chars().all(|c| c.is_ascii_alphabetic()))
    {
        return Err(Reject::format("origin_mark"));
    }
    let origin_mark_no = f.text("origin_mark_no")?;
    if origin_mark_no
        .as_ref()
        .is_some_and(|m| m.chars().count() > 30)
    {
        return Err(Reject::format("origin_mark_no"));
    }
    if let Some(list) = f.get("product_list") {
        check_product_list(list)?;
    }
    let delay_publish_time = match f.int("delay_publish_time")? {
        None | Some(0) => None,
        Some(secs) => {
            let at = DateTime::<Utc>::from_timestamp(secs, 0)
                .ok_or_else(|| Reject::format("delay_publish_time"))?;
            if at < now + TimeDelta::minutes(5) {
                return Err(Reject::of(code::BOOKING_TOO_SOON));
            }
            if at > now + TimeDelta::days(3) {
                return Err(Reject::with(code::BAD_FORMAT, "预约发单时间不能超过3天"));
            }
            Some(at)
        }
    };
    Ok(OrderRequest {
        shop_no,
        origin_id,
        city_code,
        cargo_price_fen,
        is_prepay,
        receiver_name,
        receiver_address,
        receiver_phone,
        receiver_tel,
        receiver,
        callback,
        // Grams, so the weight surcharge is exact.
        cargo_weight_g: (weight_kg * 1000.0).round().min(1e12) as u64,
        tips_fen,
        info: f.text("info")?,
        cargo_type: f.int("cargo_type")?,
        cargo_num: f.int("cargo_num")?,
        insured: f.flag("is_use_insurance")?,
        finish_code_needed: f.flag("is_finish_code_needed")?,
        direct_delivery: f.flag("is_direct_delivery")?,
        delay_publish_time,
        origin_mark_no,
    })
}

/// `product_list`: objects with `sku_name`, `src_product_no` and a numeric `count`.
fn check_product_list(list: &Value) -> Result<(), Reject> {
    let items = list
        .as_array()
        .ok_or_else(|| Reject::format("product_list"))?;
    for item in items {
        let item = Fields::from_map(
            item.as_object()
                .cloned()
                .ok_or_else(|| Reject::format("product_list"))?,
        );
        let complete =
            item.has("sku_name") && item.has("src_product_no") && item.float("count")?.is_some();
        if !complete {
            return Err(Reject::format("product_list"));
        }
    }
    Ok(())
}

fn fee_result(fee: FeeQuote, delivery_no: Option<String>) -> Option<Value> {
    Some(to_value(&FeeResult {
        distance: fee.distance_m,
        fee: Yuan(fee.fee_fen),
        deliver_fee: Yuan(fee.deliver_fee_fen),
        coupon_fee: Yuan(fee.coupon_fee_fen),
        tips: Yuan(fee.tips_fen),
        insurance_fee: Yuan(fee.insurance_fee_fen),
        delivery_no,
    }))
}

fn key(ctx: &Ctx<'_>, origin_id: String) -> OrderKey {
    (ctx.source_id.to_owned(), origin_id)
}

/// `order_id` of an order body; its absence is 1993.
fn order_id(f: &Fields) -> Result<String, Reject> {
    f.required("order_id", Reject::empty("order_id"))
}

pub fn add_order(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let request = order_request(&Fields::parse(body)?, ctx.now)?;
    let fee = inner
        .state()
        .publish(ctx.source_id, request, Publish::New, ctx.now)?;
    Ok(fee_result(fee, None))
}

pub fn re_add_order(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let request = order_request(&Fields::parse(body)?, ctx.now)?;
    let fee = inner
        .state()
        .publish(ctx.source_id, request, Publish::Again, ctx.now)?;
    Ok(fee_result(fee, None))
}

pub fn query_deliver_fee(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let request = order_request(&Fields::parse(body)?, ctx.now)?;
    let (fee, delivery_no) = inner.state().quote(ctx.source_id, request, ctx.now)?;
    Ok(fee_result(fee, Some(delivery_no)))
}

pub fn add_after_query(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let f = Fields::parse(body)?;
    let delivery_no = f.required("deliveryNo", Reject::of(code::DELIVERY_NO_EMPTY))?;
    let (fee, delivery_no) = inner
        .state()
        .publish_quote(ctx.source_id, &delivery_no, ctx.now)?;
    Ok(fee_result(fee, Some(delivery_no)))
}

pub fn add_tip(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let f = Fields::parse(body)?;
    let origin_id = order_id(&f)?;
    let tips = f.yuan("tips")?.ok_or_else(|| Reject::empty("tips"))?;
    f.required("city_code", Reject::of(code::CITY_CODE_EMPTY))?;
    if f.text("info")?.is_some_and(|i| i.chars().count() > 512) {
        return Err(Reject::format("info"));
    }
    inner.state().add_tip(ctx.source_id, &origin_id, tips)?;
    Ok(None)
}

pub fn status_query(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let origin_id = order_id(&Fields::parse(body)?)?;
    let state = inner.state();
    let order = state.order(ctx.source_id, &origin_id)?;
    let courier = order.courier();
    let position = order.courier_position(ctx.now, state.schedule.finish_after_secs);
    let quote = order.quote;
    let detail = OrderDetail {
        order_id: order.origin_id.clone(),
        status_code: order.status.code(),
        status_msg: order.status.msg(),
        transporter_name: courier.map_or_else(String::new, |c| c.name.to_owned()),
        transporter_phone: courier.map_or_else(String::new, |c| c.phone.to_owned()),
        transporter_lng: position.map_or_else(String::new, |p| format!("{:.6}", p.lng)),
        transporter_lat: position.map_or_else(String::new, |p| format!("{:.6}", p.lat)),
        delivery_fee: Yuan(quote.deliver_fee_fen),
        tips: Yuan(order.tips_fen),
        coupon_fee: Yuan(quote.coupon_fee_fen),
        insurance_fee: Yuan(quote.insurance_fee_fen),
        actual_fee: Yuan(order.paid_fen),
        distance: quote.distance_m,
        create_time: beijing(Some(order.created_at)),
        accept_time: beijing(order.accepted_at),
        fetch_time: beijing(order.fetched_at),
        finish_time: beijing(order.finished_at),
        cancel_time: beijing(order.cancelled_at),
        order_finish_code: order.finish_code.clone(),
        deduct_fee: Yuan(order.deduct_fee_fen),
    };
    Ok(Some(to_value(&detail)))
}

/// Beijing time, `""` for a moment not reached.
fn beijing(t: Option<DateTime<Utc>>) -> String {
    // Evaluated at compile time, so the `panic!` can only ever fail the build.
    const BEIJING: chrono::FixedOffset = match chrono::FixedOffset::east_opt(8 * 3600) {
        Some(offset) => offset,
        None => panic!("UTC+8 is a valid offset"),
    };
    t.map_or_else(String::new, |t| {
        t.with_timezone(&BEIJING)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    })
}

pub fn formal_cancel(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let f = Fields::parse(body)?;
    let origin_id = order_id(&f)?;
    let reason_id = f
        .int("cancel_reason_id")?
        .ok_or_else(|| Reject::of(code::CANCEL_REASON_EMPTY))?;
    let listed =
        seed::cancel_reason(reason_id).ok_or_else(|| Reject::of(code::CANCEL_REASON_UNKNOWN))?;
    let text = f.text("cancel_reason")?;
    let reason = match (reason_id, text) {
        (seed::OTHER_REASON_ID, None) => return Err(Reject::of(code::OTHER_NEEDS_REASON)),
        (_, Some(text)) => text,
        (_, None) => listed.to_owned(),
    };
    let penalty = inner
        .state()
        .merchant_cancel(ctx.source_id, &origin_id, reason, ctx.now)?;
    Ok(Some(to_value(&CancelResult {
        deduct_fee: Yuan(penalty),
    })))
}

pub fn cancel_reasons(_: &Inner, _: &Ctx<'_>, _: &str) -> Answer {
    let list: Vec<Reason> = seed::CANCEL_REASONS
        .iter()
        .map(|&(id, reason)| Reason { id, reason })
        .collect();
    Ok(Some(to_value(&list)))
}

pub fn appoint(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let f = Fields::parse(body)?;
    let origin_id = order_id(&f)?;
    let courier = f
        .int("transporter_id")?
        .ok_or_else(|| Reject::empty("transporter_id"))?;
    let shop_no = f.required("shop_no", Reject::empty("shop_no"))?;
    inner
        .state()
        .appoint(ctx.source_id, &origin_id, courier, &shop_no, ctx.now)?;
    Ok(None)
}

pub fn appoint_cancel(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let origin_id = order_id(&Fields::parse(body)?)?;
    inner
        .state()
        .cancel_appointment(ctx.source_id, &origin_id, ctx.now)?;
    Ok(None)
}

pub fn appoint_list(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let shop_no = Fields::parse(body)?.required("shop_no", Reject::empty("shop_no"))?;
    let state = inner.state();
    state
        .shops
        .get(&shop_no)
        .filter(|s| s.source_id == ctx.source_id)
        .ok_or_else(|| Reject::of(code::INVALID_SHOP))?;
    let list: Vec<Transporter> = state
        .appointable(ctx.source_id, &shop_no, ctx.now)
        .into_iter()
        .map(|c| Transporter {
            id: c.id,
            name: c.name,
            city_id: c.city_id,
            phone: c.phone,
        })
        .collect();
    Ok(Some(to_value(&list)))
}

pub fn complaint(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let f = Fields::parse(body)?;
    let origin_id = order_id(&f)?;
    let reason_id = f
        .int("reason_id")?
        .ok_or_else(|| Reject::empty("reason_id"))?;
    inner
        .state()
        .complain(ctx.source_id, &origin_id, reason_id, ctx.now)?;
    Ok(None)
}

pub fn complaint_reasons(_: &Inner, _: &Ctx<'_>, _: &str) -> Answer {
    let list: Vec<Reason> = seed::COMPLAINT_REASONS
        .iter()
        .map(|&(id, reason)| Reason { id, reason })
        .collect();
    Ok(Some(to_value(&list)))
}

pub fn confirm_goods(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let origin_id = order_id(&Fields::parse(body)?)?;
    inner
        .state()
        .confirm_goods(ctx.source_id, &origin_id, ctx.now)?;
    Ok(None)
}

pub fn transporter_position(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let f = Fields::parse(body)?;
    let ids = match f.get("orderIds") {
        None => return Err(Reject::empty("orderIds")),
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|v| match v {
                Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(Reject::format("orderIds")),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(Reject::format("orderIds")),
    };
    if ids.is_empty() {
        return Err(Reject::empty("orderIds"));
    }
    if ids.len() > MAX_POSITION_ORDERS {
        return Err(Reject::with(code::BAD_FORMAT, "orderIds最多50个"));
    }
    let state = inner.state();
    // Orders that are unknown or have no courier on the road are left out rather than failing
    // the whole batch.
    let list: Vec<TransporterPosition> = ids
        .iter()
        .filter_map(|id| {
            let order = state.order(ctx.source_id, id).ok()?;
            let courier = order.courier()?;
            let p = order.courier_position(ctx.now, state.schedule.finish_after_secs)?;
            Some(TransporterPosition {
                order_id: order.origin_id.clone(),
                transporter_id: courier.id,
                transporter_name: courier.name,
                transporter_phone: courier.phone,
                transporter_lng: format!("{:.6}", p.lng),
                transporter_lat: format!("{:.6}", p.lat),
            })
        })
        .collect();
    Ok(Some(to_value(&list)))
}

pub fn transporter_track(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let origin_id = order_id(&Fields::parse(body)?)?;
    let state = inner.state();
    let order = state.order(ctx.source_id, &origin_id)?;
    let track_url = format!(
        "{}/_control/track/{}?sourceId={}",
        ctx.base_url, order.origin_id, order.source_id
    );
    Ok(Some(to_value(&TrackResult { track_url })))
}

/// The test-environment endpoints: `{"order_id"}` (plus `reason` for cancel).
fn simulate(inner: &Inner, ctx: &Ctx<'_>, body: &str, step: Move) -> Answer {
    let f = Fields::parse(body)?;
    let origin_id = order_id(&f)?;
    let reason = f.text("reason")?;
    let mut state = inner.state();
    state.order(ctx.source_id, &origin_id)?;
    state.apply(&key(ctx, origin_id), step, reason, ctx.now)?;
    Ok(None)
}

pub fn simulate_accept(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    simulate(inner, ctx, body, Move::Accept)
}

pub fn simulate_fetch(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    simulate(inner, ctx, body, Move::Fetch)
}

pub fn simulate_finish(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    simulate(inner, ctx, body, Move::Finish)
}

pub fn simulate_cancel(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    simulate(inner, ctx, body, Move::Cancel)
}

pub fn simulate_expire(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    simulate(inner, ctx, body, Move::Expire)
}

pub fn simulate_abnormal_back(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    simulate(inner, ctx, body, Move::AbnormalBack)
}
