//! The adapter against a tiny local stand-in for WeChat: it hands out access_tokens (counting
//! the fetches), refuses stale ones with 40001, records every call and answers what the test
//! set for each path. It checks nothing of the signing or the bodies on its own — that is the
//! tests' job here, and the sandbox's (written apart from this adapter) end to end.

use std::{
    collections::HashMap,
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    routing::{get, post},
};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::*;
use crate::{
    domain::{GeoPoint, OrderStatus},
    providers::{ProviderError, RejectKind, delivery::Sender},
};

/// Holds token answers back while closed (so callers can queue behind a fetch in flight),
/// and counts token requests as they arrive.
struct TokenGate {
    arrivals: tokio::sync::watch::Sender<usize>,
    open: tokio::sync::watch::Sender<bool>,
}

impl Default for TokenGate {
    fn default() -> Self {
        Self {
            arrivals: tokio::sync::watch::channel(0).0,
            open: tokio::sync::watch::channel(true).0,
        }
    }
}

#[derive(Default)]
struct Fake {
    token_fetches: usize,
    gate: Arc<TokenGate>,
    /// The token WeChat accepts now; `None` refuses every token.
    valid: Option<String>,
    /// Refuse every token, even fresh ones.
    refuse_all_tokens: bool,
    calls: Vec<Call>,
    answers: HashMap<String, Value>,
}

#[derive(Clone, Debug)]
struct Call {
    path: String,
    token: String,
    raw_body: String,
}

impl Call {
    fn body(&self) -> Value {
        serde_json::from_str(&self.raw_body).unwrap_or(Value::Null)
    }
}

type Shared = Arc<Mutex<Fake>>;

async fn token(
    State(fake): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    let gate = fake.lock().unwrap().gate.clone();
    gate.arrivals.send_modify(|n| *n += 1);
    let _ = gate.open.subscribe().wait_for(|open| *open).await;
    let mut f = fake.lock().unwrap();
    if q.get("secret").map(String::as_str) != Some("mini-secret") {
        return Json(json!({"errcode": 40125, "errmsg": "invalid appsecret"}));
    }
    f.token_fetches += 1;
    let t = format!("TOKEN-{}", f.token_fetches);
    f.valid = Some(t.clone());
    Json(json!({"access_token": t, "expires_in": 7200}))
}

async fn business(
    State(fake): State<Shared>,
    Path(path): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: String,
) -> Json<Value> {
    let mut f = fake.lock().unwrap();
    let token = q.get("access_token").cloned().unwrap_or_default();
    f.calls.push(Call {
        path: path.clone(),
        token: token.clone(),
        raw_body: body,
    });
    if f.refuse_all_tokens || f.valid.as_deref() != Some(token.as_str()) {
        return Json(json!({"errcode": 40001, "errmsg": "invalid credential rid: x"}));
    }
    Json(
        f.answers
            .get(&path)
            .cloned()
            .unwrap_or_else(|| json!({"errcode": 0, "resultcode": 0, "resultmsg": "ok"})),
    )
}

struct Wechat {
    base: String,
    fake: Shared,
}

impl Wechat {
    async fn start() -> Self {
        let fake: Shared = Arc::default();
        let router = Router::new()
            .route("/cgi-bin/token", get(token))
            .route("/cgi-bin/express/local/business/{*path}", post(business))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Wechat {
            base: format!("http://{addr}"),
            fake,
        }
    }

    fn settings(&self) -> WechatSettings {
        WechatSettings {
            base_url: self.base.clone(),
            appid: "wxba5fad812f8e6fb9".into(),
            secret: SecretString::from("mini-secret".to_owned()),
            token: SecretString::from("AAAAA".to_owned()),
            encoding_aes_key: SecretString::from("A".repeat(43)),
            safe_mode: true,
            openid: "o-default".into(),
            companies: vec![
                CompanyAccount {
                    delivery_id: "TEST".into(),
                    shopid: "test_shop_id".into(),
                    app_secret: SecretString::from("test_app_secrect".to_owned()),
                    free_cancel_window: None,
                },
                CompanyAccount {
                    delivery_id: "SFTC".into(),
                    shopid: "sf-appkey".into(),
                    app_secret: SecretString::from("sf-secret".to_owned()),
                    free_cancel_window: None,
                },
            ],
            timeout: Duration::from_secs(5),
        }
    }

    fn adapter(&self) -> WechatAdapter {
        WechatAdapter::new(self.settings()).unwrap()
    }

    fn answer(&self, path: &str, v: Value) {
        self.fake.lock().unwrap().answers.insert(path.into(), v);
    }

    fn calls(&self) -> Vec<Call> {
        self.fake.lock().unwrap().calls.clone()
    }

    fn fetches(&self) -> usize {
        self.fake.lock().unwrap().token_fetches
    }

    /// Makes WeChat forget the current token, as when it expires early.
    fn expire_token(&self) {
        self.fake.lock().unwrap().valid = None;
    }
}

fn request(origin_id: &str) -> DeliveryRequest {
    DeliveryRequest {
        origin_id: origin_id.into(),
        shop_no: "S1".into(),
        city_code: "021".into(),
        cargo_price: Money::from_fen(2580),
        cargo_weight_kg: Decimal::from_str("1.5").unwrap(),
        prepaid: false,
        receiver_name: "张三".into(),
        receiver_address: "上海市浦东新区世纪大道100号".into(),
        receiver_phone: "13800138000".into(),
        receiver_location: GeoPoint::new(121.5055, 31.2397),
        callback_url: String::new(),
        tips: Money::ZERO,
        note: Some("少放辣".into()),
        publish_at: None,
        company: Some("TEST".into()),
        sender: Some(Sender {
            name: "测试店".into(),
            phone: "021-12345678".into(),
            city: "上海市".into(),
            address: "上海市浦东新区张杨路500号".into(),
            address_detail: "1楼".into(),
            location: GeoPoint::new(121.52, 31.23),
        }),
        quote_token: None,
    }
}

fn order(origin_id: &str) -> OrderRef {
    OrderRef {
        origin_id: origin_id.into(),
        company: Some("TEST".into()),
        waybill: Some(format!("{origin_id}_waybillid")),
        shop_no: Some("S1".into()),
        city_code: None,
    }
}

fn rejected(e: &ProviderError) -> Option<(&str, RejectKind)> {
    match e {
        ProviderError::Rejected { code, kind, .. } => Some((code.as_deref().unwrap_or(""), *kind)),
        _ => None,
    }
}

#[tokio::test]
async fn dispatch_sends_the_signed_order_with_the_token() {
    let wx = Wechat::start().await;
    wx.answer(
        "order/add",
        json!({"errcode": 0, "resultcode": 0, "resultmsg": "ok", "fee": 11, "deliverfee": 11,
               "couponfee": 0, "tips": 0, "insurancfee": 0, "distance": 1200,
               "waybill_id": "A1_waybillid", "order_status": 101, "finish_code": 1234,
               "dispatch_duration": 300}),
    );
    let sent = wx.adapter().dispatch(&request("A1")).await.unwrap();
    assert_eq!(sent.waybill.as_deref(), Some("A1_waybillid"));
    assert_eq!(sent.raw_status.as_deref(), Some("101"));
    assert_eq!(sent.finish_code.as_deref(), Some("1234"));
    assert_eq!(sent.fees.fee, Money::from_fen(1100));

    let calls = wx.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, "order/add");
    assert_eq!(calls[0].token, "TOKEN-1");
    assert!(calls[0].raw_body.contains("张三"), "Chinese unescaped");
    let b = calls[0].body();
    assert_eq!(b["shopid"], json!("test_shop_id"));
    assert_eq!(b["shop_order_id"], json!("A1"));
    assert_eq!(b["shop_no"], json!("S1"));
    assert_eq!(b["delivery_id"], json!("TEST"));
    assert_eq!(b["openid"], json!("o-default"));
    assert_eq!(
        b["delivery_sign"],
        json!(sign::delivery_sign(
            "test_shop_id",
            Some("A1"),
            "test_app_secrect"
        ))
    );
    assert_eq!(b["receiver"]["city"], json!("上海市"));
    assert!(b.get("delivery_token").is_none());
}

#[tokio::test]
async fn the_official_sign_vector_goes_on_the_wire() {
    let wx = Wechat::start().await;
    wx.answer(
        "order/get",
        json!({"resultcode": 0, "order_status": 101, "waybill_id": "W"}),
    );
    wx.adapter()
        .detail(&order("test_shop_order_id"))
        .await
        .unwrap();
    assert_eq!(
        wx.calls()[0].body()["delivery_sign"],
        json!("a93d8d6bae9a9483c1b1d4e8670e7f6226ec94cb")
    );
}

#[tokio::test]
async fn dispatch_needs_a_company_with_an_account() {
    let wx = Wechat::start().await;
    let wechat = wx.adapter();
    let mut r = request("A2");
    r.company = None;
    let e = wechat.dispatch(&r).await.unwrap_err();
    assert_eq!(rejected(&e), Some(("", RejectKind::InvalidRequest)));
    r.company = Some("MTPS".into());
    let e = wechat.dispatch(&r).await.unwrap_err();
    assert_eq!(rejected(&e), Some(("", RejectKind::InvalidRequest)));
    assert!(wx.calls().is_empty(), "refused before calling WeChat");
    assert_eq!(wx.fetches(), 0);
}

#[tokio::test]
async fn twenty_concurrent_calls_fetch_one_token() {
    let wx = Wechat::start().await;
    wx.answer(
        "order/get",
        json!({"resultcode": 0, "order_status": 102, "rider_name": "骑手"}),
    );
    let wechat = Arc::new(wx.adapter());
    let call = |i: usize| {
        let wechat = wechat.clone();
        let call: crate::providers::BoxFuture<'static, _> =
            Box::pin(async move { wechat.detail(&order(&format!("C{i}"))).await });
        call
    };
    // The first call's token fetch is held until the 19 others wait behind it.
    let gate = wx.fake.lock().unwrap().gate.clone();
    gate.open.send_replace(false);
    let first = tokio::spawn(call(0));
    gate.arrivals
        .subscribe()
        .wait_for(|n| *n >= 1)
        .await
        .unwrap();
    let mut rest: Vec<_> = (1..20).map(call).collect();
    for c in &mut rest {
        assert!(futures::poll!(c.as_mut()).is_pending());
    }
    gate.open.send_replace(true);
    assert_eq!(first.await.unwrap().unwrap().status, OrderStatus::Accepted);
    for c in futures::future::join_all(rest).await {
        assert_eq!(c.unwrap().status, OrderStatus::Accepted);
    }
    assert_eq!(wx.fetches(), 1);
    assert_eq!(wx.calls().len(), 20);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_call_retried() {
    let wx = Wechat::start().await;
    let wechat = wx.adapter();
    wx.answer("order/get", json!({"resultcode": 0, "order_status": 101}));
    wechat.detail(&order("R1")).await.unwrap();
    wx.expire_token();
    let d = wechat.detail(&order("R1")).await.unwrap();
    assert_eq!(d.status, OrderStatus::Pending);
    assert_eq!(wx.fetches(), 2);
    let tokens: Vec<String> = wx.calls().into_iter().map(|c| c.token).collect();
    assert_eq!(tokens, ["TOKEN-1", "TOKEN-1", "TOKEN-2"]);
}

#[tokio::test]
async fn a_token_refused_twice_is_unauthorized() {
    let wx = Wechat::start().await;
    wx.fake.lock().unwrap().refuse_all_tokens = true;
    let e = wx.adapter().detail(&order("R2")).await.unwrap_err();
    assert_eq!(rejected(&e), Some(("40001", RejectKind::Unauthorized)));
    assert_eq!(wx.fetches(), 2, "one refresh");
    assert_eq!(wx.calls().len(), 2, "one retry");
}

#[tokio::test]
async fn a_wrong_secret_is_unauthorized_and_never_printed() {
    let wx = Wechat::start().await;
    let mut settings = wx.settings();
    settings.secret = SecretString::from("wrong-secret".to_owned());
    let wechat = WechatAdapter::new(settings).unwrap();
    let e = wechat.companies().await.unwrap_err();
    assert_eq!(rejected(&e), Some(("40125", RejectKind::Unauthorized)));
    assert!(!format!("{e:?}").contains("wrong-secret"));
    assert!(!format!("{wechat:?}").contains("wrong-secret"));
    assert!(!format!("{wechat:?}").contains("test_app_secrect"));
}

#[tokio::test]
async fn both_result_layers_are_checked() {
    let wx = Wechat::start().await;
    let wechat = wx.adapter();
    wx.answer(
        "order/get",
        json!({"errcode": 930563, "errmsg": "order not exist rid: 1"}),
    );
    let e = wechat.detail(&order("X")).await.unwrap_err();
    assert_eq!(rejected(&e), Some(("930563", RejectKind::NotFound)));

    wx.answer(
        "order/get",
        json!({"errcode": 0, "errmsg": "ok", "resultcode": 4021, "resultmsg": "运单不存在"}),
    );
    let e = wechat.detail(&order("X")).await.unwrap_err();
    assert_eq!(rejected(&e), Some(("4021", RejectKind::Other)));
    assert!(matches!(&e, ProviderError::Rejected { message, .. } if message == "运单不存在"));

    wx.answer(
        "order/add",
        json!({"errcode": 930562, "errmsg": "order exists"}),
    );
    let e = wechat.dispatch(&request("X")).await.unwrap_err();
    assert_eq!(rejected(&e), Some(("930562", RejectKind::Other)));

    wx.answer("order/add", json!({"errcode": 930556, "errmsg": "timeout"}));
    let e = wechat.dispatch(&request("X")).await.unwrap_err();
    assert!(
        matches!(
            e,
            ProviderError::Unavailable {
                outcome_unknown: true,
                ..
            }
        ),
        "{e:?}"
    );

    wx.answer("order/get", json!(["not", "an", "object"]));
    assert!(matches!(
        wechat.detail(&order("X")).await,
        Err(ProviderError::Protocol { .. })
    ));
}

#[tokio::test]
async fn quotes_from_every_company_one_failing_alone() {
    let wx = Wechat::start().await;
    // The fake answers the same for both companies; what differs is who signed.
    wx.answer(
        "order/pre_add",
        json!({"resultcode": 0, "fee": 10, "deliverfee": 10, "distance": 900,
               "dispatch_duration": 120, "delivery_token": "tok-1"}),
    );
    wx.answer(
        "delivery/getall",
        json!({"resultcode": 0, "list": [{"delivery_id": "SFTC", "delivery_name": "顺丰同城急送"},
                                         {"delivery_id": "TEST", "delivery_name": "测试"}]}),
    );
    let wechat = wx.adapter();
    let mut r = request("Q1");
    r.company = None;
    let quotes = wechat.quote_all(&r).await.unwrap();
    assert_eq!(quotes.len(), 2);
    let names: Vec<(&str, &str)> = quotes
        .iter()
        .map(|q| (q.company.id.as_str(), q.company.name.as_str()))
        .collect();
    assert_eq!(names, [("TEST", "测试"), ("SFTC", "顺丰同城急送")]);
    for q in &quotes {
        let quote = q.quote.as_ref().unwrap();
        assert_eq!(quote.token, "tok-1");
        assert_eq!(quote.dispatch_minutes, Some(2));
        assert!(quote.expires_at.is_some());
    }
    let shopids: Vec<Value> = wx
        .calls()
        .iter()
        .filter(|c| c.path == "order/pre_add")
        .map(|c| c.body()["shopid"].clone())
        .collect();
    assert_eq!(shopids.len(), 2);
    assert!(shopids.contains(&json!("sf-appkey")) && shopids.contains(&json!("test_shop_id")));

    // Only the company asked for; an unknown one is its own refusal.
    r.company = Some("SFTC".into());
    let one = wechat.quote_all(&r).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].company.id, "SFTC");
    r.company = Some("NOPE".into());
    let none = wechat.quote_all(&r).await.unwrap();
    assert_eq!(none.len(), 1);
    assert!(none[0].quote.is_err());

    // A company refusing, the other answering.
    wx.answer(
        "order/pre_add",
        json!({"resultcode": 1, "resultmsg": "超出配送范围"}),
    );
    r.company = None;
    let quotes = wechat.quote_all(&r).await.unwrap();
    assert!(quotes.iter().all(|q| q.quote.is_err()));
}

#[tokio::test]
async fn a_quote_is_dispatched_with_its_token() {
    let wx = Wechat::start().await;
    wx.answer(
        "order/add",
        json!({"resultcode": 0, "fee": 10, "deliverfee": 10, "waybill_id": "W", "order_status": 101}),
    );
    let wechat = wx.adapter();
    wechat
        .dispatch_quote(&request("QT"), "tok-9")
        .await
        .unwrap();
    wechat.dispatch_quote(&request("QT2"), "").await.unwrap();
    wechat.redispatch(&request("QT3")).await.unwrap();
    let calls = wx.calls();
    assert_eq!(calls[0].body()["delivery_token"], json!("tok-9"));
    assert!(calls[1].body().get("delivery_token").is_none());
    assert_eq!(calls[2].path, "order/readd");
}

#[tokio::test]
async fn tips_cancellation_and_returns() {
    let wx = Wechat::start().await;
    let wechat = wx.adapter();
    wechat
        .add_tip(&order("T1"), Money::from_fen(250), Some("辛苦了"))
        .await
        .unwrap();
    let b = wx.calls()[0].body();
    assert_eq!(b["tips"], json!(2.5));
    assert_eq!(b["waybill_id"], json!("T1_waybillid"));
    assert_eq!(b["remark"], json!("辛苦了"));
    assert_eq!(b["openid"], json!("o-default"));
    let no_waybill = OrderRef {
        waybill: None,
        ..order("T1")
    };
    let e = wechat
        .add_tip(&no_waybill, Money::from_fen(300), None)
        .await
        .unwrap_err();
    assert_eq!(rejected(&e), Some(("", RejectKind::InvalidRequest)));

    wx.answer(
        "order/precancel",
        json!({"resultcode": 0, "deduct_fee": 2, "desc": "骑手已接单，扣除2元"}),
    );
    let preview = wechat.preview_cancel(&order("T1"), 1, "").await.unwrap();
    assert_eq!(preview.penalty, Money::from_fen(200));
    assert_eq!(preview.description.as_deref(), Some("骑手已接单，扣除2元"));
    wx.answer("order/cancel", json!({"resultcode": 0, "deduct_fee": 2}));
    assert_eq!(
        wechat.cancel(&order("T1"), 6, "顾客不要了").await.unwrap(),
        Money::from_fen(200)
    );
    let cancel = wx.calls().last().unwrap().body();
    assert_eq!(cancel["cancel_reason_id"], json!(6));
    assert_eq!(cancel["cancel_reason"], json!("顾客不要了"));
    assert_eq!(cancel["delivery_id"], json!("TEST"));
    let e = wechat.cancel(&order("T1"), 6, "").await.unwrap_err();
    assert_eq!(rejected(&e), Some(("", RejectKind::InvalidRequest)));

    wechat.confirm_returned_goods(&order("T1")).await.unwrap();
    assert_eq!(wx.calls().last().unwrap().path, "order/confirm_return");

    assert_eq!(wechat.cancel_reasons().await.unwrap().len(), 6);
    assert_eq!(wechat.other_cancel_reason_id(), 6);
    assert_eq!(wechat.raw_status_published(), "101");
    assert_eq!(wechat.raw_status_cancelled(), "103");
}

#[tokio::test]
async fn an_order_without_company_uses_the_only_account() {
    let wx = Wechat::start().await;
    let mut settings = wx.settings();
    settings.companies.truncate(1);
    let wechat = WechatAdapter::new(settings).unwrap();
    wx.answer("order/get", json!({"resultcode": 0, "order_status": 302}));
    let mut o = order("U1");
    o.company = None;
    assert_eq!(
        wechat.detail(&o).await.unwrap().status,
        OrderStatus::Completed
    );
    // With two accounts the company must be named.
    let e = wx.adapter().detail(&o).await.unwrap_err();
    assert_eq!(rejected(&e), Some(("", RejectKind::InvalidRequest)));
}

#[tokio::test]
async fn accounts_companies_and_the_mock_update() {
    let wx = Wechat::start().await;
    let wechat = wx.adapter();
    wx.answer(
        "shop/get",
        json!({"resultcode": 0, "shop_list": [
            {"delivery_id": "TEST", "shopid": "test_shop_id", "audit_result": 0},
            {"delivery_id": "SFTC", "shopid": "sf-appkey", "audit_result": 2}]}),
    );
    let accounts = wechat.bound_accounts().await.unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(
        accounts[1].audit,
        crate::providers::delivery::AuditState::Rejected
    );
    wx.answer(
        "delivery/getall",
        json!({"resultcode": 0, "list": [{"delivery_id": "SS", "delivery_name": "闪送"}]}),
    );
    assert_eq!(wechat.companies().await.unwrap()[0].name, "闪送");
    wechat.bind_account("SS").await.unwrap();
    wechat.open_service().await.unwrap();
    let at = DateTime::from_timestamp(1_714_112_440, 0).unwrap();
    wechat
        .mock_update(&order("M1"), 102, at, "rider assigned")
        .await
        .unwrap();
    let calls = wx.calls();
    let paths: Vec<&str> = calls.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "shop/get",
            "delivery/getall",
            "shop/add",
            "open",
            "test_update_order"
        ]
    );
    assert_eq!(calls[2].body(), json!({"delivery_id": "SS"}));
    assert_eq!(calls[3].raw_body, "{}");
    let m = calls[4].body();
    assert_eq!(m["shopid"], json!("test_shop_id"));
    assert_eq!(m["shop_order_id"], json!("M1"));
    assert_eq!(m["order_status"], json!(102));
    assert_eq!(m["action_time"], json!(1_714_112_440));
    assert_eq!(m["action_msg"], json!("rider assigned"));
}

#[tokio::test]
async fn refused_connection_is_unavailable_with_nothing_done() {
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let wx = Wechat::start().await;
    let mut settings = wx.settings();
    settings.base_url = format!("http://127.0.0.1:{port}");
    let e = WechatAdapter::new(settings)
        .unwrap()
        .companies()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            ProviderError::Unavailable {
                outcome_unknown: false,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn settings_are_checked() {
    let base = WechatSettings {
        base_url: "https://api.weixin.qq.com".into(),
        appid: "wx1".into(),
        secret: SecretString::from("s".to_owned()),
        token: SecretString::from("t".to_owned()),
        encoding_aes_key: SecretString::from("A".repeat(43)),
        safe_mode: true,
        openid: "o".into(),
        companies: vec![],
        timeout: Duration::from_secs(1),
    };
    assert!(WechatAdapter::new(base.clone()).is_ok());
    let mut bad_key = base.clone();
    bad_key.encoding_aes_key = SecretString::from("short".to_owned());
    assert!(WechatAdapter::new(bad_key).is_err());
    let mut plain = base.clone();
    plain.safe_mode = false;
    plain.encoding_aes_key = SecretString::from(String::new());
    assert!(WechatAdapter::new(plain).is_ok());
    let mut twice = base.clone();
    let account = CompanyAccount {
        delivery_id: "TEST".into(),
        shopid: "test_shop_id".into(),
        app_secret: SecretString::from("x".to_owned()),
        free_cancel_window: None,
    };
    twice.companies = vec![account.clone(), account];
    assert!(WechatAdapter::new(twice).is_err());
    let mut no_app = base;
    no_app.appid = String::new();
    assert!(WechatAdapter::new(no_app).is_err());
}

#[test]
fn info_describes_a_courier_network() {
    let info = WechatAdapter::info(true, false);
    assert_eq!(info.id, ProviderId::Wechat);
    assert_eq!(info.name, "微信即时配送 WeChat");
    assert_eq!(info.role, ProviderRole::CourierNetwork);
    for c in [
        Capability::QuoteDelivery,
        Capability::DispatchDelivery,
        Capability::CancelOrder,
        Capability::AddTip,
        Capability::ConfirmReturnedGoods,
        Capability::TrackCourier,
        Capability::TrackStatusByPolling,
        Capability::ReceiveStatusCallbacks,
    ] {
        assert!(info.capabilities.contains(&c), "{c:?}");
    }
    assert!(!info.capabilities.contains(&Capability::ManageStores));
}

#[tokio::test]
async fn push_config_matches_the_settings() {
    let wx = Wechat::start().await;
    let cfg = wx.adapter().push_config();
    assert_eq!(cfg.appid, "wxba5fad812f8e6fb9");
    assert!(cfg.safe_mode);
    // The URL check with the official vector, through the adapter's config.
    let query: HashMap<String, String> = [
        ("signature", "f464b24fc39322e44b38aa78f5edd27bd1441696"),
        ("echostr", "4375120948345356249"),
        ("timestamp", "1714036504"),
        ("nonce", "1514711492"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(
        callback::verify_url(&cfg, &query).as_deref(),
        Some("4375120948345356249")
    );
}

/// A company's free window after the assignment is what its account configures; without one,
/// or for a company without an account, there is none.
#[tokio::test]
async fn free_cancel_windows_come_from_the_accounts() {
    let wx = Wechat::start().await;
    let mut settings = wx.settings();
    settings.companies[1].free_cancel_window = Some(Duration::from_secs(90));
    let adapter = WechatAdapter::new(settings).unwrap();
    assert_eq!(
        adapter.free_cancel_window(Some("SFTC")),
        Some(Duration::from_secs(90))
    );
    assert_eq!(adapter.free_cancel_window(Some("TEST")), None);
    assert_eq!(adapter.free_cancel_window(Some("SS")), None);
    assert_eq!(adapter.free_cancel_window(None), None);
}
