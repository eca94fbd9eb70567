//! What the sandbox knows before anyone calls it: open cities with Dada-style codes, the
//! documented test shop `11047059` and a few more, a pool of couriers, and the reason lists.
//!
//! The cities use telephone area codes, as Dada's `cityCode` does. Base fees and centres are the
//! sandbox's own (Dada publishes neither); a centre stands in for geocoding when an order comes
//! without coordinates.

/// An open city.
#[derive(Clone, Copy, Debug)]
pub struct City {
    /// Dada's numeric city id, as `city_id` on couriers.
    pub id: i64,
    pub name: &'static str,
    pub code: &'static str,
    pub lng: f64,
    pub lat: f64,
    /// Freight for the first 3 km, in fen.
    pub base_fee_fen: i64,
}

pub const CITIES: &[City] = &[
    City {
        id: 1,
        name: "上海",
        code: "021",
        lng: 121.4737,
        lat: 31.2304,
        base_fee_fen: 1000,
    },
    City {
        id: 2,
        name: "北京",
        code: "010",
        lng: 116.4074,
        lat: 39.9042,
        base_fee_fen: 1000,
    },
    City {
        id: 3,
        name: "广州",
        code: "020",
        lng: 113.2644,
        lat: 23.1291,
        base_fee_fen: 900,
    },
    City {
        id: 4,
        name: "深圳",
        code: "0755",
        lng: 114.0579,
        lat: 22.5431,
        base_fee_fen: 1000,
    },
    City {
        id: 5,
        name: "杭州",
        code: "0571",
        lng: 120.1551,
        lat: 30.2741,
        base_fee_fen: 900,
    },
    City {
        id: 6,
        name: "成都",
        code: "028",
        lng: 104.0665,
        lat: 30.5723,
        base_fee_fen: 800,
    },
    City {
        id: 7,
        name: "武汉",
        code: "027",
        lng: 114.3055,
        lat: 30.5928,
        base_fee_fen: 800,
    },
    City {
        id: 8,
        name: "南京",
        code: "025",
        lng: 118.7969,
        lat: 32.0603,
        base_fee_fen: 800,
    },
    City {
        id: 9,
        name: "天津",
        code: "022",
        lng: 117.2000,
        lat: 39.0842,
        base_fee_fen: 800,
    },
    City {
        id: 10,
        name: "重庆",
        code: "023",
        lng: 106.5516,
        lat: 29.5630,
        base_fee_fen: 800,
    },
    City {
        id: 11,
        name: "西安",
        code: "029",
        lng: 108.9398,
        lat: 34.3416,
        base_fee_fen: 800,
    },
    City {
        id: 12,
        name: "苏州",
        code: "0512",
        lng: 120.5853,
        lat: 31.2989,
        base_fee_fen: 800,
    },
    City {
        id: 13,
        name: "东莞",
        code: "0769",
        lng: 113.7518,
        lat: 23.0207,
        base_fee_fen: 700,
    },
    City {
        id: 14,
        name: "中山",
        code: "0760",
        lng: 113.3926,
        lat: 22.5176,
        base_fee_fen: 700,
    },
];

pub fn city_by_code(code: &str) -> Option<&'static City> {
    CITIES.iter().find(|c| c.code == code)
}

pub fn city_by_name(name: &str) -> Option<&'static City> {
    // Merchants write "上海" or "上海市"; both mean the same city.
    let name = name.trim();
    let name = name.strip_suffix('市').unwrap_or(name);
    CITIES.iter().find(|c| c.name == name)
}

/// A shop registered for the configured merchant at start.
#[derive(Clone, Copy, Debug)]
pub struct SeedShop {
    pub origin_shop_id: &'static str,
    pub station_name: &'static str,
    pub business: i64,
    pub city_name: &'static str,
    pub area_name: &'static str,
    pub station_address: &'static str,
    pub lng: f64,
    pub lat: f64,
    pub contact_name: &'static str,
    pub phone: &'static str,
    /// 1 active, 0 offline (orders refused with 2132).
    pub status: i64,
}

/// The documented test shop.
pub const TEST_SHOP: &str = "11047059";

pub const SHOPS: &[SeedShop] = &[
    SeedShop {
        origin_shop_id: TEST_SHOP,
        station_name: "达达测试门店",
        business: 1,
        city_name: "上海",
        area_name: "浦东新区",
        station_address: "上海市浦东新区陆家嘴环路1000号",
        lng: 121.5447,
        lat: 31.2216,
        contact_name: "达达测试",
        phone: "13800138000",
        status: 1,
    },
    SeedShop {
        origin_shop_id: "11047060",
        station_name: "达达测试北京门店",
        business: 9,
        city_name: "北京",
        area_name: "朝阳区",
        station_address: "北京市朝阳区建国路88号",
        lng: 116.4551,
        lat: 39.9087,
        contact_name: "王店长",
        phone: "13900139000",
        status: 1,
    },
    SeedShop {
        origin_shop_id: "11047061",
        station_name: "达达测试已下线门店",
        business: 13,
        city_name: "上海",
        area_name: "徐汇区",
        station_address: "上海市徐汇区漕溪北路201号",
        lng: 121.4365,
        lat: 31.1880,
        contact_name: "李店长",
        phone: "13700137000",
        status: 0,
    },
];

/// A Dada courier (骑士).
#[derive(Clone, Copy, Debug)]
pub struct Courier {
    pub id: i64,
    pub name: &'static str,
    pub phone: &'static str,
    pub city_id: i64,
}

pub const COURIERS: &[Courier] = &[
    Courier {
        id: 666,
        name: "达达骑手",
        phone: "13546670420",
        city_id: 1,
    },
    Courier {
        id: 667,
        name: "王骑士",
        phone: "13546670421",
        city_id: 1,
    },
    Courier {
        id: 668,
        name: "李骑士",
        phone: "13546670422",
        city_id: 1,
    },
    Courier {
        id: 669,
        name: "赵骑士",
        phone: "13546670423",
        city_id: 2,
    },
    Courier {
        id: 670,
        name: "钱骑士",
        phone: "13546670424",
        city_id: 2,
    },
    Courier {
        id: 671,
        name: "孙骑士",
        phone: "13546670425",
        city_id: 3,
    },
];

/// Couriers who count as having served a shop within the last hour, whatever the clock says, so
/// that appointing can be exercised without first running an order through. 668 is deliberately
/// not here: it is the Shanghai courier that cannot be appointed until it has taken an order.
pub const RECENT_COURIERS: &[(&str, i64)] =
    &[(TEST_SHOP, 666), (TEST_SHOP, 667), ("11047060", 669)];

pub fn courier(id: i64) -> Option<&'static Courier> {
    COURIERS.iter().find(|c| c.id == id)
}

/// The "other" cancel reason, which needs a text.
pub const OTHER_REASON_ID: i64 = 10000;

/// `/api/order/cancel/reasons`, as listed in the platform notes.
pub const CANCEL_REASONS: &[(i64, &str)] = &[
    (1, "没有配送员接单"),
    (2, "配送员没来取货"),
    (3, "配送员态度太差"),
    (4, "顾客取消订单"),
    (5, "订单填写错误"),
    (34, "达达配送员让我取消此单"),
    (35, "达达配送员不愿上门取货"),
    (36, "我不需要配送了"),
    (37, "配送员以各种理由表示无法完成订单"),
    (OTHER_REASON_ID, "其他"),
];

pub fn cancel_reason(id: i64) -> Option<&'static str> {
    CANCEL_REASONS
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, r)| *r)
}

/// Reason ids on the complaint list that are about lateness; a complaint with one of them about
/// an order delivered on time is refused with 2134.
pub const LATE_COMPLAINTS: &[i64] = &[1, 2];

/// `/api/complaint/reasons`. Dada does not publish the list; these are the sandbox's.
pub const COMPLAINT_REASONS: &[(i64, &str)] = &[
    (1, "配送员未按时到店取货"),
    (2, "配送员未按时送达"),
    (3, "配送员态度恶劣"),
    (4, "货品损坏或丢失"),
    (5, "配送员私自要求取消订单"),
    (6, "配送员索要额外费用"),
    (7, "其他"),
];

pub fn complaint_reason(id: i64) -> Option<&'static str> {
    COMPLAINT_REASONS
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, r)| *r)
}
