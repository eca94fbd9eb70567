//! Daoway ⇄ domain: money, and the shop/price translation. The status table and the refusal
//! classification are in [`super::status`], re-exported here.

use chrono::NaiveTime;
use rust_decimal::{Decimal, prelude::ToPrimitive};

use super::wire;
use crate::{
    domain::{GeoPoint, Money, ProviderId},
    providers::{CategoryData, PriceData, ProviderError, ProviderResult, ShopDetail, ShopSummary},
};

pub use super::status::*;

pub(super) fn protocol(detail: String) -> ProviderError {
    ProviderError::Protocol {
        provider: ProviderId::Daoway,
        detail,
    }
}

fn money(d: Decimal) -> ProviderResult<Money> {
    Money::from_platform_yuan(d).map_err(|e| protocol(e.to_string()))
}

pub fn category(c: wire::Category) -> CategoryData {
    CategoryData {
        external_id: c.id,
        name: c.name,
        icon_url: c.icon_url.filter(|u| !u.is_empty()),
    }
}

fn price(p: wire::PriceItem) -> ProviderResult<PriceData> {
    Ok(PriceData {
        amount: money(p.price)?,
        external_id: p.id,
        name: p.name,
        description: p.description,
        unit: p.price_unit,
        img_url: p.img_url,
        min_buy_num: p.min_buy_num.unwrap_or(1).max(1),
    })
}

pub fn shop_summary(s: wire::ServiceListItem) -> ProviderResult<ShopSummary> {
    let main_price = match (s.price_id, s.price) {
        (Some(id), Some(amount)) => Some(PriceData {
            external_id: id,
            name: s.price_name.unwrap_or_default(),
            description: None,
            amount: money(amount)?,
            unit: s.price_unit,
            img_url: None,
            min_buy_num: 1,
        }),
        _ => None,
    };
    Ok(ShopSummary {
        external_id: s.service_id,
        category_external_id: s.category_id,
        title: s.title,
        image_url: s.img_url,
        main_price,
        tag_icons: s.tag_icons,
    })
}

pub fn shop_detail(d: wire::ServiceDetail) -> ProviderResult<ShopDetail> {
    let available_days = match d.available_days.as_deref() {
        None | Some("") => (0..7).collect(),
        Some(days) => days
            .split(',')
            .map(|s| match s.trim().parse::<u8>() {
                Ok(n) if n <= 6 => Ok(n),
                _ => Err(protocol(format!("bad availableDays {days:?}"))),
            })
            .collect::<ProviderResult<Vec<u8>>>()?,
    };
    for t in [&d.start_time, &d.end_time].into_iter().flatten() {
        NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| protocol(format!("bad time {t:?}")))?;
    }
    let ahead_minutes = (d.ahead_hours.unwrap_or_default() * Decimal::from(60))
        .ceil()
        .to_i32()
        .ok_or_else(|| protocol("aheadHours out of range".into()))?;
    Ok(ShopDetail {
        location: match (d.lng, d.lat) {
            (Some(lng), Some(lat)) => GeoPoint::new(lng, lat),
            _ => None,
        },
        prices: d
            .prices
            .into_iter()
            .map(price)
            .collect::<ProviderResult<_>>()?,
        fix_fee: money(d.fix_fee.unwrap_or_default())?,
        no_fix_fee_price: money(d.no_fix_fee_price.unwrap_or_default())?,
        min_buy_price: money(d.min_buy_price.unwrap_or_default())?,
        external_id: d.id,
        category_external_id: d.category_id,
        title: d.title,
        description: d.description,
        city: d.city,
        images: d.imgs,
        tag_icons: d.tag_icons,
        start_time: d.start_time,
        end_time: d.end_time,
        available_days,
        ahead_minutes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_detail_example() {
        let body = r#"{"status":"ok","data":{"categoryId":"20","categoryName":"家政",
            "categoryIconUrl":"http://img.daoway.cn/img/icon/jiazheng3.png",
            "id":"ab65512d16b745f1b420c915cbd399f2","imgs":["http://img/a.jpg"],
            "title":"来人到家","description":"18年专注家政保洁","startTime":"08:00","endTime":"18:00",
            "availableDays":"0,1,2,3,4,5,6","aheadHours":24.0,
            "prices":[{"id":"105097","name":"家庭保洁","description":"…","price":35.0,
              "priceUnit":"元/小时","imgUrl":"http://img/p.jpg","minBuyNum":2}],
            "fixFee":0.0,"noFixFeePrice":0.0,"minBuyPrice":0.0,"tagIcons":[]}}"#;
        let env: wire::Envelope<wire::ServiceDetail> = serde_json::from_str(body).unwrap();
        let d = shop_detail(env.data.unwrap()).unwrap();
        assert_eq!(d.ahead_minutes, 24 * 60);
        assert_eq!(d.available_days, vec![0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(d.prices[0].amount, Money::from_fen(3500));
        assert_eq!(d.prices[0].min_buy_num, 2);
    }

    #[test]
    fn parses_the_documented_list_example() {
        let body = r#"{"status":"ok","data":[{"categoryId":"20","categoryIconUrl":"x",
            "serviceId":"c8e42f7716124bd2ad23c95445002d88","title":"云家政","imgUrl":"y",
            "priceId":"56611","price":15.0,"priceUnit":"/小时","priceName":"家庭保洁","tagIcons":[]}]}"#;
        let env: wire::Envelope<Vec<wire::ServiceListItem>> = serde_json::from_str(body).unwrap();
        let s = shop_summary(env.data.unwrap().remove(0)).unwrap();
        assert_eq!(s.main_price.unwrap().amount, Money::from_fen(1500));
    }
}
