//! Control-route overrides applied to an order the sandbox creates.

use super::*;

pub(super) fn apply_overrides(create: &mut CreateOrder, o: &Overrides) -> Result<(), String> {
    if let Some(v) = &o.user_mobile {
        create.user_mobile = v.clone();
    }
    if let Some(v) = o.city_id {
        create.city_id = v;
    }
    if let Some(v) = &o.city_name {
        create.city_name = v.clone();
    }
    if let Some(v) = o.lng {
        create.lng = v;
    }
    if let Some(v) = o.lat {
        create.lat = v;
    }
    if !create.lng.is_finite() || !create.lat.is_finite() {
        return Err("lng and lat must be finite numbers".to_owned());
    }
    if let Some(v) = &o.service_address {
        create.service_address = v.clone();
    }
    if let Some(v) = &o.remark {
        create.remark = v.clone();
    }
    match &o.service_user_id {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => create.service_user_id = s.clone(),
        Some(Value::Number(n)) => create.service_user_id = n.to_string(),
        Some(_) => return Err("serviceUserId must be text or a number".to_owned()),
    }
    if let Some(v) = o.service_duration {
        create.service_duration = v;
    }
    let begin = match &o.service_begin_time {
        Some(text) => {
            create.service_begin_time = text.clone();
            Some(parse_beijing_time(text).ok_or("serviceBeginTime must be yyyy-MM-dd HH:mm:ss")?)
        }
        // A changed duration moves the generated end time along.
        None if o.service_duration.is_some() => parse_beijing_time(&create.service_begin_time),
        None => None,
    };
    match (&o.service_end_time, begin) {
        (Some(text), _) => {
            parse_beijing_time(text).ok_or("serviceEndTime must be yyyy-MM-dd HH:mm:ss")?;
            create.service_end_time = text.clone();
        }
        (None, Some(begin)) => {
            let end = TimeDelta::try_hours(i64::from(create.service_duration))
                .and_then(|d| begin.checked_add_signed(d))
                .ok_or("serviceBeginTime + serviceDuration is beyond the calendar")?;
            create.service_end_time = params::beijing_time(end);
        }
        (None, None) => {}
    }
    if let Some(lines) = &o.order_details {
        let mut parsed = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            let fen = money::fen_from_json(&line.goods_price)
                .ok_or_else(|| format!("orderDetails[{i}].goodsPrice is not a yuan amount"))?;
            parsed.push(OrderLine {
                goods_id: line.goods_id,
                goods_number: line.goods_number,
                goods_price: Yuan(fen),
            });
        }
        create.total_price = Yuan(lines_total(&parsed).ok_or("orderDetails overflow")?);
        create.order_details = parsed;
    }
    if let Some(v) = &o.total_price {
        create.total_price =
            Yuan(money::fen_from_json(v).ok_or("totalPrice is not a yuan amount")?);
    }
    Ok(())
}
