//! Reading the body that pre_add, add and readd share into an [`OrderRequest`], field by field
//! in the document's order, each failure with its code.

use super::*;

// ------------------------------------------------------------------ placing orders

/// pre_add, add and readd share one body, read in this order after the account and the
/// signature: `shop_order_id` (930561), `openid` (930561 absent, 930559 unknown), Chinese escaped
/// as `\uXXXX` anywhere in the body (930570), `shop_no` (930567 if sent and not a registered
/// store), `sender` (930561; may be left out with a `shop_no` unless the company needs it),
/// `receiver` (930561), `cargo` (930561; 930570 for a blank class), `order_info` (930561),
/// `shop` (9300535).
pub(super) fn order_request(
    inner: &Inner,
    ctx: &Ctx<'_>,
    f: &Fields,
    company: &CompanyConfig,
) -> Result<OrderRequest, Reject> {
    let shop_order_id = shop_order_id(f)?;
    let openid = check_openid(inner, f)?;
    if inner.reject_escaped_unicode && escapes_non_ascii(ctx.raw) {
        return Err(Reject::platform_with(
            code::CARGO_CLASS,
            "send Chinese text unescaped, not as \\uXXXX",
        ));
    }
    let shop_no = f.optional("shop_no")?;
    let store = match &shop_no {
        Some(no) => Some(
            seed::stores()
                .into_iter()
                .find(|s| &s.shop_no == no)
                .ok_or_else(|| {
                    Reject::platform_with(code::SHOP_ARG, format!("shop_no {no} is not registered"))
                })?,
        ),
        None => None,
    };
    let sender = match (f.object("sender")?, store) {
        (Some(sender), _) => party(&sender)?,
        (None, Some(store)) if !company.sender_required => Party {
            name: store.name,
            city: store.city,
            address: store.address,
            address_detail: store.address_detail,
            phone: store.phone,
            point: GeoPoint {
                lng: store.lng,
                lat: store.lat,
            },
            coordinate_type: 0,
        },
        (None, _) => return Err(Reject::param("sender is required")),
    };
    let receiver = party(
        &f.object("receiver")?
            .ok_or_else(|| Reject::param("receiver is required"))?,
    )?;
    let cargo = cargo(
        &f.object("cargo")?
            .ok_or_else(|| Reject::param("cargo is required"))?,
    )?;
    let order_info = order_info(
        &f.object("order_info")?
            .ok_or_else(|| Reject::param("order_info is required"))?,
        ctx.now,
    )?;
    let shop = shop(f)?;
    Ok(OrderRequest {
        shopid: company.shopid.clone(),
        shop_order_id,
        delivery_id: company.delivery_id.clone(),
        openid,
        shop_no: shop_no.unwrap_or_default(),
        sender,
        receiver,
        cargo,
        order_info,
        shop,
        delivery_token: f.optional("delivery_token")?,
        sub_biz_id: f.optional("sub_biz_id")?,
    })
}

pub(super) fn too_long(
    f: &Fields,
    field: &str,
    value: &str,
    max_chars: usize,
) -> Result<(), Reject> {
    if value.chars().count() > max_chars {
        return Err(Reject::param(format!(
            "{} is longer than {max_chars} characters",
            f.name(field)
        )));
    }
    Ok(())
}

/// A sender or receiver: every text field required, coordinates required and on the globe.
pub(super) fn party(f: &Fields) -> Result<Party, Reject> {
    let name = f.required("name")?;
    too_long(f, "name", &name, 256)?;
    let city = f.required("city")?;
    let address = f.required("address")?;
    let address_detail = f.required("address_detail")?;
    let phone = f.required("phone")?;
    too_long(f, "phone", &phone, 64)?;
    let lng = f
        .number("lng")?
        .filter(|v| (-180.0..=180.0).contains(v) && *v != 0.0)
        .ok_or_else(|| Reject::param(format!("{} is required", f.name("lng"))))?;
    let lat = f
        .number("lat")?
        .filter(|v| (-90.0..=90.0).contains(v) && *v != 0.0)
        .ok_or_else(|| Reject::param(format!("{} is required", f.name("lat"))))?;
    let coordinate_type = f.uint("coordinate_type")?.unwrap_or(0);
    let point = match coordinate_type {
        0 => GeoPoint { lng, lat },
        1 => GeoPoint::from_baidu(lng, lat),
        _ => {
            return Err(Reject::param(format!(
                "{} must be 0 or 1",
                f.name("coordinate_type")
            )));
        }
    };
    Ok(Party {
        name,
        city,
        address,
        address_detail,
        phone,
        point,
        coordinate_type,
    })
}

/// A number in `(0, max]`, required or not.
pub(super) fn in_range(
    f: &Fields,
    field: &str,
    max: f64,
    required: bool,
) -> Result<Option<f64>, Reject> {
    match f.number(field)? {
        None if required => Err(Reject::param(format!("{} is required", f.name(field)))),
        None => Ok(None),
        Some(v) if v > 0.0 && v <= max => Ok(Some(v)),
        Some(v) => Err(Reject::param(format!(
            "{} must be in (0, {max}], got {v}",
            f.name(field)
        ))),
    }
}

/// `cargo`: value (0, 5000] yuan and weight (0, 50] kg required; dimensions checked when sent;
/// goods lines need a count ≥ 1 and a name; classes, when sent, must not be blank (930570).
pub(super) fn cargo(f: &Fields) -> Result<Cargo, Reject> {
    let goods_value_fen = f
        .yuan("goods_value")?
        .ok_or_else(|| Reject::param("cargo.goods_value is required"))?;
    if goods_value_fen <= 0 || goods_value_fen > MAX_GOODS_VALUE_FEN {
        return Err(Reject::param("cargo.goods_value must be in (0, 5000]"));
    }
    in_range(f, "goods_height", MAX_HEIGHT_CM, false)?;
    in_range(f, "goods_length", MAX_LENGTH_CM, false)?;
    in_range(f, "goods_width", MAX_WIDTH_CM, false)?;
    let weight_kg = in_range(f, "goods_weight", MAX_WEIGHT_KG, true)?.unwrap_or(0.0);
    let mut goods = Vec::new();
    if let Some(detail) = f.object("goods_detail")? {
        for line in detail.objects("goods")?.unwrap_or_default() {
            let good_count = line
                .uint("good_count")?
                .filter(|n| *n >= 1)
                .ok_or_else(|| Reject::param(format!("{} must be ≥ 1", line.name("good_count"))))?;
            let good_name = line.required("good_name")?;
            let good_price_fen = line.yuan("good_price")?;
            if good_price_fen.is_some_and(|p| p < 0) {
                return Err(Reject::param(format!(
                    "{} is negative",
                    line.name("good_price")
                )));
            }
            let good_unit = line.optional("good_unit")?;
            if let Some(unit) = &good_unit {
                too_long(&line, "good_unit", unit, 20)?;
            }
            goods.push(Good {
                good_count,
                good_name,
                good_price_fen,
                good_unit,
            });
        }
    }
    for field in ["goods_pickup_info", "goods_delivery_info"] {
        if let Some(text) = f.str(field)? {
            too_long(f, field, text, 100)?;
        }
    }
    let class = |field: &str| -> Result<Option<String>, Reject> {
        match f.str(field)? {
            Some(s) if s.trim().is_empty() => Err(Reject::platform_with(
                code::CARGO_CLASS,
                format!("{} is blank", f.name(field)),
            )),
            other => Ok(other.map(str::to_owned)),
        }
    };
    Ok(Cargo {
        goods_value_fen,
        goods_weight_g: (weight_kg * 1000.0).round() as u64,
        first_class: class("cargo_first_class")?,
        second_class: class("cargo_second_class")?,
        goods,
    })
}

/// `order_info`: `order_type` 0/1; a booked order (1) needs one of the expected times in the
/// future; `note` ≤ 200 and `poi_seq` ≤ 32 characters; `is_insured` needs a positive
/// `declared_value`; `tips` ≥ 0; the switches 0/1. The other fields are type-checked only.
pub(super) fn order_info(f: &Fields, now: DateTime<Utc>) -> Result<OrderInfo, Reject> {
    let order_type = f.uint("order_type")?.unwrap_or(0);
    if order_type > 1 {
        return Err(Reject::param("order_info.order_type must be 0 or 1"));
    }
    let time = |field: &str| -> Result<Option<DateTime<Utc>>, Reject> {
        match f.uint(field)? {
            None | Some(0) => Ok(None),
            Some(secs) => i64::try_from(secs)
                .ok()
                .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
                .map(Some)
                .ok_or_else(|| Reject::param(format!("{} is out of range", f.name(field)))),
        }
    };
    let delivery = time("expected_delivery_time")?;
    let pick = time("expected_pick_time")?;
    let finish = time("expected_finish_time")?;
    let dispatch_at = if order_type == 1 {
        let at = delivery
            .or(pick)
            .or_else(|| finish.map(|t| t - TimeDelta::hours(1)))
            .ok_or_else(|| {
                Reject::param("a booked order needs expected_delivery_time, expected_pick_time or expected_finish_time")
            })?;
        if delivery.or(pick).or(finish).is_some_and(|t| t <= now) {
            return Err(Reject::param(
                "the expected time of a booked order must be in the future",
            ));
        }
        Some(at)
    } else {
        None
    };
    let note = f.optional("note")?;
    if let Some(note) = &note {
        too_long(f, "note", note, 200)?;
    }
    let poi_seq = f.optional("poi_seq")?;
    if let Some(seq) = &poi_seq {
        too_long(f, "poi_seq", seq, 32)?;
    }
    let insured = f.flag("is_insured")?;
    let declared = f.yuan("declared_value")?;
    let insured_value_fen = if insured {
        Some(declared.filter(|v| *v > 0).ok_or_else(|| {
            Reject::param("order_info.declared_value must be positive when is_insured is 1")
        })?)
    } else {
        None
    };
    let tips_fen = f.yuan("tips")?.unwrap_or(0);
    if tips_fen < 0 {
        return Err(Reject::param("order_info.tips is negative"));
    }
    f.str("delivery_service_code")?;
    f.uint("order_time")?;
    f.yuan("cash_on_delivery")?;
    f.yuan("cash_on_pickup")?;
    f.uint("rider_pick_method")?;
    Ok(OrderInfo {
        order_type,
        dispatch_at,
        tips_fen,
        insured_value_fen,
        note,
        poi_seq,
        finish_code_needed: f.flag("is_finish_code_needed")?,
        pickup_code_needed: f.flag("is_pickup_code_needed")?,
        direct_delivery: f.flag("is_direct_delivery")?,
    })
}

/// `shop`: every problem with it, its type included, is 9300535.
pub(super) fn shop(f: &Fields) -> Result<ShopInfo, Reject> {
    let bad = |detail: &str| Reject::platform_with(code::BAD_SHOP, detail);
    let shop = f
        .object("shop")
        .map_err(|_| bad("shop must be an object"))?
        .ok_or_else(|| bad("shop is required"))?;
    let text = |field: &str| {
        shop.required(field)
            .map_err(|_| bad(&format!("shop.{field} must be a non-empty string")))
    };
    let wxa_path = text("wxa_path")?;
    let img_url = text("img_url")?;
    if !(img_url.starts_with("http://") || img_url.starts_with("https://")) {
        return Err(bad("shop.img_url must be an http(s) URL"));
    }
    let goods_name = text("goods_name")?;
    let goods_count = shop
        .uint("goods_count")
        .ok()
        .flatten()
        .filter(|n| *n >= 1)
        .ok_or_else(|| bad("shop.goods_count must be a positive integer"))?;
    Ok(ShopInfo {
        wxa_path,
        img_url,
        goods_name,
        goods_count,
    })
}
