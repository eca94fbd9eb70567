//! The platform's JSON shapes, spelled exactly as the document spells them.
//!
//! Request types keep every field optional so a missing field becomes the platform's own
//! `缺少参数X` refusal instead of a generic parse error; a field of the wrong JSON type still
//! fails to parse, which the platform reports as `请求格式错误`.

use serde::{Deserialize, Serialize};

use super::{
    money::{hours_number, yuan_number},
    seed::{Category, Price, Shop},
};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CategoryItem {
    pub id: &'static str,
    pub name: &'static str,
    pub icon_url: &'static str,
}

impl From<&'static Category> for CategoryItem {
    fn from(category: &'static Category) -> Self {
        CategoryItem {
            id: category.id,
            name: category.name,
            icon_url: category.icon_url,
        }
    }
}

/// One row of `GET /services`: the shop and its main price.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServiceListItem {
    pub category_id: &'static str,
    pub category_icon_url: &'static str,
    pub service_id: &'static str,
    pub title: &'static str,
    pub img_url: &'static str,
    pub price_id: &'static str,
    pub price: f64,
    pub price_unit: &'static str,
    pub price_name: &'static str,
    pub tag_icons: &'static [&'static str],
}

impl ServiceListItem {
    pub(crate) fn new(
        shop: &'static Shop,
        category: &'static Category,
        main: &'static Price,
    ) -> Self {
        ServiceListItem {
            category_id: shop.category_id,
            category_icon_url: category.service_icon_url,
            service_id: shop.id,
            title: shop.title,
            img_url: shop.imgs.first().copied().unwrap_or_default(),
            price_id: main.id,
            price: yuan_number(main.price_fen),
            price_unit: main.unit,
            price_name: main.name,
            tag_icons: shop.tag_icons,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PriceItem {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub price: f64,
    pub price_unit: &'static str,
    pub img_url: &'static str,
    pub min_buy_num: u32,
}

/// `GET /services/{serviceId}`. `city`, `lng` and `lat` are sandbox additions: the document's
/// detail has no location, but our catalogue model keeps one per shop.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServiceDetail {
    pub category_id: &'static str,
    pub category_name: &'static str,
    pub category_icon_url: &'static str,
    pub id: &'static str,
    pub imgs: &'static [&'static str],
    pub title: &'static str,
    pub description: &'static str,
    pub start_time: String,
    pub end_time: String,
    pub available_days: String,
    pub ahead_hours: f64,
    pub prices: Vec<PriceItem>,
    pub fix_fee: f64,
    pub no_fix_fee_price: f64,
    pub min_buy_price: f64,
    pub tag_icons: &'static [&'static str],
    pub city: &'static str,
    pub lng: f64,
    pub lat: f64,
}

impl ServiceDetail {
    pub(crate) fn new(shop: &'static Shop, category: &'static Category) -> Self {
        ServiceDetail {
            category_id: shop.category_id,
            category_name: category.name,
            category_icon_url: category.service_icon_url,
            id: shop.id,
            imgs: shop.imgs,
            title: shop.title,
            description: shop.description,
            start_time: clock(shop.open_minute),
            end_time: clock(shop.close_minute),
            available_days: shop
                .available_days
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(","),
            ahead_hours: hours_number(shop.ahead_minutes),
            prices: shop
                .prices
                .iter()
                .map(|p| PriceItem {
                    id: p.id,
                    name: p.name,
                    description: p.description,
                    price: yuan_number(p.price_fen),
                    price_unit: p.unit,
                    img_url: p.img_url,
                    min_buy_num: p.min_buy_num,
                })
                .collect(),
            fix_fee: yuan_number(shop.fix_fee_fen),
            no_fix_fee_price: yuan_number(shop.no_fix_fee_price_fen),
            min_buy_price: yuan_number(shop.min_buy_price_fen),
            tag_icons: shop.tag_icons,
            city: shop.city,
            lng: shop.lng,
            lat: shop.lat,
        }
    }
}

/// `HH:MM` from minutes since midnight.
fn clock(minute_of_day: u32) -> String {
    format!("{:02}:{:02}", minute_of_day / 60, minute_of_day % 60)
}

/// The body of `POST /orders`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateOrderBody {
    pub user_name: Option<String>,
    pub password: Option<String>,
    pub service_id: Option<String>,
    pub items: Option<Vec<OrderLineBody>>,
    pub city: Option<String>,
    pub street: Option<String>,
    pub house: Option<String>,
    pub contact_person: Option<String>,
    pub phone: Option<String>,
    pub appoint_time: Option<String>,
    pub note: Option<String>,
}

impl CreateOrderBody {
    /// The shape checks JSON types cannot express: every quantity present, positive and of a
    /// sensible size. Part of parsing the body, so it runs before the credentials are looked at.
    pub(crate) fn check_quantities(&self) -> bool {
        self.items.iter().flatten().all(|line| {
            line.quantity
                .is_some_and(|q| q > 0 && u32::try_from(q).is_ok())
        })
    }
}

/// One entry of `items`. `quantity` must be a JSON integer; `1.0`, `"1"` or `-1` fail to parse.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OrderLineBody {
    pub price_id: Option<String>,
    pub quantity: Option<u64>,
}

/// The `data` of a successful `POST /orders`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreatedOrder {
    pub order_id: String,
    pub consumed_money: f64,
    pub remaining_money: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_pads() {
        assert_eq!(clock(8 * 60), "08:00");
        assert_eq!(clock(18 * 60 + 30), "18:30");
    }

    #[test]
    fn quantity_must_be_an_integer() {
        for bad in [
            r#"{"quantity": 1.0}"#,
            r#"{"quantity": "1"}"#,
            r#"{"quantity": -1}"#,
        ] {
            assert!(serde_json::from_str::<OrderLineBody>(bad).is_err(), "{bad}");
        }
        let good: OrderLineBody =
            serde_json::from_str(r#"{"priceId": "56611", "quantity": 2}"#).expect("valid line");
        assert_eq!(good.quantity, Some(2));
    }
}
