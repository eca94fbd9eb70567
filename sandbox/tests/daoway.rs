//! The Daoway sandbox seen from outside, through its router only: every refusal message, the
//! money rules, paging and ordering, the status machine, faults, and the cancel notification
//! delivered to a real local listener.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, Method, Request, StatusCode, header},
    routing::post,
};
use chrono::{Datelike, NaiveDate, TimeDelta, Utc};
use orderhub_sandbox::{
    daoway::{DaowayAccount, DaowaySandbox, DaowaySandboxConfig},
    faults::Faults,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

// ---------------------------------------------------------------- seed ids used below

const YUN: &str = "c8e42f7716124bd2ad23c95445002d88"; // 云家政, 北京, ahead 2 h, 08–20
const LAIREN: &str = "ab65512d16b745f1b420c915cbd399f2"; // 来人到家, ahead 24 h, 08–18
const YUEJIE: &str = "66195271efcc8aaedc0bc49ea0128dd3"; // minBuyPrice 100
const KUAIXIU: &str = "ef6f87ec03d8ce8106d152bc2c721dc5"; // fixFee 30, free from 200
const ANXIN: &str = "5e74de96ab1b469558aab3eede4a403f"; // fixFee 20, no threshold
const BAILING: &str = "5486bfef580afe00f03ee23950b58627"; // weekdays only, 09–18, ahead 24 h
const LANTIAN: &str = "aab50501b06f6e8c10fd01592bcd0e8a"; // 蓝天搬家, far east of 北京
const JINPAI: &str = "cf572e1b25b66cedd7462cbb063e93b1"; // 9800 yuan price
const FUTIAN: &str = "985661afea47524e1c5454572d93f93a"; // 深圳, ahead 1.5 h

// ---------------------------------------------------------------- helpers

fn config() -> DaowaySandboxConfig {
    DaowaySandboxConfig {
        channels: vec!["orderhub".to_owned(), "huimin".to_owned()],
        confirm_after_secs: None,
        complete_after_secs: None,
        notify_initial_backoff_ms: 20,
        ..DaowaySandboxConfig::default()
    }
}

fn sandbox() -> (DaowaySandbox, Router) {
    let sandbox = DaowaySandbox::new(config());
    let router = sandbox.router();
    (sandbox, router)
}

async fn send(router: &Router, method: Method, uri: &str, body: Body) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

async fn get(router: &Router, uri: &str) -> (StatusCode, Value) {
    send(router, Method::GET, uri, Body::empty()).await
}

async fn post_json(router: &Router, uri: &str, body: &Value) -> (StatusCode, Value) {
    send(router, Method::POST, uri, Body::from(body.to_string())).await
}

async fn put_json(router: &Router, uri: &str, body: &Value) -> (StatusCode, Value) {
    send(router, Method::PUT, uri, Body::from(body.to_string())).await
}

/// A query string with proper percent-encoding of Chinese values.
fn qs(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).expect("encodable")
}

/// Asserts a business refusal and returns nothing else worth checking.
#[track_caller]
fn assert_refused(answer: &(StatusCode, Value), msg: &str) {
    assert_eq!(answer.0, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.1["status"], "error", "{answer:?}");
    assert_eq!(answer.1["msg"], msg, "{answer:?}");
}

#[track_caller]
fn data(answer: &(StatusCode, Value)) -> &Value {
    assert_eq!(answer.0, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.1["status"], "ok", "{answer:?}");
    &answer.1["data"]
}

fn beijing_today() -> NaiveDate {
    (Utc::now() + TimeDelta::hours(8)).date_naive()
}

/// `days` after today (Beijing) at `time`.
fn appoint(days: i64, time: &str) -> String {
    format!("{} {time}", beijing_today() + TimeDelta::days(days))
}

/// The first day at least two days out whose weekday (0 = Monday) passes `want`.
fn appoint_on(want: impl Fn(u32) -> bool, time: &str) -> String {
    let mut day = beijing_today() + TimeDelta::days(2);
    while !want(day.weekday().num_days_from_monday()) {
        day += TimeDelta::days(1);
    }
    format!("{day} {time}")
}

fn order(service_id: &str, items: Value, appoint_time: &str) -> Value {
    json!({
        "userName": "apitest",
        "password": "api123",
        "serviceId": service_id,
        "items": items,
        "city": "北京",
        "street": "朝阳区建国路88号SOHO现代城",
        "house": "2号楼1806",
        "contactPerson": "王女士",
        "phone": "13800138000",
        "appointTime": appoint_time,
        "note": "有宠物,请提前电话联系",
    })
}

fn one(price_id: &str, quantity: u64) -> Value {
    json!([{"priceId": price_id, "quantity": quantity}])
}

async fn place(router: &Router, body: &Value) -> (StatusCode, Value) {
    post_json(router, "/orders?channel=orderhub", body).await
}

/// Places an order that must succeed; returns its id.
async fn place_ok(router: &Router, body: &Value) -> String {
    let answer = place(router, body).await;
    data(&answer)["orderId"]
        .as_str()
        .expect("orderId is a string")
        .to_owned()
}

async fn status_of(router: &Router, order_id: &str) -> String {
    let answer = get(
        router,
        &format!("/orders/{order_id}/status?channel=orderhub"),
    )
    .await;
    data(&answer).as_str().expect("status string").to_owned()
}

async fn balance(router: &Router) -> i64 {
    let (status, body) = get(router, "/_control/accounts/apitest").await;
    assert_eq!(status, StatusCode::OK);
    body["balanceFen"].as_i64().expect("balanceFen")
}

fn titles(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("list")
        .iter()
        .map(|s| s["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

// ---------------------------------------------------------------- catalogue

#[tokio::test]
async fn categories_list_has_the_documented_shape() {
    let (_, router) = sandbox();
    let answer = get(&router, "/categories").await;
    let list = data(&answer).as_array().expect("array");
    assert!(list.len() >= 8);
    assert_eq!(
        list[0],
        json!({"id": "20", "name": "家政", "iconUrl": "http://img.daoway.cn/img/icon/home/jiazhen.png"})
    );
    assert!(list.iter().any(|c| c["id"] == "21" && c["name"] == "外卖"));
}

#[tokio::test]
async fn channel_is_required_and_must_be_known_on_every_route_that_takes_it() {
    let (_, router) = sandbox();
    let body = order(YUN, one("56611", 2), &appoint(2, "10:00:00"));
    for suffix in ["", "?channel=", "?channel=%20"] {
        assert_refused(
            &get(&router, &format!("/services{suffix}")).await,
            "缺少参数channel",
        );
        assert_refused(
            &get(&router, &format!("/services/{YUN}{suffix}")).await,
            "缺少参数channel",
        );
        assert_refused(
            &post_json(&router, &format!("/orders{suffix}"), &body).await,
            "缺少参数channel",
        );
        assert_refused(
            &get(&router, &format!("/orders/1/status{suffix}")).await,
            "缺少参数channel",
        );
    }
    let unknown = "?channel=nobody";
    assert_refused(
        &get(&router, &format!("/services{unknown}")).await,
        "渠道号不存在",
    );
    assert_refused(
        &get(&router, &format!("/services/{YUN}{unknown}")).await,
        "渠道号不存在",
    );
    assert_refused(
        &post_json(&router, &format!("/orders{unknown}"), &body).await,
        "渠道号不存在",
    );
    assert_refused(
        &get(&router, &format!("/orders/1/status{unknown}")).await,
        "渠道号不存在",
    );
    // No order was placed by any of that.
    assert_eq!(balance(&router).await, 1_000_000);
}

#[tokio::test]
async fn list_items_have_exactly_the_documented_fields() {
    let (_, router) = sandbox();
    let answer = get(&router, "/services?channel=orderhub").await;
    let list = data(&answer).as_array().expect("array");
    // Default city is 北京, which has eight shops, in seed order.
    assert_eq!(list.len(), 8);
    assert_eq!(
        list[0],
        json!({
            "categoryId": "20",
            "categoryIconUrl": "http://img.daoway.cn/img/icon/jiazheng3.png",
            "serviceId": YUN,
            "title": "云家政",
            "imgUrl": "http://img.daoway.cn/img/2015/12/18/71cae631-df7e-40d2-abcb-e1dd4e98b61b.jpg",
            "priceId": "56611",
            "price": 15.0,
            "priceUnit": "/小时",
            "priceName": "家庭保洁",
            "tagIcons": ["http://www.daoway.cn/img/icon/youhui.png", "http://www.daoway.cn/img/icon/recommend.png"],
        })
    );
    assert_eq!(list[1]["priceId"], "105548");
    assert_eq!(list[1]["price"], json!(99.0));
}

#[tokio::test]
async fn prices_are_json_numbers_with_a_decimal_point() {
    let request = Request::builder()
        .uri("/services?channel=orderhub&size=1")
        .body(Body::empty())
        .expect("request");
    let (_, router) = sandbox();
    let response = router.oneshot(request).await.expect("infallible");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    assert!(text.contains(r#""price":15.0"#), "{text}");
}

#[tokio::test]
async fn city_category_and_search_filter() {
    let (_, router) = sandbox();
    let shanghai = get(
        &router,
        &format!(
            "/services?{}",
            qs(&[("channel", "orderhub"), ("city", "上海")])
        ),
    )
    .await;
    assert_eq!(data(&shanghai).as_array().map(Vec::len), Some(5));

    for (city, expected) in [("北京", "悦洁保洁(望京店)"), ("上海", "申城保洁")] {
        let found = get(
            &router,
            &format!(
                "/services?{}",
                qs(&[("channel", "orderhub"), ("city", city), ("search", "保洁")])
            ),
        )
        .await;
        assert!(titles(data(&found)).iter().any(|t| t == expected), "{city}");
    }
    // Search reaches price names: only 快修师傅 sells 油烟机清洗 in 北京.
    let by_price = get(
        &router,
        &format!(
            "/services?{}",
            qs(&[("channel", "orderhub"), ("search", "油烟机")])
        ),
    )
    .await;
    assert_eq!(titles(data(&by_price)), ["快修师傅家电维修"]);

    let locks = get(&router, "/services?channel=orderhub&category=26").await;
    assert_eq!(titles(data(&locks)), ["安心开锁"]);
    let locks_sz = get(
        &router,
        &format!(
            "/services?{}",
            qs(&[
                ("channel", "orderhub"),
                ("category", "26"),
                ("city", "深圳")
            ])
        ),
    )
    .await;
    assert_eq!(titles(data(&locks_sz)), ["福田开锁"]);

    let nowhere = get(
        &router,
        &format!(
            "/services?{}",
            qs(&[("channel", "orderhub"), ("city", "拉萨")])
        ),
    )
    .await;
    assert_eq!(data(&nowhere), &json!([]));
}

#[tokio::test]
async fn paging_by_size_and_start() {
    let (_, router) = sandbox();
    let all = titles(data(&get(&router, "/services?channel=orderhub").await));
    let first = titles(data(
        &get(&router, "/services?channel=orderhub&size=3").await,
    ));
    let second = titles(data(
        &get(&router, "/services?channel=orderhub&size=3&start=3").await,
    ));
    let last = titles(data(
        &get(&router, "/services?channel=orderhub&size=3&start=6").await,
    ));
    assert_eq!(first, all[0..3]);
    assert_eq!(second, all[3..6]);
    assert_eq!(last, all[6..8]);
    let past_end = get(&router, "/services?channel=orderhub&start=100").await;
    assert_eq!(data(&past_end), &json!([]));
    let huge = get(&router, "/services?channel=orderhub&size=100000").await;
    assert_eq!(data(&huge).as_array().map(Vec::len), Some(8));

    for bad in ["size=abc", "start=x", "size=-1", "start=1.5"] {
        assert_refused(
            &get(&router, &format!("/services?channel=orderhub&{bad}")).await,
            "请求格式错误",
        );
    }
}

#[tokio::test]
async fn lng_and_lat_order_by_distance() {
    let (_, router) = sandbox();
    let default = titles(data(&get(&router, "/services?channel=orderhub").await));
    // At 蓝天搬家 in 通州, it comes first.
    let near = get(&router, "/services?channel=orderhub&lng=116.663&lat=39.916").await;
    assert_eq!(data(&near)[0]["serviceId"], LANTIAN);
    let near_lantian = titles(data(&near));
    assert_ne!(near_lantian, default);
    // At 金牌月嫂 in 回龙观.
    let near_jinpai = titles(data(
        &get(&router, "/services?channel=orderhub&lng=116.343&lat=40.077").await,
    ));
    assert_eq!(near_jinpai[0], "金牌月嫂");
    assert_eq!(near_jinpai.last().map(String::as_str), Some("蓝天搬家"));
    // Only one coordinate, or one that is not a number: default order.
    let lng_only = titles(data(
        &get(&router, "/services?channel=orderhub&lng=116.663").await,
    ));
    assert_eq!(lng_only, default);
    let garbage = titles(data(
        &get(&router, "/services?channel=orderhub&lng=abc&lat=39.9").await,
    ));
    assert_eq!(garbage, default);
}

#[tokio::test]
async fn detail_matches_the_documented_example() {
    let (_, router) = sandbox();
    let answer = get(&router, &format!("/services/{LAIREN}?channel=orderhub")).await;
    let detail = data(&answer);
    assert_eq!(detail["id"], LAIREN);
    assert_eq!(detail["categoryId"], "20");
    assert_eq!(detail["categoryName"], "家政");
    assert_eq!(
        detail["categoryIconUrl"],
        "http://img.daoway.cn/img/icon/jiazheng3.png"
    );
    assert_eq!(detail["title"], "来人到家");
    assert_eq!(detail["startTime"], "08:00");
    assert_eq!(detail["endTime"], "18:00");
    assert_eq!(detail["availableDays"], "0,1,2,3,4,5,6");
    assert_eq!(detail["aheadHours"], json!(24.0));
    assert_eq!(detail["fixFee"], json!(0.0));
    assert_eq!(detail["noFixFeePrice"], json!(0.0));
    assert_eq!(detail["minBuyPrice"], json!(0.0));
    assert_eq!(
        detail["prices"][1],
        json!({
            "id": "105097",
            "name": "家庭保洁",
            "description": "家庭保洁服务内容:地面清洁、家具除尘、厨卫清洁，2小时起订。",
            "price": 35.0,
            "priceUnit": "元/小时",
            "imgUrl": "http://img.daoway.cn/img/2015/10/13/34527045-8d38-41ed-a79d-fd47e0cc0e4e.jpg",
            "minBuyNum": 2,
        })
    );
    // Sandbox additions.
    assert_eq!(detail["city"], "北京");
    assert!(detail["lng"].is_f64() && detail["lat"].is_f64());
    let keys = detail.as_object().map(|o| o.len());
    assert_eq!(keys, Some(19));

    let laundry = get(&router, &format!("/services/{BAILING}?channel=orderhub")).await;
    assert_eq!(data(&laundry)["availableDays"], "0,1,2,3,4");
    let repair = get(&router, &format!("/services/{KUAIXIU}?channel=orderhub")).await;
    assert_eq!(data(&repair)["fixFee"], json!(30.0));
    assert_eq!(data(&repair)["noFixFeePrice"], json!(200.0));
    let futian = get(&router, &format!("/services/{FUTIAN}?channel=orderhub")).await;
    assert_eq!(data(&futian)["aheadHours"], json!(1.5));

    assert_refused(
        &get(&router, "/services/0000?channel=orderhub").await,
        "店铺不存在",
    );
}

// ---------------------------------------------------------------- ordering and money

#[tokio::test]
async fn order_debits_the_account_and_starts_pending() {
    let (_, router) = sandbox();
    let answer = place(
        &router,
        &order(YUN, one("56611", 2), &appoint(2, "10:00:00")),
    )
    .await;
    let created = data(&answer);
    assert_eq!(created["consumedMoney"], json!(30.0));
    assert_eq!(created["remainingMoney"], json!(9970.0));
    let id = created["orderId"].as_str().expect("id");
    assert!(
        id.len() >= 12 && id.bytes().all(|b| b.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(status_of(&router, id).await, "PENDING_CONFIRM");
    assert_eq!(balance(&router).await, 997_000);

    // Several lines add up; the note is optional.
    let mut two_lines = order(
        YUN,
        json!([{"priceId": "56611", "quantity": 3}, {"priceId": "56612", "quantity": 12}]),
        &appoint(2, "19:59:59"),
    );
    two_lines.as_object_mut().map(|o| o.remove("note"));
    let answer = place(&router, &two_lines).await;
    // 3 × 15.0 + 12 × 8.0 = 141.0
    assert_eq!(data(&answer)["consumedMoney"], json!(141.0));
    assert_eq!(data(&answer)["remainingMoney"], json!(9829.0));

    let second = data(&answer)["orderId"].as_str().expect("id").to_owned();
    assert_ne!(second, id);
    let (status, view) = get(&router, &format!("/_control/orders/{second}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["status"], "PENDING_CONFIRM");
    assert_eq!(view["consumedFen"], 14_100);
    assert_eq!(view["items"][1]["quantity"], 12);
    assert_eq!(view["userName"], "apitest");
    assert_eq!(view["note"], "");
}

#[tokio::test]
async fn call_out_fee_with_and_without_threshold() {
    let (_, router) = sandbox();
    let when = appoint(2, "10:00:00");
    // 快修师傅: 120 + 30 fee; two units reach 200, fee waived.
    let one_unit = place(&router, &order(KUAIXIU, one("202001", 1), &when)).await;
    assert_eq!(data(&one_unit)["consumedMoney"], json!(150.0));
    let two_units = place(&router, &order(KUAIXIU, one("202001", 2), &when)).await;
    assert_eq!(data(&two_units)["consumedMoney"], json!(240.0));
    // Exactly at the threshold counts as reaching it: 120 + 80 = 200.
    let exactly = place(
        &router,
        &order(
            KUAIXIU,
            json!([{"priceId": "202001", "quantity": 1}, {"priceId": "202002", "quantity": 1}]),
            &when,
        ),
    )
    .await;
    assert_eq!(data(&exactly)["consumedMoney"], json!(200.0));
    // 安心开锁: fee without threshold, charged however much is bought.
    let lock = place(&router, &order(ANXIN, one("203002", 5), &when)).await;
    assert_eq!(data(&lock)["consumedMoney"], json!(920.0));
    // No fee at all.
    let plain = place(&router, &order(YUN, one("56611", 1), &when)).await;
    assert_eq!(data(&plain)["consumedMoney"], json!(15.0));
    assert_eq!(
        balance(&router).await,
        1_000_000 - 15_000 - 24_000 - 20_000 - 92_000 - 1_500
    );
}

#[tokio::test]
async fn minimum_purchase_rules() {
    let (_, router) = sandbox();
    let when = appoint(2, "10:00:00");
    assert_refused(
        &place(&router, &order(LAIREN, one("105097", 1), &when)).await,
        "起购数量为2",
    );
    assert_refused(
        &place(&router, &order(YUN, one("56612", 9), &when)).await,
        "起购数量为10",
    );
    // 悦洁保洁: 2 × 40 = 80 < 100; 3 × 40 = 120 passes.
    assert_refused(
        &place(&router, &order(YUEJIE, one("201001", 2), &when)).await,
        "订单金额未达到起购金额",
    );
    let ok = place(&router, &order(YUEJIE, one("201001", 3), &when)).await;
    assert_eq!(data(&ok)["consumedMoney"], json!(120.0));
    // 来人到家 with the minimum: fine.
    let ok = place(&router, &order(LAIREN, one("105097", 2), &when)).await;
    assert_eq!(data(&ok)["consumedMoney"], json!(70.0));
}

#[tokio::test]
async fn credentials_fields_shop_and_price_refusals() {
    let (_, router) = sandbox();
    let good = order(YUN, one("56611", 1), &appoint(2, "10:00:00"));

    let mut wrong = good.clone();
    wrong["password"] = json!("nope");
    assert_refused(&place(&router, &wrong).await, "用户名或密码错误");
    wrong["userName"] = json!("stranger");
    assert_refused(&place(&router, &wrong).await, "用户名或密码错误");
    let mut no_user = good.clone();
    no_user.as_object_mut().map(|o| o.remove("userName"));
    assert_refused(&place(&router, &no_user).await, "用户名或密码错误");

    for field in [
        "serviceId",
        "items",
        "city",
        "street",
        "house",
        "contactPerson",
        "phone",
        "appointTime",
    ] {
        let mut absent = good.clone();
        absent.as_object_mut().map(|o| o.remove(field));
        assert_refused(&place(&router, &absent).await, &format!("缺少参数{field}"));
        let mut null = good.clone();
        null[field] = Value::Null;
        assert_refused(&place(&router, &null).await, &format!("缺少参数{field}"));
    }
    for field in [
        "serviceId",
        "city",
        "street",
        "house",
        "contactPerson",
        "phone",
        "appointTime",
    ] {
        let mut blank = good.clone();
        blank[field] = json!("  ");
        assert_refused(&place(&router, &blank).await, &format!("缺少参数{field}"));
    }
    let mut empty_items = good.clone();
    empty_items["items"] = json!([]);
    assert_refused(&place(&router, &empty_items).await, "缺少参数items");
    // Credentials are checked before required fields.
    let mut both = no_user.clone();
    both.as_object_mut().map(|o| o.remove("phone"));
    assert_refused(&place(&router, &both).await, "用户名或密码错误");

    assert_refused(
        &place(
            &router,
            &order("ffff", one("56611", 1), &appoint(2, "10:00:00")),
        )
        .await,
        "店铺不存在",
    );
    // A real price, but of another shop.
    assert_refused(
        &place(
            &router,
            &order(YUN, one("105548", 1), &appoint(2, "10:00:00")),
        )
        .await,
        "价目不存在",
    );
    assert_refused(
        &place(
            &router,
            &order(YUN, json!([{"quantity": 1}]), &appoint(2, "10:00:00")),
        )
        .await,
        "价目不存在",
    );
    // Unknown price wins over a minimum violated on an earlier line.
    let mixed = order(
        YUN,
        json!([{"priceId": "56612", "quantity": 1}, {"priceId": "nope", "quantity": 1}]),
        &appoint(2, "10:00:00"),
    );
    assert_refused(&place(&router, &mixed).await, "价目不存在");
    assert_eq!(balance(&router).await, 1_000_000);
}

#[tokio::test]
async fn malformed_bodies() {
    let (_, router) = sandbox();
    let good = order(YUN, one("56611", 1), &appoint(2, "10:00:00"));
    let raw = |text: &'static str| {
        let router = router.clone();
        async move {
            send(
                &router,
                Method::POST,
                "/orders?channel=orderhub",
                Body::from(text),
            )
            .await
        }
    };
    assert_refused(
        &raw("userName=apitest&password=api123").await,
        "请求格式错误",
    );
    assert_refused(&raw("").await, "请求格式错误");
    assert_refused(&raw("[1,2]").await, "请求格式错误");

    let mut cases = Vec::new();
    let mut number_phone = good.clone();
    number_phone["phone"] = json!(13_800_138_000_u64);
    cases.push(number_phone);
    let mut object_items = good.clone();
    object_items["items"] = json!({"priceId": "56611", "quantity": 1});
    cases.push(object_items);
    for quantity in [
        json!(0),
        json!(1.5),
        json!("1"),
        json!(-1),
        Value::Null,
        json!(5_000_000_000_u64),
    ] {
        let mut bad = good.clone();
        bad["items"] = json!([{"priceId": "56611", "quantity": quantity}]);
        cases.push(bad);
    }
    let mut numeric_price = good.clone();
    numeric_price["items"] = json!([{"priceId": 56611, "quantity": 1}]);
    cases.push(numeric_price);
    for case in &cases {
        assert_refused(&place(&router, case).await, "请求格式错误");
    }
    // The body's shape is checked before the credentials.
    let mut zero_and_wrong_password = good.clone();
    zero_and_wrong_password["password"] = json!("nope");
    zero_and_wrong_password["items"] = one("56611", 0);
    assert_refused(
        &place(&router, &zero_and_wrong_password).await,
        "请求格式错误",
    );
}

#[tokio::test]
async fn appointment_time_rules() {
    let (_, router) = sandbox();
    for bad in [
        "2030-1-02 10:00:00",
        "2030/01/02 10:00:00",
        "2030-01-02T10:00:00",
        "明天上午",
        "2030-02-30 10:00:00",
    ] {
        assert_refused(
            &place(&router, &order(YUN, one("56611", 1), bad)).await,
            "预约时间格式错误",
        );
    }
    // Format is checked after prices and minimums.
    assert_refused(
        &place(&router, &order(YUN, one("56612", 1), "明天")).await,
        "起购数量为10",
    );

    let soon = (Utc::now() + TimeDelta::hours(8) + TimeDelta::minutes(30))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    assert_refused(
        &place(&router, &order(LAIREN, one("105548", 1), &soon)).await,
        "预约时间需提前24小时",
    );
    assert_refused(
        &place(&router, &order(YUN, one("56611", 1), &soon)).await,
        "预约时间需提前2小时",
    );
    assert_refused(
        &place(&router, &order(FUTIAN, one("504001", 1), &soon)).await,
        "预约时间需提前1.5小时",
    );
    let past = "2015-12-18 11:22:43";
    assert_refused(
        &place(&router, &order(YUN, one("56611", 1), past)).await,
        "预约时间需提前2小时",
    );

    // Opening hours are [08:00, 20:00).
    assert_refused(
        &place(
            &router,
            &order(YUN, one("56611", 1), &appoint(2, "20:00:00")),
        )
        .await,
        "预约时间不在服务时间内",
    );
    assert_refused(
        &place(
            &router,
            &order(YUN, one("56611", 1), &appoint(2, "07:59:59")),
        )
        .await,
        "预约时间不在服务时间内",
    );
    data(
        &place(
            &router,
            &order(YUN, one("56611", 1), &appoint(2, "08:00:00")),
        )
        .await,
    );

    // 白领洗衣 is closed at weekends.
    let saturday = appoint_on(|d| d == 5, "10:00:00");
    let sunday = appoint_on(|d| d == 6, "10:00:00");
    let weekday = appoint_on(|d| d < 5, "10:00:00");
    assert_refused(
        &place(&router, &order(BAILING, one("204001", 3), &saturday)).await,
        "预约时间不在服务时间内",
    );
    assert_refused(
        &place(&router, &order(BAILING, one("204001", 3), &sunday)).await,
        "预约时间不在服务时间内",
    );
    data(&place(&router, &order(BAILING, one("204001", 3), &weekday)).await);
}

#[tokio::test]
async fn balance_must_cover_the_order() {
    let (_, router) = sandbox();
    let when = appoint(2, "10:00:00");
    // 9800.0 of 10000.0 fits once, not twice.
    let first = place(&router, &order(JINPAI, one("206001", 1), &when)).await;
    assert_eq!(data(&first)["remainingMoney"], json!(200.0));
    assert_refused(
        &place(&router, &order(JINPAI, one("206001", 1), &when)).await,
        "余额不足",
    );
    assert_eq!(balance(&router).await, 20_000);

    let (status, _) = put_json(
        &router,
        "/_control/accounts/apitest",
        &json!({"balanceFen": 1_499}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_refused(
        &place(&router, &order(YUN, one("56611", 1), &when)).await,
        "余额不足",
    );
    put_json(
        &router,
        "/_control/accounts/apitest",
        &json!({"balanceFen": 1_500}),
    )
    .await;
    let exact = place(&router, &order(YUN, one("56611", 1), &when)).await;
    assert_eq!(data(&exact)["remainingMoney"], json!(0.0));
}

#[tokio::test]
async fn status_is_per_channel() {
    let (_, router) = sandbox();
    let id = place_ok(
        &router,
        &order(YUN, one("56611", 1), &appoint(2, "10:00:00")),
    )
    .await;
    assert_refused(
        &get(&router, &format!("/orders/{id}/status?channel=huimin")).await,
        "订单不存在",
    );
    assert_refused(
        &get(&router, "/orders/20150101000000/status?channel=orderhub").await,
        "订单不存在",
    );
    assert_eq!(status_of(&router, &id).await, "PENDING_CONFIRM");
}

// ---------------------------------------------------------------- lifecycle

#[tokio::test]
async fn schedule_moves_orders_along() {
    let (_, router) = sandbox();
    let id = place_ok(
        &router,
        &order(YUN, one("56611", 1), &appoint(2, "10:00:00")),
    )
    .await;
    assert_eq!(status_of(&router, &id).await, "PENDING_CONFIRM");

    let (status, schedule) = put_json(
        &router,
        "/_control/schedule",
        &json!({"confirmAfterSecs": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        schedule,
        json!({"confirmAfterSecs": 0, "completeAfterSecs": null})
    );
    assert_eq!(status_of(&router, &id).await, "CONFIRMED");

    let (_, schedule) = put_json(
        &router,
        "/_control/schedule",
        &json!({"completeAfterSecs": 0}),
    )
    .await;
    assert_eq!(
        schedule,
        json!({"confirmAfterSecs": 0, "completeAfterSecs": 0})
    );
    assert_eq!(status_of(&router, &id).await, "COMPLETED");

    let (_, schedule) = put_json(
        &router,
        "/_control/schedule",
        &json!({"confirmAfterSecs": null, "completeAfterSecs": null}),
    )
    .await;
    assert_eq!(
        schedule,
        json!({"confirmAfterSecs": null, "completeAfterSecs": null})
    );
    let (_, got) = get(&router, "/_control/schedule").await;
    assert_eq!(got, schedule);
}

#[tokio::test]
async fn background_task_confirms_on_time() {
    let sandbox = DaowaySandbox::new(DaowaySandboxConfig {
        confirm_after_secs: Some(1),
        complete_after_secs: Some(1),
        ..config()
    });
    let router = sandbox.router();
    let shutdown = CancellationToken::new();
    let task = sandbox.spawn(shutdown.clone());
    let id = place_ok(
        &router,
        &order(YUN, one("56611", 1), &appoint(2, "10:00:00")),
    )
    .await;
    assert_eq!(status_of(&router, &id).await, "PENDING_CONFIRM");
    let view = wait_for(&router, &id, |v| v["status"] == "CONFIRMED").await;
    assert_eq!(view["status"], "CONFIRMED", "{view}");
    assert_eq!(status_of(&router, &id).await, "CONFIRMED");
    wait_for(&router, &id, |v| v["status"] == "COMPLETED").await;
    let (_, view) = get(&router, &format!("/_control/orders/{id}")).await;
    assert_eq!(view["status"], "COMPLETED");
    assert!(view["confirmedAt"].is_string() && view["completedAt"].is_string());

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("stops promptly")
        .expect("no panic");
}

#[tokio::test]
async fn control_transitions_follow_the_status_machine() {
    let (_, router) = sandbox();
    let when = appoint(2, "10:00:00");
    let id = place_ok(&router, &order(YUN, one("56611", 2), &when)).await;

    let (status, _) = post_json(
        &router,
        &format!("/_control/orders/{id}/complete"),
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, view) = send(
        &router,
        Method::POST,
        &format!("/_control/orders/{id}/confirm"),
        Body::empty(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["status"], "CONFIRMED");
    let (status, body) = send(
        &router,
        Method::POST,
        &format!("/_control/orders/{id}/confirm"),
        Body::empty(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].is_string());
    let (status, view) = send(
        &router,
        Method::POST,
        &format!("/_control/orders/{id}/complete"),
        Body::empty(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["status"], "COMPLETED");
    assert_eq!(status_of(&router, &id).await, "COMPLETED");
    let (status, _) = send(
        &router,
        Method::POST,
        &format!("/_control/orders/{id}/cancel"),
        Body::empty(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Cancel from CONFIRMED with a reason; the account is refunded.
    let second = place_ok(&router, &order(YUN, one("56611", 2), &when)).await;
    post_json(
        &router,
        &format!("/_control/orders/{second}/confirm"),
        &json!({}),
    )
    .await;
    assert_eq!(balance(&router).await, 1_000_000 - 6_000);
    let (status, view) = post_json(
        &router,
        &format!("/_control/orders/{second}/cancel"),
        &json!({"reason": "阿姨临时有事"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["status"], "CANCELLED");
    assert_eq!(view["cancelReason"], "阿姨临时有事");
    assert_eq!(view["notification"]["attempts"], 0);
    assert_eq!(view["notification"]["pending"], true);
    assert_eq!(balance(&router).await, 1_000_000 - 3_000);
    assert_eq!(status_of(&router, &second).await, "CANCELLED");
    let (status, _) = send(
        &router,
        Method::POST,
        &format!("/_control/orders/{second}/cancel"),
        Body::empty(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Cancel from PENDING_CONFIRM, default reason.
    let third = place_ok(&router, &order(YUN, one("56611", 1), &when)).await;
    let (_, view) = send(
        &router,
        Method::POST,
        &format!("/_control/orders/{third}/cancel"),
        Body::empty(),
    )
    .await;
    assert_eq!(view["cancelReason"], "商家取消");

    for action in ["confirm", "complete", "cancel"] {
        let (status, _) = send(
            &router,
            Method::POST,
            &format!("/_control/orders/404/{action}"),
            Body::empty(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = get(&router, "/_control/orders/404").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(
        &router,
        Method::POST,
        &format!("/_control/orders/{third}/cancel"),
        Body::from("{not json"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, list) = get(&router, "/_control/orders").await;
    let ids: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|o| o["orderId"].as_str())
        .collect();
    assert_eq!(ids, [id.as_str(), second.as_str(), third.as_str()]);
}

#[tokio::test]
async fn accounts_control() {
    let (_, router) = sandbox();
    let (status, body) = get(&router, "/_control/accounts/apitest").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"userName": "apitest", "balanceFen": 1_000_000})
    );
    let (status, _) = get(&router, "/_control/accounts/ghost").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = put_json(
        &router,
        "/_control/accounts/ghost",
        &json!({"balanceFen": 100}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = put_json(
        &router,
        "/_control/accounts/apitest",
        &json!({"balanceFen": -1}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = put_json(
        &router,
        "/_control/accounts/huimin01",
        &json!({"balanceFen": 5_000, "password": "pw"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut body = order(YUN, one("56611", 2), &appoint(2, "10:00:00"));
    body["userName"] = json!("huimin01");
    body["password"] = json!("pw");
    let answer = post_json(&router, "/orders?channel=huimin", &body).await;
    assert_eq!(data(&answer)["remainingMoney"], json!(20.0));
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn error_rate_one_fails_platform_routes_without_side_effects() {
    let (_, router) = sandbox();
    let (status, faults) = put_json(&router, "/_control/faults", &json!({"errorRate": 1.0})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(faults["errorRate"], json!(1.0));
    assert_eq!(faults["latencyMs"], 0);

    let answer = place(
        &router,
        &order(YUN, one("56611", 1), &appoint(2, "10:00:00")),
    )
    .await;
    assert_eq!(answer.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.1, json!({"status": "error", "msg": "系统繁忙"}));
    for uri in [
        "/categories",
        "/services?channel=orderhub",
        "/orders/1/status?channel=orderhub",
    ] {
        assert_eq!(
            get(&router, uri).await.0,
            StatusCode::SERVICE_UNAVAILABLE,
            "{uri}"
        );
    }
    // Control routes are never faulted, and nothing was ordered.
    assert_eq!(balance(&router).await, 1_000_000);
    let (_, list) = get(&router, "/_control/orders").await;
    assert_eq!(list, json!([]));

    let (status, _) = put_json(&router, "/_control/faults", &json!({"errorRate": 2})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    put_json(&router, "/_control/faults", &json!({})).await;
    let (_, faults) = get(&router, "/_control/faults").await;
    assert_eq!(
        faults,
        json!({"latencyMs": 0, "errorRate": 0.0, "duplicateCallbackRate": 0.0, "dropCallbackRate": 0.0})
    );
    data(&get(&router, "/categories").await);
}

#[tokio::test]
async fn latency_delays_platform_routes() {
    let (_, router) = sandbox();
    put_json(&router, "/_control/faults", &json!({"latencyMs": 150})).await;
    let started = Instant::now();
    data(&get(&router, "/categories").await);
    assert!(started.elapsed() >= Duration::from_millis(150));
    let started = Instant::now();
    get(&router, "/_control/faults").await;
    assert!(started.elapsed() < Duration::from_millis(150));
}

// ---------------------------------------------------------------- cancel notification

/// One notification as the partner saw it: content type and form fields.
type Received = (String, HashMap<String, String>);

/// A partner endpoint that records every notification and answers from a script (the last
/// answer repeats).
#[derive(Clone)]
struct Partner {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Vec<(StatusCode, &'static str)>>,
}

impl Partner {
    fn count(&self) -> usize {
        self.received.lock().map(|r| r.len()).unwrap_or_default()
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

async fn partner_endpoint(
    State(partner): State<Partner>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let n = {
        let mut received = partner.received.lock().expect("lock");
        received.push((content_type, form));
        received.len()
    };
    let (status, reply) = partner.script[(n - 1).min(partner.script.len() - 1)];
    (status, reply.to_owned())
}

/// Starts a partner on 127.0.0.1:0 and returns it with its notify URL.
async fn start_partner(script: Vec<(StatusCode, &'static str)>) -> (Partner, String) {
    let partner = Partner {
        received: Arc::default(),
        script: Arc::new(script),
    };
    let app = Router::new()
        .route("/daoway/cancel", post(partner_endpoint))
        .with_state(partner.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (partner, format!("http://{addr}/daoway/cancel"))
}

/// Polls the control view until `done` holds (or 5 s pass) and returns the last view.
async fn wait_for(router: &Router, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, view) = get(router, &format!("/_control/orders/{id}")).await;
        if done(&view) || Instant::now() > deadline {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const ACCEPT: (StatusCode, &str) = (StatusCode::OK, r#"{"result":"0","message":""}"#);
const REFUSE: (StatusCode, &str) = (StatusCode::OK, r#"{"result":"1","message":"系统繁忙"}"#);

#[tokio::test]
async fn cancel_notification_is_retried_until_accepted() {
    let (partner, url) = start_partner(vec![REFUSE, ACCEPT]).await;
    let (sandbox, router) = sandbox();
    let shutdown = CancellationToken::new();
    let task = sandbox.spawn(shutdown.clone());

    // 安心开锁: 60.0 plus the 20.0 call-out fee, so consumedMoney includes the fee.
    let mut body = order(ANXIN, one("203001", 1), &appoint(2, "10:00:00"));
    body["contactPerson"] = json!("李先生");
    let id = place_ok(&router, &body).await;

    // Queued before the URL is known: nothing is attempted.
    post_json(
        &router,
        &format!("/_control/orders/{id}/cancel"),
        &json!({"reason": "用户电话取消"}),
    )
    .await;
    // Proving a negative (bounded): without a URL nothing is attempted.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (_, view) = get(&router, &format!("/_control/orders/{id}")).await;
    assert_eq!(view["notification"]["attempts"], 0);
    assert_eq!(partner.count(), 0);

    sandbox.set_cancel_notify_url(url);
    let view = wait_for(&router, &id, |v| v["notification"]["delivered"] == true).await;
    let n = &view["notification"];
    assert_eq!(n["delivered"], true, "{view}");
    assert_eq!(n["attempts"], 2);
    assert_eq!(n["pending"], false);
    assert_eq!(n["lastError"], Value::Null);

    let received = partner.received();
    assert_eq!(received.len(), 2);
    let (content_type, form) = &received[1];
    assert_eq!(content_type, "application/x-www-form-urlencoded");
    let expected: HashMap<String, String> = [
        ("channel", "orderhub"),
        ("orderId", id.as_str()),
        ("consumedMoney", "80.0"),
        ("contactPerson", "李先生"),
        ("phone", "13800138000"),
        ("reason", "用户电话取消"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(form, &expected);
    assert_eq!(received[0].1, expected);

    // Nothing more is sent afterwards.
    // Proving a negative (bounded): 200 ms is far more than a retry on loopback takes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(partner.count(), 2);

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("stops promptly")
        .expect("no panic");
}

#[tokio::test]
async fn cancel_notification_gives_up_after_max_attempts() {
    // A numeric 0 is not the documented string "0", and a 500 is never success.
    let (partner, url) = start_partner(vec![
        (StatusCode::OK, r#"{"result":0}"#),
        (StatusCode::INTERNAL_SERVER_ERROR, r#"{"result":"0"}"#),
        (StatusCode::OK, "ok"),
    ])
    .await;
    let sandbox = DaowaySandbox::new(DaowaySandboxConfig {
        notify_max_attempts: 3,
        ..config()
    });
    let router = sandbox.router();
    sandbox.set_cancel_notify_url(url);
    let shutdown = CancellationToken::new();
    sandbox.spawn(shutdown.clone());

    let id = place_ok(
        &router,
        &order(YUN, one("56611", 1), &appoint(2, "10:00:00")),
    )
    .await;
    send(
        &router,
        Method::POST,
        &format!("/_control/orders/{id}/cancel"),
        Body::empty(),
    )
    .await;
    let view = wait_for(&router, &id, |v| v["notification"]["gaveUp"] == true).await;
    let n = &view["notification"];
    assert_eq!(n["gaveUp"], true, "{view}");
    assert_eq!(n["delivered"], false);
    assert_eq!(n["attempts"], 3);
    assert_eq!(n["lastError"], "reply is not JSON");
    // Proving a negative (bounded): after giving up nothing more is POSTed.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(partner.count(), 3);
    shutdown.cancel();
}

#[tokio::test]
async fn dropped_notification_is_never_sent() {
    let (partner, url) = start_partner(vec![ACCEPT]).await;
    let (sandbox, router) = sandbox();
    sandbox.set_cancel_notify_url(url);
    let shutdown = CancellationToken::new();
    sandbox.spawn(shutdown.clone());
    put_json(
        &router,
        "/_control/faults",
        &json!({"dropCallbackRate": 1.0}),
    )
    .await;

    let id = place_ok(
        &router,
        &order(YUN, one("56611", 1), &appoint(2, "10:00:00")),
    )
    .await;
    let (status, _) = send(
        &router,
        Method::POST,
        &format!("/_control/orders/{id}/cancel"),
        Body::empty(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Proving a negative (bounded): a dropped notification is never sent.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(partner.count(), 0);
    let (_, view) = get(&router, &format!("/_control/orders/{id}")).await;
    assert_eq!(view["notification"]["fate"], "drop");
    assert_eq!(view["notification"]["pending"], false);
    assert_eq!(view["notification"]["attempts"], 0);
    // The order is cancelled all the same, as the status route shows.
    assert_eq!(status_of(&router, &id).await, "CANCELLED");
    shutdown.cancel();
}

#[tokio::test]
async fn duplicated_notification_arrives_twice() {
    let (partner, url) = start_partner(vec![ACCEPT]).await;
    let (sandbox, router) = sandbox();
    sandbox.set_cancel_notify_url(url);
    let shutdown = CancellationToken::new();
    sandbox.spawn(shutdown.clone());
    put_json(
        &router,
        "/_control/faults",
        &json!({"duplicateCallbackRate": 1.0}),
    )
    .await;

    let id = place_ok(
        &router,
        &order(YUN, one("56611", 1), &appoint(2, "10:00:00")),
    )
    .await;
    send(
        &router,
        Method::POST,
        &format!("/_control/orders/{id}/cancel"),
        Body::empty(),
    )
    .await;
    let view = wait_for(&router, &id, |v| v["notification"]["duplicateSent"] == true).await;
    assert_eq!(view["notification"]["fate"], "duplicate", "{view}");
    assert_eq!(view["notification"]["attempts"], 2);
    // Proving a negative (bounded): no third copy follows the duplicate.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let received = partner.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].1, received[1].1);
    assert_eq!(received[0].1.get("orderId"), Some(&id));
    assert_eq!(
        received[0].1.get("consumedMoney").map(String::as_str),
        Some("15.0")
    );
    shutdown.cancel();
}

#[test]
fn config_defaults_and_serde() {
    let config = DaowaySandboxConfig::default();
    assert_eq!(config.channels, ["orderhub"]);
    assert_eq!(config.confirm_after_secs, Some(30));
    assert_eq!(config.complete_after_secs, Some(120));
    assert_eq!(config.notify_initial_backoff_ms, 1_000);
    assert_eq!(config.notify_max_attempts, 12);
    assert_eq!(config.faults, Faults::default());
    let account: &DaowayAccount = &config.accounts[0];
    assert_eq!(
        (
            account.user_name.as_str(),
            account.password.as_str(),
            account.balance_fen
        ),
        ("apitest", "api123", 1_000_000)
    );

    let parsed: DaowaySandboxConfig = serde_json::from_value(json!({
        "channels": ["huimin"],
        "confirm_after_secs": null,
        "faults": {"latencyMs": 10},
    }))
    .expect("partial config");
    assert_eq!(parsed.channels, ["huimin"]);
    assert_eq!(parsed.confirm_after_secs, None);
    assert_eq!(parsed.complete_after_secs, Some(120));
    assert_eq!(parsed.faults.latency_ms, 10);
    assert_eq!(parsed.accounts.len(), 1);
}
