//! The sandbox's catalogue: categories and shops, fixed at compile time.
//!
//! Deterministic on purpose: tests (ours and the lead's) refer to these ids, and a catalogue that
//! changed between runs would make a cached catalogue on our side look stale for no reason. The
//! two shops of the document's own examples (`云家政`, `来人到家`) keep their published ids and
//! prices, so the document's sample answers can be reproduced against the sandbox.
//!
//! Shops worth knowing in tests (money in yuan, hours Beijing time, days 0 = Monday):
//!
//! | id (prefix) | city | title | what it exercises |
//! |---|---|---|---|
//! | `c8e42f77…` | 北京 | 云家政 | doc example; main price `56611` 家庭保洁 15.0 /小时; `56612` 擦玻璃 minBuyNum 10; ahead 2 h, 08:00–20:00 daily |
//! | `ab65512d…` | 北京 | 来人到家 | doc example; `105548` 99.0 /次, `105097` 35.0 元/小时 minBuyNum **2**; ahead 24 h, 08:00–18:00 |
//! | `66195271…` | 北京 | 悦洁保洁(望京店) | title has 保洁; **minBuyPrice 100.0**; `201001` 40.0/小时 |
//! | `ef6f87ec…` | 北京 | 快修师傅家电维修 | **fixFee 30.0, noFixFeePrice 200.0**; `202001` 空调清洗 120.0 |
//! | `5e74de96…` | 北京 | 安心开锁 | **fixFee 20.0, noFixFeePrice 0** (fee always charged); `203001` 60.0; ahead 2 h |
//! | `5486bfef…` | 北京 | 白领洗衣 | **weekdays only** `0,1,2,3,4`; `204001` minBuyNum 3 |
//! | `b8d54f98…` | 上海 | 申城保洁 | title has 保洁; `301001` 45.0/小时 minBuyNum 2 |
//! | `985661af…` | 深圳 | 福田开锁 | **aheadHours 1.5** (formats as `预约时间需提前1.5小时`) |
//! | `758ba68f…` | 深圳 | 速修家电 | Monday–Saturday only, fixFee 30.0 without threshold |

/// A service category as `GET /categories` lists it.
#[derive(Debug)]
pub(crate) struct Category {
    pub id: &'static str,
    pub name: &'static str,
    /// The icon `GET /categories` shows (the document's `img/icon/home/…`).
    pub icon_url: &'static str,
    /// The smaller icon shown on shop lists and details (the document's `img/icon/…3.png`).
    pub service_icon_url: &'static str,
}

/// One price item of a shop. Money in fen so no arithmetic ever sees a float.
#[derive(Debug)]
pub(crate) struct Price {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub price_fen: i64,
    pub unit: &'static str,
    pub img_url: &'static str,
    pub min_buy_num: u32,
}

/// A shop ("service" in the document's URLs).
#[derive(Debug)]
pub(crate) struct Shop {
    pub id: &'static str,
    pub category_id: &'static str,
    pub city: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub imgs: &'static [&'static str],
    /// BD-09 longitude / latitude, as the document's `lng`/`lat` parameters use.
    pub lng: f64,
    pub lat: f64,
    /// Opening hours as minutes since midnight: `[open, close)`.
    pub open_minute: u32,
    pub close_minute: u32,
    /// 0 = Monday … 6 = Sunday.
    pub available_days: &'static [u8],
    /// Minimum notice in minutes (the document's `aheadHours`, which may be fractional).
    pub ahead_minutes: u32,
    pub fix_fee_fen: i64,
    /// 0 means there is no threshold that waives the fee.
    pub no_fix_fee_price_fen: i64,
    pub min_buy_price_fen: i64,
    pub tag_icons: &'static [&'static str],
    /// The first one is the shop's main price, shown on the list.
    pub prices: &'static [Price],
}

impl Shop {
    pub fn main_price(&self) -> Option<&'static Price> {
        self.prices.first()
    }

    pub fn price(&self, id: &str) -> Option<&'static Price> {
        self.prices.iter().find(|p| p.id == id)
    }
}

/// City assumed when a list request names none (the document says "the client's region").
pub(crate) const DEFAULT_CITY: &str = "北京";

const YOUHUI: &str = "http://www.daoway.cn/img/icon/youhui.png";
const RECOMMEND: &str = "http://www.daoway.cn/img/icon/recommend.png";
const ALL_DAYS: &[u8] = &[0, 1, 2, 3, 4, 5, 6];
const WEEKDAYS: &[u8] = &[0, 1, 2, 3, 4];
const MON_TO_SAT: &[u8] = &[0, 1, 2, 3, 4, 5];

const fn hm(hour: u32, minute: u32) -> u32 {
    hour * 60 + minute
}

pub(crate) static CATEGORIES: &[Category] = &[
    Category {
        id: "20",
        name: "家政",
        icon_url: "http://img.daoway.cn/img/icon/home/jiazhen.png",
        service_icon_url: "http://img.daoway.cn/img/icon/jiazheng3.png",
    },
    Category {
        id: "21",
        name: "外卖",
        icon_url: "http://img.daoway.cn/img/icon/home/waimai.png",
        service_icon_url: "http://img.daoway.cn/img/icon/waimai3.png",
    },
    Category {
        id: "22",
        name: "保洁清洗",
        icon_url: "http://img.daoway.cn/img/icon/home/baojie.png",
        service_icon_url: "http://img.daoway.cn/img/icon/baojie3.png",
    },
    Category {
        id: "23",
        name: "家电维修",
        icon_url: "http://img.daoway.cn/img/icon/home/weixiu.png",
        service_icon_url: "http://img.daoway.cn/img/icon/weixiu3.png",
    },
    Category {
        id: "24",
        name: "搬家",
        icon_url: "http://img.daoway.cn/img/icon/home/banjia.png",
        service_icon_url: "http://img.daoway.cn/img/icon/banjia3.png",
    },
    Category {
        id: "25",
        name: "洗衣洗鞋",
        icon_url: "http://img.daoway.cn/img/icon/home/xiyi.png",
        service_icon_url: "http://img.daoway.cn/img/icon/xiyi3.png",
    },
    Category {
        id: "26",
        name: "开锁换锁",
        icon_url: "http://img.daoway.cn/img/icon/home/kaisuo.png",
        service_icon_url: "http://img.daoway.cn/img/icon/kaisuo3.png",
    },
    Category {
        id: "27",
        name: "美甲美睫",
        icon_url: "http://img.daoway.cn/img/icon/home/meijia.png",
        service_icon_url: "http://img.daoway.cn/img/icon/meijia3.png",
    },
    Category {
        id: "28",
        name: "按摩推拿",
        icon_url: "http://img.daoway.cn/img/icon/home/anmo.png",
        service_icon_url: "http://img.daoway.cn/img/icon/anmo3.png",
    },
    Category {
        id: "29",
        name: "月嫂育儿",
        icon_url: "http://img.daoway.cn/img/icon/home/yuesao.png",
        service_icon_url: "http://img.daoway.cn/img/icon/yuesao3.png",
    },
    Category {
        id: "30",
        name: "管道疏通",
        icon_url: "http://img.daoway.cn/img/icon/home/shutong.png",
        service_icon_url: "http://img.daoway.cn/img/icon/shutong3.png",
    },
];

pub(crate) fn category(id: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.id == id)
}

pub(crate) fn shop(id: &str) -> Option<&'static Shop> {
    SHOPS.iter().find(|s| s.id == id)
}

pub(crate) static SHOPS: &[Shop] = &[
    // ---------------------------------------------------------------- 北京
    Shop {
        id: "c8e42f7716124bd2ad23c95445002d88",
        category_id: "20",
        city: "北京",
        title: "云家政",
        description: "朝阳区老牌家政公司，阿姨均经过健康体检与岗前培训，提供日常保洁、擦玻璃等服务。",
        imgs: &["http://img.daoway.cn/img/2015/12/18/71cae631-df7e-40d2-abcb-e1dd4e98b61b.jpg"],
        lng: 116.467,
        lat: 39.915,
        open_minute: hm(8, 0),
        close_minute: hm(20, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 120,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[YOUHUI, RECOMMEND],
        prices: &[
            Price {
                id: "56611",
                name: "家庭保洁",
                description: "客厅、卧室、厨房、卫生间的日常清洁，自带清洁工具。",
                price_fen: 1500,
                unit: "/小时",
                img_url: "http://img.daoway.cn/img/2015/12/18/5b0c1d4e-2f7a-4c3e-9e1d-6a1f0c2b7d11.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "56612",
                name: "擦玻璃",
                description: "双面擦洗，高层外侧不做。10平米起。",
                price_fen: 800,
                unit: "/平米",
                img_url: "http://img.daoway.cn/img/2015/12/18/9a3e7c52-41d8-4b6f-8c2a-0e5d3f6b1a22.jpg",
                min_buy_num: 10,
            },
        ],
    },
    Shop {
        id: "ab65512d16b745f1b420c915cbd399f2",
        category_id: "20",
        city: "北京",
        title: "来人到家",
        description: "18年专注家政保洁，海淀、朝阳、西城全城服务，不满意免费返工。",
        imgs: &["http://img.daoway.cn/img/2015/11/26/faf2fb0a-fdd3-4f01-8324-2273047ad70e.jpg"],
        lng: 116.323,
        lat: 39.990,
        open_minute: hm(8, 0),
        close_minute: hm(18, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 24 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[YOUHUI, RECOMMEND],
        prices: &[
            Price {
                id: "105548",
                name: "4小时家庭保洁",
                description: "4小时全屋日常保洁，适合两居室。",
                price_fen: 9900,
                unit: "/次",
                img_url: "http://img.daoway.cn/img/2015/11/26/faf2fb0a-fdd3-4f01-8324-2273047ad70e.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "105097",
                name: "家庭保洁",
                description: "家庭保洁服务内容:地面清洁、家具除尘、厨卫清洁，2小时起订。",
                price_fen: 3500,
                unit: "元/小时",
                img_url: "http://img.daoway.cn/img/2015/10/13/34527045-8d38-41ed-a79d-fd47e0cc0e4e.jpg",
                min_buy_num: 2,
            },
        ],
    },
    Shop {
        id: "66195271efcc8aaedc0bc49ea0128dd3",
        category_id: "22",
        city: "北京",
        title: "悦洁保洁(望京店)",
        description: "望京及周边深度保洁、开荒保洁，订单满100元起接。",
        imgs: &[
            "http://img.daoway.cn/img/2016/03/02/1f6b2d4a-8c37-4e51-a0b9-3d7e5c9f2a61.jpg",
            "http://img.daoway.cn/img/2016/03/02/7c2e9a15-d4b3-46f8-9e0a-5b1c8d3f6e72.jpg",
        ],
        lng: 116.487,
        lat: 40.002,
        open_minute: hm(8, 0),
        close_minute: hm(20, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 4 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 10000,
        tag_icons: &[RECOMMEND],
        prices: &[
            Price {
                id: "201001",
                name: "日常保洁",
                description: "按小时计费，含地面、桌面、厨卫基础清洁。",
                price_fen: 4000,
                unit: "元/小时",
                img_url: "http://img.daoway.cn/img/2016/03/02/2a8d4f61-9b3e-4c72-8d15-6e0f7a2b9c83.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "201002",
                name: "厨房深度保洁",
                description: "油烟机拆洗、灶台去油、橱柜内外清洁。",
                price_fen: 18000,
                unit: "元/次",
                img_url: "http://img.daoway.cn/img/2016/03/02/4e1b7c93-2d5a-48f6-b0c7-8a3d9e1f5b94.jpg",
                min_buy_num: 1,
            },
        ],
    },
    Shop {
        id: "ef6f87ec03d8ce8106d152bc2c721dc5",
        category_id: "23",
        city: "北京",
        title: "快修师傅家电维修",
        description: "空调、洗衣机、油烟机清洗保养，上门费30元，满200元免上门费。",
        imgs: &["http://img.daoway.cn/img/2016/05/11/8b3f1e2d-6c4a-4d97-a1e8-2f5c7b9d0e15.jpg"],
        lng: 116.293,
        lat: 39.865,
        open_minute: hm(9, 0),
        close_minute: hm(19, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 4 * 60,
        fix_fee_fen: 3000,
        no_fix_fee_price_fen: 20000,
        min_buy_price_fen: 0,
        tag_icons: &[YOUHUI],
        prices: &[
            Price {
                id: "202001",
                name: "空调清洗",
                description: "挂机内机拆洗、杀菌，柜机另议。",
                price_fen: 12000,
                unit: "元/台",
                img_url: "http://img.daoway.cn/img/2016/05/11/3d9a6f1b-7e2c-4b58-9f03-1c6e8a4d2b37.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "202002",
                name: "洗衣机清洗",
                description: "波轮、滚筒均可，拆桶除垢。",
                price_fen: 8000,
                unit: "元/台",
                img_url: "http://img.daoway.cn/img/2016/05/11/5f2c8e4a-1b6d-4a39-8c70-9e3b2d5f7a48.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "202003",
                name: "油烟机清洗",
                description: "深度拆洗，涡轮叶片除油。",
                price_fen: 15000,
                unit: "元/台",
                img_url: "http://img.daoway.cn/img/2016/05/11/6a4d2b8e-3f7c-4e15-b9a2-0d8c5e1f3b59.jpg",
                min_buy_num: 1,
            },
        ],
    },
    Shop {
        id: "5e74de96ab1b469558aab3eede4a403f",
        category_id: "26",
        city: "北京",
        title: "安心开锁",
        description: "公安备案开锁公司，开锁、换锁芯、安装智能锁，上门费20元。",
        imgs: &["http://img.daoway.cn/img/2016/06/20/9c1e5a3f-4b8d-4f62-a7e9-2b6d0c8f4a13.jpg"],
        lng: 116.423,
        lat: 39.935,
        open_minute: hm(8, 0),
        close_minute: hm(22, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 2 * 60,
        fix_fee_fen: 2000,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[],
        prices: &[
            Price {
                id: "203001",
                name: "普通门锁开锁",
                description: "防盗门、室内门开锁，需出示身份证明。",
                price_fen: 6000,
                unit: "元/次",
                img_url: "http://img.daoway.cn/img/2016/06/20/1a7f3c9e-5d2b-4e84-b6c1-8e4a0f2d6b25.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "203002",
                name: "更换C级锁芯",
                description: "含C级超B级锁芯一个。",
                price_fen: 18000,
                unit: "元/个",
                img_url: "http://img.daoway.cn/img/2016/06/20/2b8e4d0f-6e3c-4f95-c7d2-9f5b1e3a7c36.jpg",
                min_buy_num: 1,
            },
        ],
    },
    Shop {
        id: "5486bfef580afe00f03ee23950b58627",
        category_id: "25",
        city: "北京",
        title: "白领洗衣",
        description: "金融街写字楼上门收送，工作日服务，衬衫3件起收。",
        imgs: &["http://img.daoway.cn/img/2016/04/08/3c9f5e1b-7a4d-4b26-8e3f-1d7b2c9e5a47.jpg"],
        lng: 116.366,
        lat: 39.921,
        open_minute: hm(9, 0),
        close_minute: hm(18, 0),
        available_days: WEEKDAYS,
        ahead_minutes: 24 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[RECOMMEND],
        prices: &[
            Price {
                id: "204001",
                name: "衬衫干洗",
                description: "干洗熨烫，次日送回。",
                price_fen: 1500,
                unit: "元/件",
                img_url: "http://img.daoway.cn/img/2016/04/08/4d0a6f2c-8b5e-4c37-9f4a-2e8c3d0f6b58.jpg",
                min_buy_num: 3,
            },
            Price {
                id: "204002",
                name: "西装干洗",
                description: "两件套干洗熨烫。",
                price_fen: 4500,
                unit: "元/套",
                img_url: "http://img.daoway.cn/img/2016/04/08/5e1b7a3d-9c6f-4d48-a05b-3f9d4e1a7c69.jpg",
                min_buy_num: 1,
            },
        ],
    },
    Shop {
        id: "aab50501b06f6e8c10fd01592bcd0e8a",
        category_id: "24",
        city: "北京",
        title: "蓝天搬家",
        description: "通州、朝阳居民搬家，自有车辆，明码标价不加价。",
        imgs: &["http://img.daoway.cn/img/2016/02/15/6f2c8b4e-0d7a-4e59-b16c-4a0e5f2b8d70.jpg"],
        lng: 116.663,
        lat: 39.916,
        open_minute: hm(7, 0),
        close_minute: hm(19, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 24 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[YOUHUI],
        prices: &[
            Price {
                id: "205001",
                name: "小面包车搬家",
                description: "5公里内，含2名搬运工。",
                price_fen: 20000,
                unit: "元/车",
                img_url: "http://img.daoway.cn/img/2016/02/15/7a3d9c5f-1e8b-4f6a-c27d-5b1f6a3c9e81.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "205002",
                name: "金杯车搬家",
                description: "10公里内，含2名搬运工。",
                price_fen: 30000,
                unit: "元/车",
                img_url: "http://img.daoway.cn/img/2016/02/15/8b4e0d6a-2f9c-4a7b-d38e-6c2a7b4d0f92.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "205003",
                name: "加派搬运工",
                description: "按人计费，2人起。",
                price_fen: 10000,
                unit: "元/人",
                img_url: "http://img.daoway.cn/img/2016/02/15/9c5f1e7b-3a0d-4b8c-e49f-7d3b8c5e1a03.jpg",
                min_buy_num: 2,
            },
        ],
    },
    Shop {
        id: "cf572e1b25b66cedd7462cbb063e93b1",
        category_id: "29",
        city: "北京",
        title: "金牌月嫂",
        description: "持证月嫂、育儿嫂，签约前可面试，住家服务。",
        imgs: &["http://img.daoway.cn/img/2016/07/01/0d6a2f8c-4b1e-4c9d-f5a0-8e4c9d6f2b14.jpg"],
        lng: 116.343,
        lat: 40.077,
        open_minute: hm(9, 0),
        close_minute: hm(18, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 24 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[RECOMMEND],
        prices: &[
            Price {
                id: "206001",
                name: "26天月嫂套餐",
                description: "产妇护理、新生儿护理、月子餐。",
                price_fen: 980_000,
                unit: "元/26天",
                img_url: "http://img.daoway.cn/img/2016/07/01/1e7b3a9d-5c2f-4dae-a6b1-9f5d0e7a3c25.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "206002",
                name: "育儿嫂",
                description: "6个月以上婴幼儿照护，按月计费。",
                price_fen: 580_000,
                unit: "元/月",
                img_url: "http://img.daoway.cn/img/2016/07/01/2f8c4b0e-6d3a-4ebf-b7c2-0a6e1f8b4d36.jpg",
                min_buy_num: 1,
            },
        ],
    },
    // ---------------------------------------------------------------- 上海
    Shop {
        id: "b8d54f9842b35182b5545a6d730e5497",
        category_id: "22",
        city: "上海",
        title: "申城保洁",
        description: "陆家嘴、张江家庭保洁，2小时起订，擦玻璃10平米起。",
        imgs: &["http://img.daoway.cn/img/2016/03/18/3a9d5c1f-7e4b-4f0c-c8d3-1b7f2a9e5c47.jpg"],
        lng: 121.506,
        lat: 31.245,
        open_minute: hm(8, 0),
        close_minute: hm(20, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 4 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[YOUHUI, RECOMMEND],
        prices: &[
            Price {
                id: "301001",
                name: "家庭日常保洁",
                description: "全屋除尘、地面清洁、厨卫清洁。",
                price_fen: 4500,
                unit: "元/小时",
                img_url: "http://img.daoway.cn/img/2016/03/18/4b0e6d2a-8f5c-4a1d-d9e4-2c8a3b0f6d58.jpg",
                min_buy_num: 2,
            },
            Price {
                id: "301002",
                name: "擦玻璃",
                description: "双面擦洗，含窗框窗槽。",
                price_fen: 1000,
                unit: "元/平米",
                img_url: "http://img.daoway.cn/img/2016/03/18/5c1f7e3b-9a6d-4b2e-e0f5-3d9b4c1a7e69.jpg",
                min_buy_num: 10,
            },
        ],
    },
    Shop {
        id: "6b63aa3a29abbc6b98bf0d0ba49967ec",
        category_id: "20",
        city: "上海",
        title: "阿姨帮家政",
        description: "徐汇、长宁钟点工与做饭阿姨，本地阿姨懂上海菜。",
        imgs: &["http://img.daoway.cn/img/2016/01/22/6d2a8f4c-0b7e-4c3f-f1a6-4e0c5d2b8f70.jpg"],
        lng: 121.443,
        lat: 31.194,
        open_minute: hm(8, 0),
        close_minute: hm(20, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 2 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[RECOMMEND],
        prices: &[
            Price {
                id: "302001",
                name: "钟点工",
                description: "日常家务，2小时起。",
                price_fen: 3800,
                unit: "元/小时",
                img_url: "http://img.daoway.cn/img/2016/01/22/7e3b9a5d-1c8f-4d40-a2b7-5f1d6e3c9a81.jpg",
                min_buy_num: 2,
            },
            Price {
                id: "302002",
                name: "做饭阿姨",
                description: "三菜一汤，食材由客户准备。",
                price_fen: 6000,
                unit: "元/次",
                img_url: "http://img.daoway.cn/img/2016/01/22/8f4c0b6e-2d9a-4e51-b3c8-6a2e7f4d0b92.jpg",
                min_buy_num: 1,
            },
        ],
    },
    Shop {
        id: "b78c878931077f3550b921f28361758f",
        category_id: "23",
        city: "上海",
        title: "沪上家电清洗",
        description: "空调、冰箱清洗消毒，上门费25元，满150元免。",
        imgs: &["http://img.daoway.cn/img/2016/05/30/9a5d1c7f-3e0b-4f62-c4d9-7b3f8a5e1c03.jpg"],
        lng: 121.388,
        lat: 31.118,
        open_minute: hm(9, 0),
        close_minute: hm(18, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 24 * 60,
        fix_fee_fen: 2500,
        no_fix_fee_price_fen: 15000,
        min_buy_price_fen: 0,
        tag_icons: &[YOUHUI],
        prices: &[
            Price {
                id: "303001",
                name: "空调清洗",
                description: "挂机内机深度清洗。",
                price_fen: 10000,
                unit: "元/台",
                img_url: "http://img.daoway.cn/img/2016/05/30/0b6e2d8a-4f1c-4a73-d5e0-8c4a9b6f2d14.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "303002",
                name: "冰箱清洗",
                description: "除味、杀菌、冷冻室除冰。",
                price_fen: 9000,
                unit: "元/台",
                img_url: "http://img.daoway.cn/img/2016/05/30/1c7f3e9b-5a2d-4b84-e6f1-9d5b0c7a3e25.jpg",
                min_buy_num: 1,
            },
        ],
    },
    Shop {
        id: "835d696c272da4edd004d0ea6f118ad5",
        category_id: "28",
        city: "上海",
        title: "静安推拿",
        description: "中医推拿师上门，缓解肩颈腰背劳损。",
        imgs: &["http://img.daoway.cn/img/2016/08/09/2d8a4f0c-6b3e-4c95-f7a2-0e6c1d8b4f36.jpg"],
        lng: 121.452,
        lat: 31.229,
        open_minute: hm(10, 0),
        close_minute: hm(22, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 2 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[RECOMMEND],
        prices: &[
            Price {
                id: "304001",
                name: "全身推拿60分钟",
                description: "经络推拿，肩颈腰背重点放松。",
                price_fen: 16800,
                unit: "元/次",
                img_url: "http://img.daoway.cn/img/2016/08/09/3e9b5a1d-7c4f-4da6-a8b3-1f7d2e9c5a47.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "304002",
                name: "足底按摩",
                description: "45分钟足底反射区按摩。",
                price_fen: 12800,
                unit: "元/次",
                img_url: "http://img.daoway.cn/img/2016/08/09/4f0c6b2e-8d5a-4eb7-b9c4-2a8e3f0d6b58.jpg",
                min_buy_num: 1,
            },
        ],
    },
    Shop {
        id: "fe83d2dd708ba893153b96bb087699cb",
        category_id: "27",
        city: "上海",
        title: "指尖美甲",
        description: "美甲师上门，进口甲油胶，一次性工具。",
        imgs: &["http://img.daoway.cn/img/2016/09/12/5a1d7c3f-9e6b-4fc8-c0d5-3b9f4a1e7c69.jpg"],
        lng: 121.430,
        lat: 31.226,
        open_minute: hm(10, 0),
        close_minute: hm(21, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 2 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[YOUHUI],
        prices: &[
            Price {
                id: "305001",
                name: "纯色美甲",
                description: "单色甲油胶，含修型护理。",
                price_fen: 9800,
                unit: "元/次",
                img_url: "http://img.daoway.cn/img/2016/09/12/6b2e8d4a-0f7c-4ad9-d1e6-4c0a5b2f8d70.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "305002",
                name: "美睫嫁接",
                description: "自然款单根嫁接。",
                price_fen: 15800,
                unit: "元/次",
                img_url: "http://img.daoway.cn/img/2016/09/12/7c3f9e5b-1a8d-4bea-e2f7-5d1b6c3a9e81.jpg",
                min_buy_num: 1,
            },
        ],
    },
    // ---------------------------------------------------------------- 广州
    Shop {
        id: "35f23f5e0e2af602ce3d697cd981ca38",
        category_id: "20",
        city: "广州",
        title: "羊城家政",
        description: "天河、越秀家庭保洁，阿姨持健康证上岗。",
        imgs: &["http://img.daoway.cn/img/2016/02/26/8d4a0f6c-2b9e-4cfb-f3a8-6e2c7d4b0f92.jpg"],
        lng: 113.337,
        lat: 23.143,
        open_minute: hm(8, 0),
        close_minute: hm(19, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 4 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[RECOMMEND],
        prices: &[Price {
            id: "401001",
            name: "家庭保洁",
            description: "日常保洁，2小时起。",
            price_fen: 3500,
            unit: "元/小时",
            img_url: "http://img.daoway.cn/img/2016/02/26/9e5b1a7d-3c0f-4d0c-a4b9-7f3d8e5c1a03.jpg",
            min_buy_num: 2,
        }],
    },
    Shop {
        id: "6a78d2c468c4c08ae80316c8f38221a1",
        category_id: "30",
        city: "广州",
        title: "穗通管道疏通",
        description: "马桶、下水道、地漏疏通，不通不收费，上门费20元。",
        imgs: &["http://img.daoway.cn/img/2016/06/03/0f6c2b8e-4d1a-4e1d-b5c0-8a4e9f6d2b14.jpg"],
        lng: 113.274,
        lat: 23.133,
        open_minute: hm(8, 0),
        close_minute: hm(22, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 2 * 60,
        fix_fee_fen: 2000,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[],
        prices: &[
            Price {
                id: "402001",
                name: "马桶疏通",
                description: "机器疏通，不通不收费。",
                price_fen: 8000,
                unit: "元/次",
                img_url: "http://img.daoway.cn/img/2016/06/03/1a7d3c9f-5e2b-4f2e-c6d1-9b5f0a7e3c25.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "402002",
                name: "下水道疏通",
                description: "厨房、卫生间下水管道。",
                price_fen: 12000,
                unit: "元/次",
                img_url: "http://img.daoway.cn/img/2016/06/03/2b8e4d0a-6f3c-4a3f-d7e2-0c6a1b8f4d36.jpg",
                min_buy_num: 1,
            },
        ],
    },
    Shop {
        id: "992eb6a822425e1b44a290b9d70d0fc9",
        category_id: "24",
        city: "广州",
        title: "岭南搬家",
        description: "白云、天河居民搬家，家具拆装。",
        imgs: &["http://img.daoway.cn/img/2016/02/29/3c9f5e1b-7a4d-4b40-e8f3-1d7b2c9e5a47.jpg"],
        lng: 113.279,
        lat: 23.168,
        open_minute: hm(7, 0),
        close_minute: hm(19, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 24 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[YOUHUI],
        prices: &[Price {
            id: "403001",
            name: "小型搬家",
            description: "一室一厅以内，含3名师傅。",
            price_fen: 26000,
            unit: "元/车",
            img_url: "http://img.daoway.cn/img/2016/02/29/4d0a6f2c-8b5e-4c51-f9a4-2e8c3d0f6b58.jpg",
            min_buy_num: 1,
        }],
    },
    Shop {
        id: "c215a5a346aeb56676cba0f726cd0049",
        category_id: "21",
        city: "广州",
        title: "粤点外卖",
        description: "荔湾老字号早茶、烧腊外送，满30元起送，满60元免配送费。",
        imgs: &["http://img.daoway.cn/img/2016/10/10/5e1b7a3d-9c6f-4d62-a0b5-3f9d4e1a7c69.jpg"],
        lng: 113.250,
        lat: 23.131,
        open_minute: hm(10, 0),
        close_minute: hm(21, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 2 * 60,
        fix_fee_fen: 500,
        no_fix_fee_price_fen: 6000,
        min_buy_price_fen: 3000,
        tag_icons: &[YOUHUI, RECOMMEND],
        prices: &[
            Price {
                id: "404001",
                name: "早茶套餐",
                description: "虾饺、烧卖、叉烧包、豉汁凤爪。",
                price_fen: 4800,
                unit: "元/份",
                img_url: "http://img.daoway.cn/img/2016/10/10/6f2c8b4e-0d7a-4e73-b1c6-4a0e5f2b8d70.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "404002",
                name: "烧腊双拼饭",
                description: "叉烧、烧鹅双拼，配例汤。",
                price_fen: 2500,
                unit: "元/份",
                img_url: "http://img.daoway.cn/img/2016/10/10/7a3d9c5f-1e8b-4f84-c2d7-5b1f6a3c9e81.jpg",
                min_buy_num: 1,
            },
        ],
    },
    // ---------------------------------------------------------------- 深圳
    Shop {
        id: "f2446a08dbfedd2935242ef3d4ff1c39",
        category_id: "22",
        city: "深圳",
        title: "鹏城保洁",
        description: "南山、前海新房开荒与日常保洁，开荒30平米起。",
        imgs: &["http://img.daoway.cn/img/2016/04/19/8b4e0d6a-2f9c-4a95-d3e8-6c2a7b4d0f92.jpg"],
        lng: 113.937,
        lat: 22.540,
        open_minute: hm(8, 0),
        close_minute: hm(20, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 24 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[RECOMMEND],
        prices: &[
            Price {
                id: "501001",
                name: "开荒保洁",
                description: "新房装修后首次保洁，按建筑面积计。",
                price_fen: 800,
                unit: "元/平米",
                img_url: "http://img.daoway.cn/img/2016/04/19/9c5f1e7b-3a0d-4ba6-e4f9-7d3b8c5e1a03.jpg",
                min_buy_num: 30,
            },
            Price {
                id: "501002",
                name: "日常保洁",
                description: "2小时起订。",
                price_fen: 4000,
                unit: "元/小时",
                img_url: "http://img.daoway.cn/img/2016/04/19/0d6a2f8c-4b1e-4cb7-f5a0-8e4c9d6f2b14.jpg",
                min_buy_num: 2,
            },
        ],
    },
    Shop {
        id: "758ba68fe78b4cbc9afd2c9e43eebfef",
        category_id: "23",
        city: "深圳",
        title: "速修家电",
        description: "热水器、空调维修加氟，周一至周六服务，上门费30元。",
        imgs: &["http://img.daoway.cn/img/2016/05/06/1e7b3a9d-5c2f-4dc8-a6b1-9f5d0e7a3c25.jpg"],
        lng: 114.138,
        lat: 22.554,
        open_minute: hm(9, 0),
        close_minute: hm(21, 0),
        available_days: MON_TO_SAT,
        ahead_minutes: 2 * 60,
        fix_fee_fen: 3000,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[],
        prices: &[
            Price {
                id: "502001",
                name: "热水器维修",
                description: "检测费，配件另计。",
                price_fen: 5000,
                unit: "元/次",
                img_url: "http://img.daoway.cn/img/2016/05/06/2f8c4b0e-6d3a-4ed9-b7c2-0a6e1f8b4d36.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "502002",
                name: "空调加氟",
                description: "R22/R410A，含检漏。",
                price_fen: 15000,
                unit: "元/次",
                img_url: "http://img.daoway.cn/img/2016/05/06/3a9d5c1f-7e4b-4fea-c8d3-1b7f2a9e5c47.jpg",
                min_buy_num: 1,
            },
        ],
    },
    Shop {
        id: "6fbb816d9964e28e1d0c958196b9bd87",
        category_id: "29",
        city: "深圳",
        title: "南山月嫂中心",
        description: "高级母婴护理师，住家26天服务。",
        imgs: &["http://img.daoway.cn/img/2016/07/14/4b0e6d2a-8f5c-4a0b-d9e4-2c8a3b0f6d58.jpg"],
        lng: 113.935,
        lat: 22.525,
        open_minute: hm(9, 0),
        close_minute: hm(18, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 24 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[RECOMMEND],
        prices: &[Price {
            id: "503001",
            name: "金牌月嫂26天",
            description: "五星级月嫂，含月子餐与产后恢复指导。",
            price_fen: 1_280_000,
            unit: "元/26天",
            img_url: "http://img.daoway.cn/img/2016/07/14/5c1f7e3b-9a6d-4b1c-e0f5-3d9b4c1a7e69.jpg",
            min_buy_num: 1,
        }],
    },
    Shop {
        id: "985661afea47524e1c5454572d93f93a",
        category_id: "26",
        city: "深圳",
        title: "福田开锁",
        description: "福田、罗湖快速上门开锁，最快30分钟到达。",
        imgs: &["http://img.daoway.cn/img/2016/06/27/6d2a8f4c-0b7e-4c2d-f1a6-4e0c5d2b8f70.jpg"],
        lng: 114.061,
        lat: 22.547,
        open_minute: hm(8, 0),
        close_minute: hm(23, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 90,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[YOUHUI],
        prices: &[Price {
            id: "504001",
            name: "开锁",
            description: "防盗门、保险柜、汽车锁。",
            price_fen: 5000,
            unit: "元/次",
            img_url: "http://img.daoway.cn/img/2016/06/27/7e3b9a5d-1c8f-4d3e-a2b7-5f1d6e3c9a81.jpg",
            min_buy_num: 1,
        }],
    },
    Shop {
        id: "daad616d0c5294ba8c9fbb2000481f0f",
        category_id: "28",
        city: "深圳",
        title: "舒心到家按摩",
        description: "宝安、南山上门中式按摩，技师持证。",
        imgs: &["http://img.daoway.cn/img/2016/08/22/8f4c0b6e-2d9a-4e4f-b3c8-6a2e7f4d0b92.jpg"],
        lng: 113.890,
        lat: 22.561,
        open_minute: hm(10, 0),
        close_minute: hm(22, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 2 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[],
        prices: &[Price {
            id: "505001",
            name: "中式按摩90分钟",
            description: "全身经络放松。",
            price_fen: 13800,
            unit: "元/次",
            img_url: "http://img.daoway.cn/img/2016/08/22/9a5d1c7f-3e0b-4f50-c4d9-7b3f8a5e1c03.jpg",
            min_buy_num: 1,
        }],
    },
    // ---------------------------------------------------------------- 杭州
    Shop {
        id: "ae7bcda148a4c0166d131a245fd5a9e7",
        category_id: "20",
        city: "杭州",
        title: "西湖家政",
        description: "西湖、上城家庭保洁与整理收纳。",
        imgs: &["http://img.daoway.cn/img/2016/03/09/0b6e2d8a-4f1c-4a61-d5e0-8c4a9b6f2d14.jpg"],
        lng: 120.137,
        lat: 30.265,
        open_minute: hm(8, 0),
        close_minute: hm(18, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 4 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[RECOMMEND],
        prices: &[
            Price {
                id: "601001",
                name: "家庭保洁",
                description: "2小时起订。",
                price_fen: 3500,
                unit: "元/小时",
                img_url: "http://img.daoway.cn/img/2016/03/09/1c7f3e9b-5a2d-4b72-e6f1-9d5b0c7a3e25.jpg",
                min_buy_num: 2,
            },
            Price {
                id: "601002",
                name: "整理收纳",
                description: "衣橱、厨房收纳整理，2小时起订。",
                price_fen: 8000,
                unit: "元/小时",
                img_url: "http://img.daoway.cn/img/2016/03/09/2d8a4f0c-6b3e-4c83-f7a2-0e6c1d8b4f36.jpg",
                min_buy_num: 2,
            },
        ],
    },
    Shop {
        id: "962c7939602e0dccff3dfb966249da67",
        category_id: "25",
        city: "杭州",
        title: "杭城洗衣",
        description: "羽绒服、球鞋专业清洗，周一至周六上门取送。",
        imgs: &["http://img.daoway.cn/img/2016/11/03/3e9b5a1d-7c4f-4d94-a8b3-1f7d2e9c5a47.jpg"],
        lng: 120.148,
        lat: 30.325,
        open_minute: hm(9, 0),
        close_minute: hm(19, 0),
        available_days: MON_TO_SAT,
        ahead_minutes: 24 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[YOUHUI],
        prices: &[
            Price {
                id: "602001",
                name: "羽绒服清洗",
                description: "专业水洗，蓬松复原。",
                price_fen: 4500,
                unit: "元/件",
                img_url: "http://img.daoway.cn/img/2016/11/03/4f0c6b2e-8d5a-4ea5-b9c4-2a8e3f0d6b58.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "602002",
                name: "洗鞋",
                description: "运动鞋、休闲鞋，2双起收。",
                price_fen: 2500,
                unit: "元/双",
                img_url: "http://img.daoway.cn/img/2016/11/03/5a1d7c3f-9e6b-4fb6-c0d5-3b9f4a1e7c69.jpg",
                min_buy_num: 2,
            },
        ],
    },
    Shop {
        id: "da061a97d86fd0b24735deb40e4ea45e",
        category_id: "24",
        city: "杭州",
        title: "钱塘搬家",
        description: "滨江、萧山居民与公司搬家。",
        imgs: &["http://img.daoway.cn/img/2016/02/18/6b2e8d4a-0f7c-4ac7-d1e6-4c0a5b2f8d70.jpg"],
        lng: 120.218,
        lat: 30.214,
        open_minute: hm(7, 0),
        close_minute: hm(19, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 24 * 60,
        fix_fee_fen: 0,
        no_fix_fee_price_fen: 0,
        min_buy_price_fen: 0,
        tag_icons: &[],
        prices: &[Price {
            id: "603001",
            name: "居民搬家",
            description: "两室以内，含4名师傅。",
            price_fen: 30000,
            unit: "元/车",
            img_url: "http://img.daoway.cn/img/2016/02/18/7c3f9e5b-1a8d-4bd8-e2f7-5d1b6c3a9e81.jpg",
            min_buy_num: 1,
        }],
    },
    Shop {
        id: "4abf84e4b04d23007049c2063b92c728",
        category_id: "21",
        city: "杭州",
        title: "知味外卖",
        description: "杭帮菜外送，片儿川、东坡肉，满20元起送，配送费3元，满50元免。",
        imgs: &["http://img.daoway.cn/img/2016/10/21/8d4a0f6c-2b9e-4ce9-f3a8-6e2c7d4b0f92.jpg"],
        lng: 120.176,
        lat: 30.254,
        open_minute: hm(10, 0),
        close_minute: hm(21, 0),
        available_days: ALL_DAYS,
        ahead_minutes: 2 * 60,
        fix_fee_fen: 300,
        no_fix_fee_price_fen: 5000,
        min_buy_price_fen: 2000,
        tag_icons: &[YOUHUI],
        prices: &[
            Price {
                id: "604001",
                name: "片儿川",
                description: "雪菜、笋片、瘦肉，现煮现送。",
                price_fen: 2200,
                unit: "元/份",
                img_url: "http://img.daoway.cn/img/2016/10/21/9e5b1a7d-3c0f-4dfa-a4b9-7f3d8e5c1a03.jpg",
                min_buy_num: 1,
            },
            Price {
                id: "604002",
                name: "东坡肉套餐",
                description: "东坡肉、时蔬、米饭。",
                price_fen: 3800,
                unit: "元/份",
                img_url: "http://img.daoway.cn/img/2016/10/21/0f6c2b8e-4d1a-4e0b-b5c0-8a4e9f6d2b14.jpg",
                min_buy_num: 1,
            },
        ],
    },
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_references_resolve() {
        let mut shop_ids = HashSet::new();
        let mut price_ids = HashSet::new();
        for shop in SHOPS {
            assert!(shop_ids.insert(shop.id), "duplicate shop {}", shop.id);
            assert_eq!(shop.id.len(), 32);
            assert!(category(shop.category_id).is_some(), "{}", shop.id);
            assert!(!shop.prices.is_empty() && shop.prices.len() <= 4);
            assert!(shop.open_minute < shop.close_minute);
            assert!(shop.available_days.iter().all(|d| *d <= 6));
            for price in shop.prices {
                assert!(price_ids.insert(price.id), "duplicate price {}", price.id);
                assert!(price.min_buy_num >= 1 && price.price_fen > 0);
            }
        }
        assert!(SHOPS.len() >= 24);
        assert!(CATEGORIES.len() >= 8);
    }

    #[test]
    fn every_city_has_shops_and_required_special_cases_exist() {
        for city in ["北京", "上海", "广州", "深圳", "杭州"] {
            assert!(
                SHOPS.iter().filter(|s| s.city == city).count() >= 4,
                "{city}"
            );
        }
        assert!(SHOPS.iter().any(|s| s.min_buy_price_fen > 0));
        assert!(
            SHOPS
                .iter()
                .any(|s| s.fix_fee_fen > 0 && s.no_fix_fee_price_fen > 0)
        );
        assert!(
            SHOPS
                .iter()
                .any(|s| s.fix_fee_fen > 0 && s.no_fix_fee_price_fen == 0)
        );
        assert!(SHOPS.iter().any(|s| s.available_days == WEEKDAYS));
        for city in ["北京", "上海"] {
            assert!(
                SHOPS
                    .iter()
                    .any(|s| s.city == city && s.title.contains("保洁"))
            );
        }
    }
}
