//! What the sandbox knows before anyone calls it: the courier companies a mini-program sees in
//! `getall`, the stores registered at every one of them, their riders, and the cancel reasons.
//!
//! Fees, dispatch times and penalties are the sandbox's own (no company publishes a price list
//! through WeChat); they differ per company so a client can see it compares real quotes.

use super::{CancelRule, CompanyConfig, SeedStore};

/// The documented sandbox company: the only one mockUpdateOrder works for.
pub const TEST_DELIVERY_ID: &str = "TEST";

/// A store registered (by `shop_no`) at every company.
struct StoreDef {
    shop_no: &'static str,
    name: &'static str,
    city: &'static str,
    address: &'static str,
    address_detail: &'static str,
    phone: &'static str,
    lng: f64,
    lat: f64,
}

const STORES: &[StoreDef] = &[
    StoreDef {
        shop_no: "wx_sh_001",
        name: "陆家嘴店",
        city: "上海市",
        address: "上海市浦东新区陆家嘴环路1000号",
        address_detail: "1层101室",
        phone: "13800138001",
        lng: 121.5447,
        lat: 31.2216,
    },
    StoreDef {
        shop_no: "wx_sh_002",
        name: "徐家汇店",
        city: "上海市",
        address: "上海市徐汇区漕溪北路88号",
        address_detail: "B1层12号",
        phone: "13800138002",
        lng: 121.4365,
        lat: 31.1880,
    },
    StoreDef {
        shop_no: "wx_bj_001",
        name: "国贸店",
        city: "北京市",
        address: "北京市朝阳区建国门外大街1号",
        address_detail: "2层203室",
        phone: "13800138003",
        lng: 116.4605,
        lat: 39.9087,
    },
];

/// The seeded stores, in a fixed order.
pub fn stores() -> Vec<SeedStore> {
    STORES
        .iter()
        .map(|s| SeedStore {
            shop_no: s.shop_no.to_owned(),
            name: s.name.to_owned(),
            city: s.city.to_owned(),
            address: s.address.to_owned(),
            address_detail: s.address_detail.to_owned(),
            phone: s.phone.to_owned(),
            lng: s.lng,
            lat: s.lat,
        })
        .collect()
}

/// A rider: name and phone as pushes and order/get report them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rider {
    pub name: &'static str,
    pub phone: &'static str,
}

const RIDERS: &[Rider] = &[
    Rider {
        name: "张师傅",
        phone: "13900000001",
    },
    Rider {
        name: "李骑手",
        phone: "13900000002",
    },
    Rider {
        name: "王小二",
        phone: "13900000003",
    },
    Rider {
        name: "赵配送",
        phone: "13900000004",
    },
    Rider {
        name: "陈快跑",
        phone: "13900000005",
    },
];

/// The `turn`-th rider, round robin.
pub fn rider(turn: usize) -> Rider {
    RIDERS[turn % RIDERS.len()]
}

/// `cancel_reason_id` 1–6 and their meaning; 6 "other" needs `cancel_reason`.
pub const CANCEL_REASONS: &[(u64, &str)] = &[
    (1, "暂时不需要邮寄"),
    (2, "价格不合适"),
    (3, "订单信息有误,重新下单"),
    (4, "骑手取货不及时"),
    (5, "骑手配送不及时"),
    (6, "其他原因"),
];

/// The "other" reason, which needs a text.
pub const OTHER_REASON: u64 = 6;

/// The five companies of a default run: the documented TEST company and the four real ones seen
/// in `getall`. Meituan starts unbound, to reach 930560 without any setup.
pub fn companies() -> Vec<CompanyConfig> {
    let base = CompanyConfig::default();
    vec![
        CompanyConfig {
            delivery_id: TEST_DELIVERY_ID.to_owned(),
            name: "测试配送公司".to_owned(),
            shopid: "test_shop_id".to_owned(),
            app_secret: "test_app_secrect".to_owned(),
            bound: true,
            base_fee_fen: 1000,
            per_km_fen: 100,
            per_kg_fen: 100,
            dispatch_minutes: 5,
            // On WeChat's sandbox only mockUpdateOrder moves TEST orders.
            scheduled: false,
            cancel_rule: CancelRule {
                after_assign_fen: 0,
                after_arrive_fen: 0,
                after_pickup_fen: Some(0),
                free_secs_after_assign: 0,
            },
            ..base.clone()
        },
        CompanyConfig {
            delivery_id: "SFTC".to_owned(),
            name: "顺丰同城急送".to_owned(),
            shopid: "sftc_sandbox_shop".to_owned(),
            app_secret: "sftc_sandbox_secret".to_owned(),
            bound: true,
            base_fee_fen: 1200,
            per_km_fen: 200,
            per_kg_fen: 200,
            dispatch_minutes: 3,
            sender_required: true,
            cancel_rule: CancelRule {
                after_assign_fen: 200,
                after_arrive_fen: 500,
                after_pickup_fen: Some(1000),
                free_secs_after_assign: 0,
            },
            ..base.clone()
        },
        CompanyConfig {
            delivery_id: "SS".to_owned(),
            name: "闪送".to_owned(),
            shopid: "ss_sandbox_shop".to_owned(),
            app_secret: "ss_sandbox_secret".to_owned(),
            bound: true,
            base_fee_fen: 1500,
            per_km_fen: 250,
            per_kg_fen: 150,
            dispatch_minutes: 2,
            cancel_rule: CancelRule {
                after_assign_fen: 300,
                after_arrive_fen: 500,
                after_pickup_fen: Some(1500),
                free_secs_after_assign: 0,
            },
            ..base.clone()
        },
        CompanyConfig {
            delivery_id: "MTPS".to_owned(),
            name: "美团配送".to_owned(),
            shopid: "mtps_sandbox_shop".to_owned(),
            app_secret: "mtps_sandbox_secret".to_owned(),
            bound: false,
            base_fee_fen: 900,
            per_km_fen: 150,
            per_kg_fen: 100,
            dispatch_minutes: 6,
            cancel_rule: CancelRule {
                after_assign_fen: 200,
                after_arrive_fen: 300,
                after_pickup_fen: Some(800),
                free_secs_after_assign: 0,
            },
            ..base.clone()
        },
        CompanyConfig {
            delivery_id: "DADA".to_owned(),
            name: "达达".to_owned(),
            shopid: "dada_sandbox_shop".to_owned(),
            app_secret: "dada_sandbox_secret".to_owned(),
            bound: true,
            base_fee_fen: 800,
            per_km_fen: 120,
            per_kg_fen: 50,
            dispatch_minutes: 8,
            gives_delivery_token: true,
            token_ttl_secs: 180,
            max_booking_hours: 72,
            // Dada's own rule: the first minute after acceptance is free.
            cancel_rule: CancelRule {
                after_assign_fen: 200,
                after_arrive_fen: 200,
                after_pickup_fen: None,
                free_secs_after_assign: 60,
            },
            ..base
        },
    ]
}
