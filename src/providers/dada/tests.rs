//! Round trips of the adapter against the in-process Dada sandbox, which signs, parses and
//! keeps state with its own code: agreement here means both sides read the document alike.
//! Each test runs its own sandbox with the automatic courier moves turned off, so the test
//! alone moves orders (through Dada's simulation routes or the sandbox's control routes).

use std::{str::FromStr, time::Duration};

use orderhub_sandbox::dada::{DadaSandbox, DadaSandboxConfig};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::*;

fn r(origin_id: &str) -> OrderRef {
    OrderRef::new(origin_id)
}
use crate::{
    domain::{GeoPoint, OrderStatus},
    providers::{ProviderError, RejectKind},
};

const SHANGHAI_SHOP: &str = "11047059";

struct Sandbox {
    base: String,
    http: reqwest::Client,
}

impl Sandbox {
    async fn start() -> Self {
        let config = DadaSandboxConfig {
            accept_after_secs: None,
            fetch_after_secs: None,
            finish_after_secs: None,
            ..DadaSandboxConfig::default()
        };
        let router = DadaSandbox::new(config).router();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Sandbox {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    fn adapter_with_secret(&self, secret: &str) -> DadaAdapter {
        DadaAdapter::new(DadaSettings {
            base_url: self.base.clone(),
            app_key: "dada_sandbox_key".into(),
            app_secret: SecretString::from(secret.to_owned()),
            source_id: "73753".into(),
            timeout: Duration::from_secs(5),
        })
        .unwrap()
    }

    fn adapter(&self) -> DadaAdapter {
        self.adapter_with_secret("dada_sandbox_secret")
    }

    /// A sandbox control route (`/_control/…`).
    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}/_control{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "control {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }
}

fn request(origin_id: &str) -> DeliveryRequest {
    DeliveryRequest {
        origin_id: origin_id.into(),
        shop_no: SHANGHAI_SHOP.into(),
        city_code: "021".into(),
        cargo_price: Money::from_fen(2580),
        cargo_weight_kg: Decimal::from_str("1.5").unwrap(),
        prepaid: false,
        receiver_name: "张三".into(),
        receiver_address: "上海市浦东新区世纪大道100号".into(),
        receiver_phone: "13800138000".into(),
        receiver_location: GeoPoint::new(121.5055, 31.2397),
        // Never called: the sandbox's delivery task is not running.
        callback_url: "http://127.0.0.1:9/dada/callback".into(),
        tips: Money::ZERO,
        note: Some("少放辣".into()),
        publish_at: None,
        company: None,
        sender: None,
        quote_token: None,
    }
}

fn rejected_code(e: &ProviderError) -> Option<(&str, RejectKind)> {
    match e {
        ProviderError::Rejected { code, kind, .. } => Some((code.as_deref()?, *kind)),
        _ => None,
    }
}

#[tokio::test]
async fn dispatched_order_waits_for_a_courier() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    let sent = dada.dispatch(&request("T-1")).await.unwrap();
    assert!(sent.fees.delivery_fee > Money::ZERO);
    // The sandbox gives no coupons, so what the merchant pays is at least the freight.
    assert!(sent.fees.fee >= sent.fees.delivery_fee);
    assert!(sent.distance_m > 0);
    let d = dada.detail(&r("T-1")).await.unwrap();
    assert_eq!(d.raw_status, "1");
    assert_eq!(d.status, OrderStatus::Pending);
    assert_eq!(d.courier, Courier::default());
    assert_eq!(d.fees.delivery_fee, sent.fees.delivery_fee);
    assert!(d.created_at.is_some());
    assert_eq!(d.accepted_at, None);
}

#[tokio::test]
async fn second_dispatch_of_an_origin_id_is_refused_with_2105() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    dada.dispatch(&request("T-dup")).await.unwrap();
    let e = dada.dispatch(&request("T-dup")).await.unwrap_err();
    assert_eq!(
        rejected_code(&e),
        Some(("2105", RejectKind::Other)),
        "{e:?}"
    );
}

#[tokio::test]
async fn wrong_secret_is_refused_with_2003() {
    let sandbox = Sandbox::start().await;
    let e = sandbox
        .adapter_with_secret("not-the-secret")
        .dispatch(&request("T-sig"))
        .await
        .unwrap_err();
    assert_eq!(
        rejected_code(&e),
        Some(("2003", RejectKind::Unauthorized)),
        "{e:?}"
    );
}

#[tokio::test]
async fn unknown_order_is_not_found() {
    let sandbox = Sandbox::start().await;
    let e = sandbox.adapter().detail(&r("nope")).await.unwrap_err();
    assert_eq!(rejected_code(&e), Some(("2005", RejectKind::NotFound)));
}

#[tokio::test]
async fn cancelling_an_accepted_order_costs_the_penalty() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    // Waiting orders cancel for free.
    dada.dispatch(&request("T-free")).await.unwrap();
    assert_eq!(dada.cancel(&r("T-free"), 4, "").await.unwrap(), Money::ZERO);

    dada.dispatch(&request("T-late")).await.unwrap();
    dada.client().simulate().accept("T-late").await.unwrap();
    // Two minutes after acceptance: inside Dada's 1–15 minute penalty window.
    sandbox
        .control(
            reqwest::Method::POST,
            "/orders/T-late/age",
            json!({"secs": 120}),
        )
        .await;
    let penalty = dada.cancel(&r("T-late"), 4, "顾客取消订单").await.unwrap();
    assert_eq!(penalty, Money::from_fen(200));
    let d = dada.detail(&r("T-late")).await.unwrap();
    assert_eq!(d.status, OrderStatus::Cancelled);
    assert_eq!(d.penalty, Some(Money::from_fen(200)));
    assert!(d.cancelled_at.is_some());

    // Cancelled orders can be sent again.
    dada.redispatch(&request("T-late")).await.unwrap();
    assert_eq!(
        dada.detail(&r("T-late")).await.unwrap().status,
        OrderStatus::Pending
    );
}

#[tokio::test]
async fn other_reason_needs_a_text() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    dada.dispatch(&request("T-other")).await.unwrap();
    let e = dada.cancel(&r("T-other"), 10000, "").await.unwrap_err();
    assert_eq!(
        rejected_code(&e),
        Some(("2049", RejectKind::InvalidRequest))
    );
}

#[tokio::test]
async fn a_quote_can_be_published_once() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    let before = chrono::Utc::now();
    let quote = dada.quote(&request("T-q")).await.unwrap();
    assert!(!quote.token.is_empty());
    let expires_at = quote.expires_at.unwrap();
    assert!(expires_at >= before + chrono::TimeDelta::minutes(3));
    assert!(expires_at <= chrono::Utc::now() + chrono::TimeDelta::minutes(3));
    let sent = dada
        .dispatch_quote(&request("T-q"), &quote.token)
        .await
        .unwrap();
    assert_eq!(sent.fees, quote.fees);
    assert_eq!(
        dada.detail(&r("T-q")).await.unwrap().status,
        OrderStatus::Pending
    );
    let again = dada
        .dispatch_quote(&request("T-q"), &quote.token)
        .await
        .unwrap_err();
    assert!(rejected_code(&again).is_some(), "{again:?}");
}

#[tokio::test]
async fn an_expired_quote_is_refused_with_2062() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    let quote = dada.quote(&request("T-qx")).await.unwrap();
    sandbox
        .control(
            reqwest::Method::POST,
            &format!("/quotes/{}/age", quote.token),
            json!({"secs": 181}),
        )
        .await;
    let e = dada
        .dispatch_quote(&request("T-q"), &quote.token)
        .await
        .unwrap_err();
    assert_eq!(rejected_code(&e).map(|(c, _)| c), Some("2062"));
}

#[tokio::test]
async fn tips_only_go_up() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    dada.dispatch(&request("T-tip")).await.unwrap();
    dada.add_tip(
        &OrderRef {
            city_code: Some("021".into()),
            ..r("T-tip")
        },
        Money::from_fen(250),
        Some("快点"),
    )
    .await
    .unwrap();
    assert_eq!(
        dada.detail(&r("T-tip")).await.unwrap().fees.tips,
        Money::from_fen(250)
    );
    let e = dada
        .add_tip(
            &OrderRef {
                city_code: Some("021".into()),
                ..r("T-tip")
            },
            Money::from_fen(200),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(rejected_code(&e).map(|(c, _)| c), Some("2057"));
}

#[tokio::test]
async fn simulated_delivery_shows_the_courier() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    dada.dispatch(&request("T-run")).await.unwrap();
    let sim = dada.client().simulate();
    sim.accept("T-run").await.unwrap();
    let d = dada.detail(&r("T-run")).await.unwrap();
    assert_eq!(d.status, OrderStatus::Accepted);
    assert!(d.courier.name.is_some());
    assert!(d.courier.phone.is_some());
    assert!(d.courier.position.is_some());
    assert!(d.accepted_at.is_some());

    // 60 ids need two calls of at most 50; unknown ones are simply not in the answer.
    let mut ids: Vec<String> = (0..59).map(|i| format!("unknown-{i}")).collect();
    ids.push("T-run".into());
    let positions = dada.courier_positions(&ids).await.unwrap();
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0].origin_id, "T-run");
    assert!(positions[0].courier.position.is_some());
    assert!(dada.courier_positions(&[]).await.unwrap().is_empty());

    assert!(!dada.track_url(&r("T-run")).await.unwrap().is_empty());

    sim.fetch("T-run").await.unwrap();
    assert_eq!(
        dada.detail(&r("T-run")).await.unwrap().status,
        OrderStatus::InProgress
    );
    sim.finish("T-run").await.unwrap();
    let d = dada.detail(&r("T-run")).await.unwrap();
    assert_eq!(d.status, OrderStatus::Completed);
    assert!(d.finished_at.is_some());
    // Not late, so a complaint about manners is taken.
    dada.complain(&r("T-run"), 3).await.unwrap();
}

#[tokio::test]
async fn fetch_before_accept_is_refused() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    dada.dispatch(&request("T-early")).await.unwrap();
    let e = dada.client().simulate().fetch("T-early").await.unwrap_err();
    assert_eq!(rejected_code(&e).map(|(c, _)| c), Some("2083"));
}

#[tokio::test]
async fn returned_goods_are_confirmed() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    dada.dispatch(&request("T-back")).await.unwrap();
    let sim = dada.client().simulate();
    sim.accept("T-back").await.unwrap();
    sim.fetch("T-back").await.unwrap();
    sim.abnormal_back("T-back").await.unwrap();
    assert_eq!(
        dada.detail(&r("T-back")).await.unwrap().status,
        OrderStatus::Returning
    );
    dada.confirm_returned_goods(&r("T-back")).await.unwrap();
    assert_eq!(
        dada.detail(&r("T-back")).await.unwrap().status,
        OrderStatus::Returned
    );
}

#[tokio::test]
async fn simulated_cancel_and_expiry() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    dada.dispatch(&request("T-c")).await.unwrap();
    dada.client()
        .simulate()
        .cancel("T-c", "客服取消")
        .await
        .unwrap();
    assert_eq!(
        dada.detail(&r("T-c")).await.unwrap().status,
        OrderStatus::Cancelled
    );
    dada.dispatch(&request("T-x")).await.unwrap();
    dada.client().simulate().expire("T-x").await.unwrap();
    assert_eq!(
        dada.detail(&r("T-x")).await.unwrap().status,
        OrderStatus::Expired
    );
}

#[tokio::test]
async fn appointing_a_regular_courier() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    let couriers = dada.appointable_couriers(SHANGHAI_SHOP).await.unwrap();
    let ids: Vec<&str> = couriers.iter().filter_map(|c| c.id.as_deref()).collect();
    assert!(ids.contains(&"666") && ids.contains(&"667"), "{ids:?}");
    assert!(couriers.iter().all(|c| c.name.is_some()));

    dada.dispatch(&request("T-ap")).await.unwrap();
    dada.appoint(
        &OrderRef {
            shop_no: Some(SHANGHAI_SHOP.into()),
            ..r("T-ap")
        },
        "666",
    )
    .await
    .unwrap();
    let d = dada.detail(&r("T-ap")).await.unwrap();
    assert_eq!(
        (d.raw_status.as_str(), d.status),
        ("8", OrderStatus::Pending)
    );
    dada.cancel_appointment(&r("T-ap")).await.unwrap();
    assert_eq!(dada.detail(&r("T-ap")).await.unwrap().raw_status, "1");

    let e = dada
        .appoint(
            &OrderRef {
                shop_no: Some(SHANGHAI_SHOP.into()),
                ..r("T-ap")
            },
            "not-a-number",
        )
        .await
        .unwrap_err();
    assert_eq!(
        rejected_code(&e),
        None,
        "refused before calling Dada, without a code"
    );
    assert!(matches!(
        e,
        ProviderError::Rejected {
            kind: RejectKind::InvalidRequest,
            ..
        }
    ));
}

#[tokio::test]
async fn reason_lists() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    let reasons = dada.cancel_reasons().await.unwrap();
    assert!(reasons.iter().any(|r| r.id == 10000));
    assert!(reasons.iter().all(|r| !r.text.is_empty()));
    assert!(!dada.complaint_reasons().await.unwrap().is_empty());
}

#[tokio::test]
async fn money_and_cities() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    let balance = dada.balance().await.unwrap();
    assert_eq!(balance.delivery, Some(Money::from_fen(1_000_000)));
    assert!(balance.red_packet.is_some());

    let link = dada
        .recharge_link(
            Money::from_fen(10_050),
            RechargeChannel::Pc,
            Some("http://x/paid"),
        )
        .await
        .unwrap();
    assert!(link.contains("/_control/recharge/"), "{link}");

    let cities = dada.cities().await.unwrap();
    assert!(cities.contains(&City {
        name: "上海".into(),
        code: "021".into()
    }));
    assert!(cities.iter().any(|c| c.code == "010"));
}

#[tokio::test]
async fn merchant_registration_signs_an_empty_source_id() {
    let sandbox = Sandbox::start().await;
    let id = sandbox
        .adapter()
        .register_merchant(&MerchantRegistration {
            mobile: "13800000000".into(),
            city_name: "上海".into(),
            enterprise_name: "测试企业".into(),
            enterprise_address: "上海市浦东新区".into(),
            contact_name: "张三".into(),
            contact_phone: "13800000000".into(),
            email: "a@example.com".into(),
        })
        .await
        .unwrap();
    assert!(!id.is_empty() && id != "73753", "{id}");
}

fn store(shop_no: Option<&str>, name: &str) -> Store {
    Store {
        shop_no: shop_no.map(str::to_owned),
        name: name.into(),
        business: 1,
        city_name: "上海".into(),
        area_name: "浦东新区".into(),
        address: "上海市浦东新区张杨路500号".into(),
        location: GeoPoint::new(121.5200, 31.2300).unwrap(),
        contact_name: "李四".into(),
        phone: "13900000000".into(),
    }
}

#[tokio::test]
async fn stores_are_added_read_and_updated() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    let batch = dada
        .add_stores(&[
            store(Some("S-NEW-1"), "新店"),
            store(Some(SHANGHAI_SHOP), "重复"),
        ])
        .await
        .unwrap();
    assert_eq!(batch.added, vec![store(Some("S-NEW-1"), "新店")]);
    assert_eq!(batch.failed.len(), 1);
    assert_eq!(batch.failed[0].shop_no.as_deref(), Some(SHANGHAI_SHOP));
    assert!(!batch.failed[0].message.is_empty());

    assert_eq!(
        dada.store("S-NEW-1").await.unwrap(),
        store(Some("S-NEW-1"), "新店")
    );
    dada.update_store(&StoreUpdate {
        shop_no: "S-NEW-1".into(),
        name: Some("新店(改)".into()),
        open: Some(false),
        ..StoreUpdate::default()
    })
    .await
    .unwrap();
    assert_eq!(dada.store("S-NEW-1").await.unwrap().name, "新店(改)");

    // A batch where nothing succeeds comes back as one refusal.
    let e = dada
        .add_stores(&[store(Some(SHANGHAI_SHOP), "重复")])
        .await
        .unwrap_err();
    assert_eq!(rejected_code(&e).map(|(c, _)| c), Some("2403"));
    assert!(dada.add_stores(&[]).await.unwrap().added.is_empty());

    let e = dada.store("S-MISSING").await.unwrap_err();
    assert_eq!(rejected_code(&e), Some(("2402", RejectKind::NotFound)));
}

#[tokio::test]
async fn a_courier_may_be_let_go() {
    let sandbox = Sandbox::start().await;
    let dada = sandbox.adapter();
    dada.dispatch(&request("T-let")).await.unwrap();
    // Nothing to answer yet.
    let e = dada
        .answer_courier_cancellation(&r("T-let"), "", true)
        .await
        .unwrap_err();
    assert_eq!(rejected_code(&e).map(|(c, _)| c), Some("2012"));

    dada.client().simulate().accept("T-let").await.unwrap();
    let view = sandbox
        .control(
            reqwest::Method::POST,
            "/orders/T-let/courier-cancel-request",
            json!({"reason": "车坏了"}),
        )
        .await;
    let client_id = view["clientId"].as_str().unwrap_or_default().to_owned();
    dada.answer_courier_cancellation(&r("T-let"), &client_id, false)
        .await
        .unwrap();
    assert_eq!(
        dada.detail(&r("T-let")).await.unwrap().status,
        OrderStatus::Accepted
    );
}

#[tokio::test]
async fn injected_503_is_unavailable_with_nothing_done() {
    let sandbox = Sandbox::start().await;
    sandbox
        .control(reqwest::Method::PUT, "/faults", json!({"errorRate": 1.0}))
        .await;
    let e = sandbox
        .adapter()
        .dispatch(&request("T-503"))
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

#[tokio::test]
async fn refused_connection_is_unavailable_with_nothing_done() {
    // Bind and drop to find a port nobody listens on.
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let dada = DadaAdapter::new(DadaSettings {
        base_url: format!("http://127.0.0.1:{port}"),
        app_key: "k".into(),
        app_secret: SecretString::from("s".to_owned()),
        source_id: "1".into(),
        timeout: Duration::from_secs(2),
    })
    .unwrap();
    let e = dada.balance().await.unwrap_err();
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
fn info_describes_a_courier_network() {
    let info = DadaAdapter::info(true, true);
    assert_eq!(info.id, ProviderId::Dada);
    assert_eq!(info.role, ProviderRole::CourierNetwork);
    assert!(info.capabilities.contains(&Capability::CancelOrder));
}
