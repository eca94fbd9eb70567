//! What a random `createOrder` is made of: cities with real districts and coordinates, a small
//! home-service catalogue, customers' remarks. The ids (`cityId`, `goodsId`) and prices are the
//! sandbox's own — 58 publishes no city table or catalogue — but every order is internally
//! consistent: the address lies in the city, the coordinates near the address, the end time is
//! the begin time plus the duration, and `totalPrice` is exactly Σ goodsNumber × goodsPrice.

use chrono::{DateTime, FixedOffset, NaiveTime, TimeDelta, Utc};
use rand::{Rng, seq::IndexedRandom};

use super::{
    money::Yuan,
    params::{BEIJING, TIME_FORMAT},
    wire::{CreateOrder, OrderLine, lines_total},
};

/// A city orders come from.
#[derive(Clone, Copy, Debug)]
pub struct City {
    pub id: i64,
    pub name: &'static str,
    /// Street-level address stems with their coordinates.
    pub places: &'static [Place],
}

#[derive(Clone, Copy, Debug)]
pub struct Place {
    pub address: &'static str,
    pub lng: f64,
    pub lat: f64,
}

const fn place(address: &'static str, lng: f64, lat: f64) -> Place {
    Place { address, lng, lat }
}

pub const CITIES: &[City] = &[
    City {
        id: 1,
        name: "北京",
        places: &[
            place("北京市朝阳区望京街道望京西园三区", 116.4707, 39.9965),
            place("北京市海淀区中关村南大街甲12号院", 116.3265, 39.9592),
            place("北京市东城区东直门外大街香河园小区", 116.4345, 39.9412),
            place("北京市丰台区方庄芳古园一区", 116.4322, 39.8652),
        ],
    },
    City {
        id: 2,
        name: "上海",
        places: &[
            place("上海市浦东新区陆家嘴环路仁恒滨江园", 121.5044, 31.2403),
            place("上海市徐汇区漕溪北路汇翠花园", 121.4385, 31.1902),
            place("上海市静安区南京西路华山公寓", 121.4499, 31.2291),
            place("上海市闵行区莘庄镇莘松路莘城苑", 121.3851, 31.1105),
        ],
    },
    City {
        id: 3,
        name: "广州",
        places: &[
            place("广州市天河区天河路天河北苑", 113.3312, 23.1378),
            place("广州市海珠区江南大道中江南新村", 113.2717, 23.1011),
        ],
    },
    City {
        id: 4,
        name: "深圳",
        places: &[
            place("深圳市南山区科技园南区海岸城公寓", 113.9471, 22.5286),
            place("深圳市福田区福华三路星河明居", 114.0583, 22.5402),
        ],
    },
    City {
        id: 79,
        name: "杭州",
        places: &[
            place("杭州市西湖区文三路学院路口嘉绿苑", 120.1309, 30.2812),
            place("杭州市滨江区江南大道东方郡", 120.2118, 30.2088),
        ],
    },
    City {
        id: 102,
        name: "成都",
        places: &[
            place("成都市武侯区人民南路四段锦绣花园", 104.0712, 30.6291),
            place("成都市高新区天府大道中段天府软件园", 104.0689, 30.5498),
        ],
    },
];

/// One bookable service (its name in the comment above each entry).
#[derive(Clone, Copy, Debug)]
pub struct Goods {
    pub id: i64,
    pub price_fen: i64,
    /// Hours one unit takes.
    pub hours: u32,
    /// Units a customer books at most.
    pub max_number: u32,
}

pub const GOODS: &[Goods] = &[
    // 日常保洁(按小时)
    Goods {
        id: 20_001,
        price_fen: 3_500,
        hours: 1,
        max_number: 4,
    },
    // 深度保洁
    Goods {
        id: 20_002,
        price_fen: 29_900,
        hours: 4,
        max_number: 1,
    },
    // 空调清洗(挂机)
    Goods {
        id: 20_003,
        price_fen: 8_900,
        hours: 1,
        max_number: 3,
    },
    // 油烟机清洗
    Goods {
        id: 20_004,
        price_fen: 12_900,
        hours: 2,
        max_number: 1,
    },
    // 冰箱清洗
    Goods {
        id: 20_005,
        price_fen: 9_990,
        hours: 1,
        max_number: 1,
    },
    // 擦玻璃(每平米)
    Goods {
        id: 20_006,
        price_fen: 650,
        hours: 0,
        max_number: 30,
    },
];

const REMARKS: &[&str] = &[
    "",
    "",
    "家里有宠物,请提前告知",
    "请自带鞋套",
    "到小区门口先打电话",
    "小区需要登记,报业主姓名",
    "老人在家,请耐心沟通",
    "请带齐清洁工具",
];

pub fn city_by_id(id: i64) -> Option<&'static City> {
    CITIES.iter().find(|c| c.id == id)
}

pub fn city_by_name(name: &str) -> Option<&'static City> {
    CITIES.iter().find(|c| c.name == name)
}

/// A random, consistent order in `city` (a random city when `None`). `technicians` are the
/// active technicians' `userId`s; the customer picks one of them half of the time.
pub fn random_order(
    order_id: i64,
    city: Option<&'static City>,
    technicians: &[String],
    now: DateTime<Utc>,
) -> CreateOrder {
    let mut rng = rand::rng();
    let city = city
        .or_else(|| CITIES.choose(&mut rng))
        .unwrap_or(&CITIES[0]);
    let place = city.places.choose(&mut rng).copied().unwrap_or(Place {
        address: city.name,
        lng: 116.4074,
        lat: 39.9042,
    });
    let address = format!(
        "{}{}号楼{}单元{}{:02}室",
        place.address,
        rng.random_range(1..=30),
        rng.random_range(1..=6),
        rng.random_range(1..=28),
        rng.random_range(1..=4),
    );
    // About 500 m around the compound.
    let jitter = |rng: &mut rand::rngs::ThreadRng| rng.random_range(-0.004..0.004);
    let lng = round6(place.lng + jitter(&mut rng));
    let lat = round6(place.lat + jitter(&mut rng));

    let line_count = if rng.random_bool(0.3) { 2 } else { 1 };
    let mut chosen: Vec<&Goods> = GOODS.choose_multiple(&mut rng, line_count).collect();
    chosen.sort_by_key(|g| g.id);
    let lines: Vec<OrderLine> = chosen
        .iter()
        .map(|g| OrderLine {
            goods_id: g.id,
            goods_number: rng.random_range(if g.hours == 0 { 5 } else { 1 }..=g.max_number),
            goods_price: Yuan(g.price_fen),
        })
        .collect();
    let total = lines_total(&lines).unwrap_or(0);
    let hours: u32 = chosen
        .iter()
        .zip(&lines)
        .map(|(g, l)| {
            if g.hours == 0 {
                // Windows: about 10 m² an hour.
                l.goods_number.div_ceil(10)
            } else {
                g.hours * l.goods_number
            }
        })
        .sum::<u32>()
        .max(1);

    let begin = appointment(now, &mut rng);
    let end = begin + TimeDelta::hours(i64::from(hours));
    let technician = if rng.random_bool(0.5) {
        technicians.choose(&mut rng).cloned()
    } else {
        None
    };

    CreateOrder {
        order_id,
        user_mobile: mobile(&mut rng),
        city_id: city.id,
        city_name: city.name.to_owned(),
        lng,
        lat,
        service_address: address,
        service_begin_time: begin.format(TIME_FORMAT).to_string(),
        service_end_time: end.format(TIME_FORMAT).to_string(),
        service_duration: hours,
        total_price: Yuan(total),
        remark: REMARKS.choose(&mut rng).copied().unwrap_or("").to_owned(),
        service_user_id: technician.unwrap_or_default(),
        order_details: lines,
    }
}

/// A slot 1 to 3 days ahead, on the hour or half hour between 08:00 and 17:30 Beijing time.
fn appointment(now: DateTime<Utc>, rng: &mut impl Rng) -> DateTime<FixedOffset> {
    let day = now.with_timezone(&BEIJING).date_naive() + TimeDelta::days(rng.random_range(1..=3));
    let hour = rng.random_range(8..=17);
    let minute = if rng.random_bool(0.5) { 0 } else { 30 };
    let time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default();
    day.and_time(time)
        .and_local_timezone(BEIJING)
        .single()
        // Beijing has no daylight saving, so every local time exists exactly once.
        .unwrap_or_else(|| (now + TimeDelta::days(1)).with_timezone(&BEIJING))
}

/// An 11-digit mainland mobile number.
fn mobile(rng: &mut impl Rng) -> String {
    let second = [b'3', b'5', b'7', b'8', b'9'];
    let second = second.choose(rng).copied().unwrap_or(b'3') as char;
    format!("1{second}{:09}", rng.random_range(0..1_000_000_000u32))
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daojia58::params::{is_mobile, parse_beijing_time};

    #[test]
    fn random_orders_are_consistent() {
        let now = Utc::now();
        for n in 0..200 {
            let order = random_order(31_421_593_368_511_488 + n, None, &["T1".to_owned()], now);
            assert_eq!(lines_total(&order.order_details), Some(order.total_price.0));
            assert!(order.total_price.0 > 0);
            assert!(is_mobile(&order.user_mobile), "{}", order.user_mobile);
            let city = city_by_id(order.city_id).map(|c| c.name);
            assert_eq!(city, Some(order.city_name.as_str()));
            assert!(order.service_address.starts_with(&order.city_name));
            let begin = parse_beijing_time(&order.service_begin_time);
            let end = parse_beijing_time(&order.service_end_time);
            let (Some(begin), Some(end)) = (begin, end) else {
                panic!("times {order:?}");
            };
            assert!(begin > now);
            assert_eq!(
                end - begin,
                TimeDelta::hours(i64::from(order.service_duration))
            );
            assert!(order.service_user_id.is_empty() || order.service_user_id == "T1");
            assert!(!order.order_details.is_empty());
        }
    }

    #[test]
    fn city_choice_is_kept() {
        let shanghai = city_by_name("上海");
        let order = random_order(1, shanghai, &[], Utc::now());
        assert_eq!(order.city_id, 2);
        assert!(order.service_address.starts_with("上海市"));
        assert!((order.lng - 121.4).abs() < 0.2);
        assert!(order.service_user_id.is_empty());
    }
}
