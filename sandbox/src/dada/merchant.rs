//! Merchant, shop, money and message endpoints.

use serde_json::Value;

use super::{
    Inner,
    api::Ctx,
    error::{Reject, code},
    money::Yuan,
    params::Fields,
    seed,
    store::{Shop, State, to_value},
    wire::{BalanceResult, CityItem, ShopAddResult, ShopAdded, ShopDetail, ShopFailed},
};

type Answer = Result<Option<Value>, Reject>;

pub fn city_list(_: &Inner, _: &Ctx<'_>, _: &str) -> Answer {
    let list: Vec<CityItem> = seed::CITIES
        .iter()
        .map(|c| CityItem {
            city_name: c.name,
            city_code: c.code,
        })
        .collect();
    Ok(Some(to_value(&list)))
}

/// `/merchantApi/merchant/add`: every field is required (1993); the city must be open (2044).
/// Answers the new `source_id` as a number, like the document's example.
pub fn merchant_add(inner: &Inner, _: &Ctx<'_>, body: &str) -> Answer {
    let f = Fields::parse(body)?;
    let mut values = Vec::new();
    for name in [
        "mobile",
        "city_name",
        "enterprise_name",
        "enterprise_address",
        "contact_name",
        "contact_phone",
        "email",
    ] {
        values.push(f.required(name, Reject::empty(name))?);
    }
    let [mobile, city_name, enterprise_name, _, contact_name, ..] = values.as_slice() else {
        return Err(Reject::of(code::SYSTEM_ERROR));
    };
    if seed::city_by_name(city_name).is_none() {
        return Err(Reject::of(code::CITY_NOT_OPEN));
    }
    let id = inner.state().add_merchant(
        mobile.clone(),
        city_name.clone(),
        enterprise_name.clone(),
        contact_name.clone(),
    );
    Ok(Some(Value::from(id)))
}

/// `/api/shop/add`: a JSON array of shops. Each shop succeeds or fails on its own; a batch in
/// which nothing succeeds is answered as a failure carrying the first shop's code (2403 for a
/// taken shop number), since a merchant importing one shop expects the envelope to say so.
pub fn shop_add(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let items = match serde_json::from_str::<Value>(body) {
        Ok(Value::Array(items)) => items,
        Ok(_) => return Err(Reject::with(code::BAD_FORMAT, "body必须是门店数组")),
        Err(_) if body.trim().is_empty() => return Err(Reject::empty("body")),
        Err(_) => return Err(Reject::of(code::BODY_NOT_JSON)),
    };
    if items.is_empty() {
        return Err(Reject::empty("body"));
    }
    let mut state = inner.state();
    let mut result = ShopAddResult {
        success: 0,
        success_list: Vec::new(),
        failed_list: Vec::new(),
    };
    for item in items {
        let fields = match item {
            Value::Object(map) => Fields::from_map(map),
            _ => {
                result.failed_list.push(ShopFailed {
                    shop_no: String::new(),
                    shop_name: String::new(),
                    msg: "门店信息必须是JSON对象".to_owned(),
                    code: code::BAD_FORMAT,
                });
                continue;
            }
        };
        match add_one_shop(&mut state, ctx.source_id, &fields) {
            Ok(added) => result.success_list.push(added),
            Err(reject) => result.failed_list.push(ShopFailed {
                shop_no: fields
                    .text("origin_shop_id")
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
                shop_name: fields
                    .text("station_name")
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
                msg: reject.msg,
                code: reject.code,
            }),
        }
    }
    result.success = result.success_list.len();
    if result.success == 0
        && let Some(first) = result.failed_list.first()
    {
        return Err(Reject::with(first.code, first.msg.clone()));
    }
    Ok(Some(to_value(&result)))
}

fn add_one_shop(state: &mut State, source_id: &str, f: &Fields) -> Result<ShopAdded, Reject> {
    let text = |name: &str| f.required(name, Reject::empty(name));
    let station_name = text("station_name")?;
    let business = f
        .int("business")?
        .ok_or_else(|| Reject::empty("business"))?;
    let city_name = text("city_name")?;
    let area_name = text("area_name")?;
    let station_address = text("station_address")?;
    let lng = f.float("lng")?.ok_or_else(|| Reject::empty("lng"))?;
    let lat = f.float("lat")?.ok_or_else(|| Reject::empty("lat"))?;
    let contact_name = text("contact_name")?;
    let phone = text("phone")?;
    let city = seed::city_by_name(&city_name).ok_or_else(|| Reject::of(code::CITY_NOT_OPEN))?;
    let origin_shop_id = match f.text("origin_shop_id")? {
        Some(no) if state.shops.contains_key(&no) => return Err(Reject::of(code::SHOP_EXISTS)),
        Some(no) => no,
        None => state.generate_shop_no(source_id),
    };
    let shop = Shop {
        source_id: source_id.to_owned(),
        origin_shop_id: origin_shop_id.clone(),
        station_name,
        business,
        city_name: city.name.to_owned(),
        area_name,
        station_address,
        lng,
        lat,
        contact_name,
        phone,
        id_card: f.text("id_card")?.unwrap_or_default(),
        status: 1,
    };
    let added = ShopAdded {
        phone: shop.phone.clone(),
        business: shop.business,
        lng: shop.lng,
        lat: shop.lat,
        station_name: shop.station_name.clone(),
        origin_shop_id: shop.origin_shop_id.clone(),
        contact_name: shop.contact_name.clone(),
        station_address: shop.station_address.clone(),
        city_name: shop.city_name.clone(),
        area_name: shop.area_name.clone(),
    };
    state.shops.insert(origin_shop_id, shop);
    Ok(added)
}

/// The merchant's shop `origin_shop_id`, else 2402.
fn own_shop<'s>(state: &'s mut State, source_id: &str, no: &str) -> Result<&'s mut Shop, Reject> {
    state
        .shops
        .get_mut(no)
        .filter(|s| s.source_id == source_id)
        .ok_or_else(|| Reject::of(code::SHOP_MISSING))
}

/// `/api/shop/update`: only the keys present change; a present key must not be blank (1993);
/// none present is 2406.
pub fn shop_update(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let f = Fields::parse(body)?;
    let no = f.required("origin_shop_id", Reject::empty("origin_shop_id"))?;
    const UPDATABLE: &[&str] = &[
        "new_shop_id",
        "station_name",
        "business",
        "city_name",
        "area_name",
        "station_address",
        "lng",
        "lat",
        "contact_name",
        "phone",
        "status",
    ];
    let mut state = inner.state();
    own_shop(&mut state, ctx.source_id, &no)?;
    let present: Vec<&str> = UPDATABLE
        .iter()
        .copied()
        .filter(|k| f.get(k).is_some())
        .collect();
    if present.is_empty() {
        return Err(Reject::of(code::NOTHING_TO_UPDATE));
    }
    if let Some(blank) = present.iter().find(|k| !f.has(k)) {
        return Err(Reject::empty(blank));
    }
    // Everything is read before anything is written, so a bad field changes nothing.
    let new_no = f.text("new_shop_id")?.filter(|n| *n != no);
    if new_no.as_ref().is_some_and(|n| state.shops.contains_key(n)) {
        return Err(Reject::of(code::SHOP_EXISTS));
    }
    let city = match f.text("city_name")? {
        Some(name) => {
            Some(seed::city_by_name(&name).ok_or_else(|| Reject::of(code::CITY_NOT_OPEN))?)
        }
        None => None,
    };
    let status = match f.int("status")? {
        None => None,
        Some(s @ (0 | 1)) => Some(s),
        Some(_) => return Err(Reject::format("status")),
    };
    let (business, lng, lat) = (f.int("business")?, f.float("lng")?, f.float("lat")?);
    let texts = [
        f.text("station_name")?,
        f.text("area_name")?,
        f.text("station_address")?,
        f.text("contact_name")?,
        f.text("phone")?,
    ];
    let shop = own_shop(&mut state, ctx.source_id, &no)?;
    let [
        station_name,
        area_name,
        station_address,
        contact_name,
        phone,
    ] = texts;
    let targets = [
        (station_name, &mut shop.station_name),
        (area_name, &mut shop.area_name),
        (station_address, &mut shop.station_address),
        (contact_name, &mut shop.contact_name),
        (phone, &mut shop.phone),
    ];
    for (value, target) in targets {
        if let Some(value) = value {
            *target = value;
        }
    }
    if let Some(city) = city {
        shop.city_name = city.name.to_owned();
    }
    if let Some(b) = business {
        shop.business = b;
    }
    if let Some(lng) = lng {
        shop.lng = lng;
    }
    if let Some(lat) = lat {
        shop.lat = lat;
    }
    if let Some(s) = status {
        shop.status = s;
    }
    if let Some(new_no) = new_no
        && let Some(mut shop) = state.shops.remove(&no)
    {
        shop.origin_shop_id = new_no.clone();
        state.shops.insert(new_no, shop);
    }
    Ok(None)
}

pub fn shop_detail(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let no = Fields::parse(body)?.required("origin_shop_id", Reject::empty("origin_shop_id"))?;
    let mut state = inner.state();
    let shop = own_shop(&mut state, ctx.source_id, &no)?;
    Ok(Some(to_value(&ShopDetail {
        origin_shop_id: shop.origin_shop_id.clone(),
        station_name: shop.station_name.clone(),
        business: shop.business,
        city_name: shop.city_name.clone(),
        area_name: shop.area_name.clone(),
        station_address: shop.station_address.clone(),
        lng: shop.lng,
        lat: shop.lat,
        contact_name: shop.contact_name.clone(),
        phone: shop.phone.clone(),
        id_card: shop.id_card.clone(),
        status: shop.status,
    })))
}

/// `/api/recharge`: answers a cashier URL. In the sandbox the URL is a control route that credits
/// the balance when fetched, standing in for paying at Dada's cashier.
pub fn recharge(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let f = Fields::parse(body)?;
    let amount = f.yuan("amount")?.ok_or_else(|| Reject::empty("amount"))?;
    if amount <= 0 {
        return Err(Reject::format("amount"));
    }
    let category = f.required("category", Reject::empty("category"))?;
    if category != "PC" && category != "H5" {
        return Err(Reject::format("category"));
    }
    let notify_url = f.text("notify_url")?;
    let token = inner
        .state()
        .add_recharge(ctx.source_id, amount, category, notify_url);
    Ok(Some(Value::String(format!(
        "{}/_control/recharge/{token}",
        ctx.base_url
    ))))
}

/// `/api/balance/query`: category 1 (default) freight, 2 red packet, 3 both.
pub fn balance_query(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let category = Fields::parse(body)?.int("category")?.unwrap_or(1);
    if !(1..=3).contains(&category) {
        return Err(Reject::format("category"));
    }
    let state = inner.state();
    let merchant = state
        .merchants
        .get(ctx.source_id)
        .ok_or_else(|| Reject::of(code::SOURCE_NOT_BOUND))?;
    Ok(Some(to_value(&BalanceResult {
        deliver_balance: (category != 2).then_some(Yuan(merchant.balance_fen)),
        red_packet_balance: (category != 1).then_some(Yuan(merchant.red_packet_fen)),
    })))
}

/// `/api/message/confirm`: `messageType` 1 and `messageBody`, a JSON string of
/// `{orderId, dadaOrderId?, isConfirm}`.
pub fn message_confirm(inner: &Inner, ctx: &Ctx<'_>, body: &str) -> Answer {
    let f = Fields::parse(body)?;
    match f.int("messageType")? {
        None => return Err(Reject::empty("messageType")),
        Some(1) => {}
        Some(_) => return Err(Reject::format("messageType")),
    }
    let message = match f.get("messageBody") {
        None => return Err(Reject::empty("messageBody")),
        Some(Value::String(s)) => Fields::parse(s).map_err(|_| Reject::format("messageBody"))?,
        Some(_) => {
            return Err(Reject::with(
                code::BAD_FORMAT,
                "messageBody必须是JSON字符串",
            ));
        }
    };
    let origin_id = message.required("orderId", Reject::empty("orderId"))?;
    let confirm = match message.int("isConfirm")? {
        None => return Err(Reject::empty("isConfirm")),
        Some(0) => false,
        Some(1) => true,
        Some(_) => return Err(Reject::format("isConfirm")),
    };
    let dada_order_id = message.int("dadaOrderId")?;
    let mut state = inner.state();
    let order = state.order(ctx.source_id, &origin_id)?;
    if dada_order_id.is_some_and(|id| id != order.client_id) {
        return Err(Reject::of(code::ORDER_NOT_FOUND));
    }
    state.answer_courier_cancel(ctx.source_id, &origin_id, confirm, ctx.now)?;
    Ok(None)
}
