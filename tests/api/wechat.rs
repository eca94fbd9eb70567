//! WeChat instant delivery (微信即时配送) end to end over HTTP: the courier companies and our
//! accounts at them, one quote per company (Dada's with its `delivery_token`), dispatch
//! (direct and from a quote), every status through the sandbox's encrypted pushes and on
//! `orderStatusChanged`, the push route's guarantees (URL check, `msg_signature`, decryption,
//! duplicates, out-of-order news, the sandbox's push faults), tips, cancellation with the
//! company's penalty, returned goods, re-dispatch, the access_token refreshed once for many
//! callers, the daily quota, the TEST company moved by mockUpdateOrder, and platform errors.
//!
//! Pushes crafted here are sealed with the sandbox's own `crypto` and `sign` modules: they are
//! the independent witness of WeChat's safe mode, the app has its own.

use chrono::Utc;
use orderhub_sandbox::wechat::{
    WechatSandboxConfig,
    crypto::{MessageCrypto, random_prefix},
    sign,
};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, wait_until},
    on_every_backend,
};

const STORE: &str = "wx_sh_001";

const ORDER_FIELDS: &str = "id status rawStatus kind provider cancelReason
    delivery { originId company platformOrderId dispatchRound distanceMeters
               fees { total { fen } deliveryFee { fen } tips { fen } penalty { fen } } }
    courier { name phone }
    events { kind fromStatus toStatus rawStatus source applied }";

const USER_ERRORS: &str = "userErrors { field message code platformCode }";

const QUOTE: &str = "mutation($input: QuoteDeliveryInput!) { quoteDelivery(input: $input) {
    quote { id company platformQuoteId originId expiresAt }
    quotes { id company platformQuoteId originId dispatchMinutes expiresAt distanceMeters
             fees { total { fen } deliveryFee { fen } } order { id } }
    userErrors { field message code platformCode } } }";

// ------------------------------------------------------------------------------ helpers

/// A delivery from `shop` to a receiver about 5 km away (BD-09), with `company` when given and
/// `extra` merged in.
fn delivery(shop: &str, company: Option<&str>, extra: Value) -> Value {
    let mut d = json!({
        "shopId": shop,
        "receiver": {
            "name": "张三",
            "phone": "13800000000",
            "address": "上海市黄浦区南京东路100号",
            "location": { "lng": 121.4968, "lat": 31.2450 }
        },
        "cargoPriceFen": 5000,
        "cargoWeightKg": 1.5,
    });
    if let Some(c) = company {
        d["company"] = json!(c);
    }
    if let (Some(d), Some(e)) = (d.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            d.insert(k.clone(), v.clone());
        }
    }
    d
}

async fn quote(app: &TestApp, delivery: Value) -> Value {
    app.gql_ok(QUOTE, json!({ "input": { "delivery": delivery } }))
        .await["quoteDelivery"]
        .clone()
}

/// `dispatchDelivery` with `input`; the payload.
async fn dispatch_input(app: &TestApp, input: Value) -> Value {
    let q = format!(
        "mutation($input: DispatchDeliveryInput!) {{ dispatchDelivery(input: $input) {{
            order {{ {ORDER_FIELDS} }} {USER_ERRORS} }} }}"
    );
    app.gql_ok(&q, json!({ "input": input })).await["dispatchDelivery"].clone()
}

/// Dispatches directly with `company`; the payload.
async fn dispatch(app: &TestApp, shop: &str, company: &str, extra: Value) -> Value {
    dispatch_input(
        app,
        json!({ "delivery": delivery(shop, Some(company), extra) }),
    )
    .await
}

/// Dispatches with `company` and returns the order's id and reference (`shop_order_id`).
async fn placed(app: &TestApp, shop: &str, company: &str) -> (String, String) {
    let p = dispatch(app, shop, company, json!({})).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    let o = &p["order"];
    (
        o["id"].as_str().expect("order id").to_owned(),
        o["delivery"]["originId"]
            .as_str()
            .expect("originId")
            .to_owned(),
    )
}

async fn order(app: &TestApp, id: &str) -> Value {
    let q = format!("query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}");
    app.gql_ok(&q, json!({ "id": id })).await["order"].clone()
}

/// Waits until the order's raw status is `raw`.
async fn wait_raw(app: &TestApp, id: &str, raw: &str) -> Value {
    app.eventually(10, || async {
        let o = order(app, id).await;
        (o["rawStatus"] == raw).then_some(o)
    })
    .await
}

/// How many `order/get` calls the sandbox answered for the order.
async fn get_calls(app: &TestApp, origin: &str) -> u64 {
    sandbox_order(app, origin).await["getCalls"]
        .as_u64()
        .unwrap_or(0)
}

/// Waits until the check with WeChat that follows a disputed (late) push ran: the app asks
/// WeChat (`order/get`) after such a push (`confirm_in_background`), and the sandbox counts
/// the calls it answered per order; `before` is the count read before the push.
async fn confirm_check_ran(app: &TestApp, origin: &str, before: u64) {
    wait_until(
        "the check with WeChat that follows a late push",
        std::time::Duration::from_secs(10),
        || async {
            let now = get_calls(app, origin).await;
            if now > before {
                Ok(())
            } else {
                Err(format!("{now} order/get calls"))
            }
        },
    )
    .await
}

/// An order-payload mutation (`{ order userErrors }`) on one input.
async fn order_mutation(app: &TestApp, field: &str, input_type: &str, input: Value) -> Value {
    let q = format!(
        "mutation($input: {input_type}!) {{ {field}(input: $input) {{
            order {{ {ORDER_FIELDS} }} {USER_ERRORS} }} }}"
    );
    app.gql_ok(&q, json!({ "input": input })).await[field].clone()
}

async fn add_tip(app: &TestApp, id: &str, tip_fen: i64) -> Value {
    order_mutation(
        app,
        "addTip",
        "AddTipInput",
        json!({ "orderId": id, "tipFen": tip_fen }),
    )
    .await
}

async fn cancel(app: &TestApp, input: Value) -> Value {
    let q = format!(
        "mutation($input: CancelOrderInput!) {{ cancelOrder(input: $input) {{
            order {{ {ORDER_FIELDS} }} penalty {{ fen }} {USER_ERRORS} }} }}"
    );
    app.gql_ok(&q, json!({ "input": input })).await["cancelOrder"].clone()
}

async fn preview_cancel(app: &TestApp, input: Value) -> Value {
    app.gql_ok(
        "mutation($input: PreviewCancellationInput!) { previewCancellation(input: $input) {
            penalty { fen } description userErrors { field message code platformCode } } }",
        json!({ "input": input }),
    )
    .await["previewCancellation"]
        .clone()
}

/// The payload has exactly one user error, with this code and platform code.
#[track_caller]
fn assert_refused(payload: &Value, code: &str, platform_code: Option<&str>) {
    let errors = payload["userErrors"].as_array().expect("userErrors");
    assert_eq!(errors.len(), 1, "one user error: {payload:#}");
    assert_eq!(errors[0]["code"], code, "{payload:#}");
    assert_eq!(
        errors[0]["platformCode"],
        platform_code.map_or(Value::Null, |c| json!(c)),
        "{payload:#}"
    );
}

/// The raw statuses of the applied status events, oldest first.
fn applied(o: &Value) -> Vec<String> {
    o["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "STATUS" && e["applied"] == true)
        .map(|e| e["rawStatus"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Every WeChat order of the app, by reference.
async fn wechat_orders(app: &TestApp) -> Vec<String> {
    let d = app
        .gql_ok(
            "{ orders(filter: {provider: WECHAT}, first: 100) { nodes { externalId } } }",
            json!({}),
        )
        .await;
    d["orders"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["externalId"].as_str().map(str::to_owned))
        .collect()
}

/// The sandbox's full view of an order.
async fn sandbox_order(app: &TestApp, origin: &str) -> Value {
    app.wechat_get(&format!("/_control/orders/{origin}")).await
}

/// Plays the rider, company or clock on the sandbox: must apply.
async fn control(app: &TestApp, origin: &str, action: &str, body: Value) -> Value {
    let (status, v) = app
        .wechat_post(&format!("/_control/orders/{origin}/{action}"), body)
        .await;
    assert_eq!(status, 200, "{action}: {v}");
    v
}

/// Waits until every push of the order is settled (delivered, with every copy the duplicate
/// fault asked for, dropped or given up) and returns the sandbox's view.
async fn pushes_settled(app: &TestApp, origin: &str) -> Value {
    app.eventually(25, || async {
        let v = sandbox_order(app, origin).await;
        v["pushes"]
            .as_array()?
            .iter()
            .all(|p| {
                let copies = if p["plan"] == "twice" { 2 } else { 1 };
                p["dropped"] == true
                    || p["gaveUp"] == true
                    || (p["inFlight"] == false
                        && p["copiesDelivered"].as_u64().unwrap_or(0) >= copies)
            })
            .then_some(v.clone())
    })
    .await
}

/// The body of the order's push for `status`, as the sandbox made it.
fn push_body(view: &Value, status: i64) -> Value {
    view["pushes"]
        .as_array()
        .expect("pushes")
        .iter()
        .rev()
        .find(|p| p["orderStatus"] == status)
        .unwrap_or_else(|| panic!("no push of {status}: {view:#}"))["body"]
        .clone()
}

fn sandbox_config() -> WechatSandboxConfig {
    WechatSandboxConfig::default()
}

fn message_crypto() -> MessageCrypto {
    MessageCrypto::new(&sandbox_config().encoding_aes_key).expect("sandbox EncodingAESKey")
}

/// A safe-mode push as WeChat posts it: the query (`signature`, `timestamp`, `nonce`,
/// `encrypt_type`, `msg_signature` over `encrypt`) and the envelope.
fn envelope(encrypt: &str) -> (Vec<(String, String)>, Value) {
    let cfg = sandbox_config();
    let timestamp = Utc::now().timestamp().to_string();
    let nonce = rand::random::<u32>().to_string();
    let query = vec![
        (
            "signature".to_owned(),
            sign::signature(&cfg.token, &timestamp, &nonce),
        ),
        ("timestamp".to_owned(), timestamp.clone()),
        ("nonce".to_owned(), nonce.clone()),
        ("encrypt_type".to_owned(), "aes".to_owned()),
        (
            "msg_signature".to_owned(),
            sign::msg_signature(&cfg.token, &timestamp, &nonce, encrypt),
        ),
    ];
    (
        query,
        json!({ "ToUserName": cfg.original_id, "Encrypt": encrypt }),
    )
}

/// `message` encrypted for our appid.
fn encrypt(message: &Value, appid: &str) -> String {
    message_crypto().encrypt(&random_prefix(), message.to_string().as_bytes(), appid)
}

/// A properly sealed push of `message`.
fn sealed(message: &Value) -> (Vec<(String, String)>, Value) {
    envelope(&encrypt(message, &sandbox_config().appid))
}

/// POSTs a push to our route; status and body text.
async fn post_push(app: &TestApp, query: &[(String, String)], body: &Value) -> (u16, String) {
    let r = app
        .http
        .post(format!("{}/callbacks/wechat", app.base))
        .query(query)
        .json(body)
        .send()
        .await
        .expect("push");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap_or_default())
}

/// Checks our encrypted reply as the sandbox would (signature, appid) and returns its message.
#[track_caller]
fn open_reply(text: &str) -> Value {
    let cfg = sandbox_config();
    let reply: Value = serde_json::from_str(text).expect("reply is JSON");
    let field = |name: &str| match &reply[name] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("reply lacks {name}: {other} in {reply}"),
    };
    let encrypt = field("Encrypt");
    assert_eq!(
        field("MsgSignature"),
        sign::msg_signature(&cfg.token, &field("TimeStamp"), &field("Nonce"), &encrypt),
        "reply signature: {reply}"
    );
    let frame = message_crypto().decrypt(&encrypt).expect("reply decrypts");
    assert_eq!(frame.appid, cfg.appid);
    serde_json::from_slice(&frame.message).expect("reply message is JSON")
}

/// A copy of `s` with one character (in the middle, away from the padding) changed.
fn flip_one(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let i = chars.len() / 2;
    // A digit: different in hex and in Base64 alike, whatever the case rules.
    chars[i] = if chars[i] == '0' { '1' } else { '0' };
    chars.into_iter().collect()
}

// ------------------------------------------------------------------------ 1. accounts

async fn companies_and_accounts(app: TestApp) {
    let d = app
        .gql_ok(
            "{ deliveryCompanies(provider: WECHAT) { id name } }",
            json!({}),
        )
        .await;
    let ids: Vec<&str> = d["deliveryCompanies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["TEST", "SFTC", "SS", "MTPS", "DADA"], "{d:#}");
    assert_eq!(d["deliveryCompanies"][1]["name"], "顺丰同城急送");
    assert_eq!(d["deliveryCompanies"][4]["name"], "达达");

    let bound = || async {
        let d = app
            .gql_ok(
                "{ boundDeliveryAccounts(provider: WECHAT) { company shopId audit } }",
                json!({}),
            )
            .await;
        d["boundDeliveryAccounts"].as_array().unwrap().clone()
    };
    let accounts = bound().await;
    assert_eq!(
        accounts,
        vec![
            json!({"company": "TEST", "shopId": "test_shop_id", "audit": "PASSED"}),
            json!({"company": "SFTC", "shopId": "sftc_sandbox_shop", "audit": "PASSED"}),
            json!({"company": "SS", "shopId": "ss_sandbox_shop", "audit": "PASSED"}),
            json!({"company": "DADA", "shopId": "dada_sandbox_shop", "audit": "PASSED"}),
        ]
    );

    // Binding Meituan sends the account to the company's review (the sandbox's rule).
    let bind = |company: &'static str| {
        let app = &app;
        async move {
            app.gql_ok(
                "mutation($c: String!) { bindDeliveryAccount(input: {provider: WECHAT, company: $c}) {
                    ok userErrors { field message code platformCode } } }",
                json!({ "c": company }),
            )
            .await["bindDeliveryAccount"]
                .clone()
        }
    };
    let b = bind("MTPS").await;
    assert_eq!(b, json!({"ok": true, "userErrors": []}));
    let accounts = bound().await;
    assert_eq!(accounts.len(), 5, "{accounts:#?}");
    assert!(
        accounts.contains(
            &json!({"company": "MTPS", "shopId": "mtps_sandbox_shop", "audit": "REVIEWING"})
        ),
        "{accounts:#?}"
    );
    let companies = app.wechat_get("/_control/companies").await;
    let mtps = companies
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["deliveryId"] == "MTPS")
        .unwrap();
    assert_eq!(
        (&mtps["bound"], &mtps["auditResult"]),
        (&json!(true), &json!(1))
    );
    // Asking again while under review changes nothing.
    assert_eq!(bind("MTPS").await["ok"], true);
    assert_eq!(bound().await, accounts);

    // An account that passed review is refused as already bound (the company's 10001); an
    // unknown company is WeChat's 930561. Neither changes anything.
    let again = bind("SFTC").await;
    assert_eq!(again["ok"], false);
    assert_refused(&again, "PLATFORM_REJECTED", Some("10001"));
    let unknown = bind("NOPE").await;
    assert_eq!(unknown["ok"], false);
    assert_refused(&unknown, "INVALID_INPUT", Some("930561"));
    assert_eq!(bound().await, accounts);

    let open = app
        .gql_ok(
            "mutation { openDeliveryService(input: {provider: WECHAT}) { ok userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        open["openDeliveryService"],
        json!({"ok": true, "userErrors": []})
    );

    let reasons = app
        .gql_ok(
            "{ deliveryCancelReasons(provider: WECHAT) { id text } }",
            json!({}),
        )
        .await;
    let ids: Vec<i64> = reasons["deliveryCancelReasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
}
on_every_backend!(companies_and_accounts_test, companies_and_accounts);

// ------------------------------------------------------------------------ 2. quotes

async fn one_quote_per_company(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let q = quote(&app, delivery(&shop, None, json!({}))).await;
    assert_eq!(q["userErrors"], json!([]), "{q:#}");
    let quotes = q["quotes"].as_array().unwrap();
    let mut companies: Vec<&str> = quotes
        .iter()
        .map(|x| x["company"].as_str().unwrap())
        .collect();
    // Cheapest first, by the sandbox's fee models for a ~5 km trip.
    assert_eq!(companies, ["DADA", "TEST", "SFTC", "SS"], "{q:#}");
    companies.sort_unstable();
    companies.dedup();
    assert_eq!(companies.len(), 4, "one quote per bound company");
    let fees: Vec<i64> = quotes
        .iter()
        .map(|x| x["fees"]["total"]["fen"].as_i64().unwrap())
        .collect();
    assert!(fees.windows(2).all(|w| w[0] < w[1]), "{fees:?}");
    assert_eq!(q["quote"]["id"], quotes[0]["id"], "the cheapest");
    let origin = quotes[0]["originId"].clone();
    assert!(quotes.iter().all(|x| x["originId"] == origin));

    let by = |c: &str| quotes.iter().find(|x| x["company"] == c).unwrap().clone();
    let dada = by("DADA");
    let token = dada["platformQuoteId"].as_str().unwrap().to_owned();
    assert!(token.starts_with("dada_"), "delivery_token: {dada:#}");
    let expires: chrono::DateTime<Utc> = dada["expiresAt"].as_str().unwrap().parse().unwrap();
    let left = (expires - Utc::now()).num_seconds();
    assert!((150..=180).contains(&left), "{left}");
    assert_eq!(dada["dispatchMinutes"], 8);
    for c in ["TEST", "SFTC", "SS"] {
        assert_eq!(by(c)["platformQuoteId"], "", "{c} gives no token");
    }
    assert_eq!(by("SFTC")["dispatchMinutes"], 3);
    assert_eq!(by("SS")["dispatchMinutes"], 2);

    // Dispatching Dada's quote sends its delivery_token, and Dada stands by its price.
    let d = dispatch_input(&app, json!({ "quoteId": dada["id"] })).await;
    assert_eq!(d["userErrors"], json!([]), "{d:#}");
    let o = &d["order"];
    assert_eq!(o["delivery"]["company"], "DADA");
    assert_eq!(o["delivery"]["originId"], origin);
    assert_eq!(o["delivery"]["fees"]["total"], dada["fees"]["total"]);
    assert_eq!(o["rawStatus"], "101");
    let origin = origin.as_str().unwrap();
    let view = sandbox_order(&app, origin).await;
    assert_eq!(view["deliveryId"], "DADA");
    assert_eq!(view["request"]["deliveryToken"], token.as_str(), "{view:#}");
    assert_eq!(view["chargedFen"], dada["fees"]["total"]["fen"], "{view:#}");
    assert_eq!(o["delivery"]["platformOrderId"], view["waybillId"]);

    // The same quote again, or another company's quote of the same request: the reference
    // is taken.
    let again = dispatch_input(&app, json!({ "quoteId": dada["id"] })).await;
    assert_refused(&again, "ALREADY_DISPATCHED", None);
    let other = dispatch_input(&app, json!({ "quoteId": by("SFTC")["id"] })).await;
    assert_refused(&other, "ALREADY_DISPATCHED", None);
    assert_eq!(wechat_orders(&app).await, [origin]);

    // A company without a token: its quote is dispatched as the quoted request.
    let q = quote(&app, delivery(&shop, Some("SFTC"), json!({}))).await;
    assert_eq!(q["quotes"].as_array().unwrap().len(), 1, "{q:#}");
    let sftc = &q["quote"];
    assert_eq!(sftc["company"], "SFTC");
    let d = dispatch_input(&app, json!({ "quoteId": sftc["id"] })).await;
    assert_eq!(d["userErrors"], json!([]), "{d:#}");
    assert_eq!(d["order"]["delivery"]["company"], "SFTC");
    let view = sandbox_order(&app, d["order"]["delivery"]["originId"].as_str().unwrap()).await;
    assert_eq!(view["deliveryId"], "SFTC");
    assert_eq!(view["request"]["deliveryToken"], Value::Null);
}
on_every_backend!(one_quote_per_company_test, one_quote_per_company);

async fn expired_delivery_token(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let q = quote(&app, delivery(&shop, Some("DADA"), json!({}))).await;
    assert_eq!(q["userErrors"], json!([]), "{q:#}");
    let dada = q["quote"].clone();
    let token = dada["platformQuoteId"].as_str().unwrap();
    let (status, aged) = app
        .wechat_post(
            &format!("/_control/quotes/{token}/age"),
            json!({ "secs": 181 }),
        )
        .await;
    assert_eq!(status, 200, "{aged}");

    let d = dispatch_input(&app, json!({ "quoteId": dada["id"] })).await;
    assert_eq!(d["order"], Value::Null);
    assert_refused(&d, "PLATFORM_REJECTED", Some("10005"));
    // Nothing left behind: no order here, none at the platform, the quote still undispatched.
    assert_eq!(wechat_orders(&app).await, Vec::<String>::new());
    let origin = dada["originId"].as_str().unwrap();
    let r = app
        .http
        .get(app.wechat(&format!("/_control/orders/{origin}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let left = app
        .gql_ok(
            "query($id: ID!) { deliveryQuote(id: $id) { id order { id } } }",
            json!({ "id": dada["id"] }),
        )
        .await;
    assert_eq!(left["deliveryQuote"]["order"], Value::Null);
}
on_every_backend!(expired_delivery_token_test, expired_delivery_token);

async fn unbound_company(app: TestApp) {
    // The default app holds accounts only at the companies bound when it starts: Meituan is
    // refused before WeChat is asked.
    let shop = app.wechat_shop(STORE).await;
    let q = quote(&app, delivery(&shop, Some("MTPS"), json!({}))).await;
    assert_eq!(q["quotes"], json!([]));
    assert_refused(&q, "INVALID_INPUT", None);
    let d = dispatch(&app, &shop, "MTPS", json!({})).await;
    assert_refused(&d, "INVALID_INPUT", None);
    assert_eq!(wechat_orders(&app).await, Vec::<String>::new());
}
on_every_backend!(unbound_company_test, unbound_company);

/// An app that holds a Meituan account the company has not passed yet: WeChat's 930560.
async fn account_under_review(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        for company in &mut c.sandbox.wechat.companies {
            if company.delivery_id == "MTPS" {
                company.bound = true;
                company.audit_result = 1;
            }
        }
    })
    .await;
    let shop = app.wechat_shop(STORE).await;
    let q = quote(&app, delivery(&shop, Some("MTPS"), json!({}))).await;
    assert_eq!(q["quotes"], json!([]));
    assert_refused(&q, "PLATFORM_REJECTED", Some("930560"));

    // Quoting everyone: the others quote, Meituan's refusal is named beside them.
    let all = quote(&app, delivery(&shop, None, json!({}))).await;
    assert_eq!(all["quotes"].as_array().unwrap().len(), 4, "{all:#}");
    assert_refused(&all, "PLATFORM_REJECTED", Some("930560"));
    assert_eq!(
        all["userErrors"][0]["field"],
        json!(["delivery", "company", "MTPS"])
    );

    let d = dispatch(&app, &shop, "MTPS", json!({})).await;
    assert_refused(&d, "PLATFORM_REJECTED", Some("930560"));
    assert_eq!(wechat_orders(&app).await, Vec::<String>::new());
    assert_eq!(
        app.wechat_get("/_control/orders").await,
        json!([]),
        "nothing at the platform"
    );

    // Once the company passes the review, Meituan quotes.
    app.wechat_put("/_control/companies/MTPS", json!({ "auditResult": 0 }))
        .await;
    let q = quote(&app, delivery(&shop, Some("MTPS"), json!({}))).await;
    assert_eq!(q["userErrors"], json!([]), "{q:#}");
    assert_eq!(q["quote"]["company"], "MTPS");
}
on_every_backend!(account_under_review_test, account_under_review, by_backend);

// ------------------------------------------------------------------ 3. a full delivery

async fn a_full_delivery(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let mut sub = app
        .subscribe(
            "subscription { orderStatusChanged(filter: {provider: WECHAT}) {
                orderId oldStatus newStatus rawStatus kind source } }",
            json!({}),
        )
        .await;
    let p = dispatch(&app, &shop, "SFTC", json!({})).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    let o = &p["order"];
    assert_eq!(
        (&o["kind"], &o["provider"], &o["status"], &o["rawStatus"]),
        (
            &json!("DELIVERY"),
            &json!("WECHAT"),
            &json!("PENDING"),
            &json!("101")
        )
    );
    assert_eq!(o["delivery"]["company"], "SFTC");
    assert_eq!(o["delivery"]["dispatchRound"], 1);
    let id = o["id"].as_str().unwrap().to_owned();
    let origin = o["delivery"]["originId"].as_str().unwrap().to_owned();
    let view = sandbox_order(&app, &origin).await;
    assert_eq!(view["deliveryId"], "SFTC");
    assert_eq!(view["shopNo"], STORE);
    assert_eq!(view["status"], 101);
    assert_eq!(o["delivery"]["platformOrderId"], view["waybillId"]);
    assert_eq!(
        o["delivery"]["fees"]["total"]["fen"], view["chargedFen"],
        "we show what the company charges: {view:#}"
    );

    control(&app, &origin, "assign", json!({})).await;
    let accepted = wait_raw(&app, &id, "102").await;
    assert_eq!(accepted["status"], "ACCEPTED");
    let view = sandbox_order(&app, &origin).await;
    assert_eq!(accepted["courier"]["name"], view["rider"]["name"]);
    assert_eq!(accepted["courier"]["phone"], view["rider"]["phone"]);
    assert!(accepted["courier"]["name"].as_str().is_some(), "{view:#}");
    let live = app
        .gql_ok(
            "query($id: ID!) { order(id: $id) { courierPosition { lng lat } } }",
            json!({ "id": id }),
        )
        .await;
    let pos = &live["order"]["courierPosition"];
    let (lng, lat) = (pos["lng"].as_f64(), pos["lat"].as_f64());
    assert!(
        lng.is_some_and(|v| (121.4..121.7).contains(&v))
            && lat.is_some_and(|v| (31.1..31.4).contains(&v)),
        "the rider near the store: {live:#}"
    );

    control(&app, &origin, "arrive", json!({})).await;
    assert_eq!(wait_raw(&app, &id, "201").await["status"], "ARRIVED");
    control(&app, &origin, "pickup", json!({})).await;
    assert_eq!(wait_raw(&app, &id, "301").await["status"], "IN_PROGRESS");
    control(&app, &origin, "deliver", json!({})).await;
    let done = wait_raw(&app, &id, "302").await;
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(
        applied(&done),
        ["101", "102", "201", "202", "301", "302"],
        "{done:#}"
    );
    let sources: Vec<&Value> = done["events"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|e| &e["source"])
        .collect();
    assert!(sources.iter().all(|s| *s == "CALLBACK"), "{done:#}");

    // Every change reached the subscriber, in order, each once.
    let mut seen = Vec::new();
    while seen.len() < 6 {
        let m = sub.next(10).await;
        let c = &m["data"]["orderStatusChanged"];
        assert_eq!(c["orderId"], id.as_str(), "{m:#}");
        assert_eq!(c["kind"], "STATUS");
        seen.push((
            c["newStatus"].as_str().unwrap().to_owned(),
            c["rawStatus"].as_str().unwrap().to_owned(),
        ));
    }
    let expected = [
        ("PENDING", "101"),
        ("ACCEPTED", "102"),
        ("ARRIVED", "201"),
        ("IN_PROGRESS", "202"),
        ("IN_PROGRESS", "301"),
        ("COMPLETED", "302"),
    ]
    .map(|(s, r)| (s.to_owned(), r.to_owned()));
    assert_eq!(seen, expected);
    sub.assert_quiet(300).await;

    // Every push was delivered once and answered as the sandbox requires.
    let view = pushes_settled(&app, &origin).await;
    let codes: Vec<i64> = view["pushes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["copiesDelivered"], 1, "{p:#}");
            assert_eq!(p["attempts"], 1, "answered right the first time: {p:#}");
            p["orderStatus"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(codes, [102, 201, 202, 301, 302]);
}
on_every_backend!(a_full_delivery_test, a_full_delivery);

// ------------------------------------------------------------------- 4. push security

async fn url_check(app: TestApp) {
    let cfg = sandbox_config();
    let ts = Utc::now().timestamp().to_string();
    let nonce = "1514711492";
    let good = sign::signature(&cfg.token, &ts, nonce);
    let url = format!("{}/callbacks/wechat", app.base);
    let get = |signature: String| {
        let (app, url, ts) = (&app, &url, &ts);
        async move {
            let r = app
                .http
                .get(url)
                .query(&[
                    ("signature", signature.as_str()),
                    ("timestamp", ts.as_str()),
                    ("nonce", nonce),
                    ("echostr", "4375120948345356249"),
                ])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(get(good.clone()).await, (200, "4375120948345356249".into()));
    let (status, body) = get("0".repeat(40)).await;
    assert_ne!(status, 200, "{body}");
    assert_ne!(body, "4375120948345356249");
    let r = app.http.get(&url).send().await.unwrap();
    assert_ne!(r.status().as_u16(), 200, "no parameters");

    // WeChat's own check of the configured URL.
    let (status, v) = app
        .wechat_post(
            "/_control/verify-url",
            json!({ "echostr": "hello-orderhub" }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["url"], url.as_str());
    assert_eq!(v["status"], 200, "{v:#}");
    assert_eq!(v["body"], "hello-orderhub");
    assert_eq!(v["echoed"], true, "{v:#}");
}
on_every_backend!(url_check_test, url_check);

async fn push_route_guarantees(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let (id, origin) = placed(&app, &shop, "SFTC").await;
    // The sandbox's pushes are lost: this test delivers them itself.
    app.wechat_put("/_control/faults", json!({ "dropCallbackRate": 1.0 }))
        .await;
    control(&app, &origin, "assign", json!({})).await;
    let view = sandbox_order(&app, &origin).await;
    let assigned = push_body(&view, 102);
    assert_eq!(assigned["Event"], "update_waybill_status");
    let before = order(&app, &id).await;
    assert_eq!(before["rawStatus"], "101");

    // A wrong msg_signature: refused, nothing changed.
    let (mut query, body) = sealed(&assigned);
    let good_query = query.clone();
    for (k, v) in &mut query {
        if k == "msg_signature" {
            *v = flip_one(v);
        }
    }
    let (status, text) = post_push(&app, &query, &body).await;
    assert_ne!(status, 200, "{text}");
    // No msg_signature at all.
    let bare: Vec<(String, String)> = good_query
        .iter()
        .filter(|(k, _)| k != "msg_signature")
        .cloned()
        .collect();
    assert_ne!(post_push(&app, &bare, &body).await.0, 200);
    // A tampered Encrypt under the original signature.
    let mut tampered = body.clone();
    tampered["Encrypt"] = json!(flip_one(body["Encrypt"].as_str().unwrap()));
    let (status, text) = post_push(&app, &good_query, &tampered).await;
    assert_ne!(status, 200, "{text}");
    // Signed, but not a ciphertext of ours: does not decrypt.
    let (q, b) = envelope("AAAA");
    assert_ne!(post_push(&app, &q, &b).await.0, 200);
    // Signed and encrypted, but for another mini-program.
    let (q, b) = envelope(&encrypt(&assigned, "wx0000000000000000"));
    assert_ne!(post_push(&app, &q, &b).await.0, 200);
    // Not JSON.
    let r = app
        .http
        .post(format!("{}/callbacks/wechat", app.base))
        .query(&good_query)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_ne!(r.status().as_u16(), 200);
    assert_eq!(order(&app, &id).await, before, "nothing changed");

    // A push for an order that is not ours: refused, so WeChat keeps it.
    let mut stranger = assigned.clone();
    stranger["shop_order_id"] = json!("not-ours-1");
    let (q, b) = sealed(&stranger);
    assert_eq!(post_push(&app, &q, &b).await.0, 404);
    // Another event of the mini-program: acknowledged, nothing to do.
    let (q, b) = sealed(&json!({
        "ToUserName": sandbox_config().original_id, "FromUserName": "o_sandbox_user_1",
        "CreateTime": Utc::now().timestamp(), "MsgType": "event", "Event": "debug_demo",
        "debug_str": "hello world"
    }));
    assert_eq!(post_push(&app, &q, &b).await.0, 200);
    assert_eq!(order(&app, &id).await, before, "nothing changed");

    // The real push: applied, answered with an encrypted reply the sandbox accepts.
    let (status, text) = post_push(&app, &good_query, &body).await;
    assert_eq!(status, 200, "{text}");
    let reply = open_reply(&text);
    assert_eq!(reply["resultcode"], 0, "{reply}");
    assert_eq!(
        reply["ToUserName"], assigned["FromUserName"],
        "names swapped"
    );
    assert_eq!(reply["FromUserName"], assigned["ToUserName"]);
    let o = order(&app, &id).await;
    assert_eq!(
        (&o["status"], &o["rawStatus"]),
        (&json!("ACCEPTED"), &json!("102"))
    );
    assert_eq!(o["courier"]["name"], assigned["agent"]["name"]);
    assert_eq!(o["courier"]["phone"], assigned["agent"]["phone"]);

    // The same push again (and again, newly sealed, as a retry is): answered, one event.
    let (status, text) = post_push(&app, &good_query, &body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(open_reply(&text)["resultcode"], 0);
    let (q, b) = sealed(&assigned);
    assert_eq!(post_push(&app, &q, &b).await.0, 200);
    let o = order(&app, &id).await;
    assert_eq!(applied(&o), ["101", "102"], "{o:#}");
    assert_eq!(o["events"].as_array().unwrap().len(), 2, "{o:#}");

    // Out of order: the rider picked up (201, 202, 301), and 301 reaches us first.
    control(&app, &origin, "arrive", json!({})).await;
    control(&app, &origin, "pickup", json!({})).await;
    let view = sandbox_order(&app, &origin).await;
    assert_eq!(view["status"], 301);
    let delivering = push_body(&view, 301);
    let (q, b) = sealed(&delivering);
    assert_eq!(post_push(&app, &q, &b).await.0, 200);
    assert_eq!(order(&app, &id).await["status"], "IN_PROGRESS");
    let mut at_store = push_body(&view, 201);
    at_store["action_time"] = json!(delivering["action_time"].as_i64().unwrap() - 30);
    let (q, b) = sealed(&at_store);
    let gets = get_calls(&app, &origin).await;
    let (status, text) = post_push(&app, &q, &b).await;
    assert_eq!(status, 200, "a late push is taken: {text}");
    let o = order(&app, &id).await;
    assert_eq!(
        (&o["status"], &o["rawStatus"]),
        (&json!("IN_PROGRESS"), &json!("301"))
    );
    let last = o["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["rawStatus"], &last["applied"]),
        (&json!("201"), &json!(false)),
        "recorded, not applied: {o:#}"
    );
    // The check with the platform that follows a late push agrees: nothing more happens.
    confirm_check_ran(&app, &origin, gets).await;
    let after = order(&app, &id).await;
    assert_eq!(after, o);
    assert_eq!(applied(&after), ["101", "102", "301"]);

    assert!(
        app.metric("orderhub_callbacks_total{provider=\"WECHAT\",outcome=\"rejected\"}")
            .await
            >= 6.0
    );
    assert!(
        app.metric("orderhub_callbacks_total{provider=\"WECHAT\",outcome=\"duplicate\"}")
            .await
            >= 2.0
    );
}
on_every_backend!(push_route_guarantees_test, push_route_guarantees);

/// Walks an order through every step and waits until the app has the delivery.
async fn deliver_through(app: &TestApp, shop: &str) -> (String, String) {
    let (id, origin) = placed(app, shop, "SFTC").await;
    for action in ["assign", "arrive", "pickup", "deliver"] {
        control(app, &origin, action, json!({})).await;
    }
    wait_raw(app, &id, "302").await;
    (id, origin)
}

async fn sandbox_push_faults(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;

    // Every push twice.
    app.wechat_put("/_control/faults", json!({ "duplicateCallbackRate": 1.0 }))
        .await;
    let (id, origin) = deliver_through(&app, &shop).await;
    let view = pushes_settled(&app, &origin).await;
    assert!(
        view["pushes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["copiesDelivered"] == 2),
        "{view:#}"
    );
    let o = order(&app, &id).await;
    assert_eq!(o["status"], "COMPLETED");
    assert_eq!(
        applied(&o),
        ["101", "102", "201", "202", "301", "302"],
        "{o:#}"
    );

    // Every push held back behind the next one.
    app.wechat_put("/_control/faults", json!({ "outOfOrderRate": 1.0 }))
        .await;
    let (id, origin) = deliver_through(&app, &shop).await;
    let view = pushes_settled(&app, &origin).await;
    assert!(
        view["pushes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["outOfOrder"] == true),
        "{view:#}"
    );
    // Let a check that follows a late push run (the order is new: any call is one of them;
    // later checks read the same settled state and change nothing).
    confirm_check_ran(&app, &origin, 0).await;
    let o = order(&app, &id).await;
    assert_eq!(
        (&o["status"], &o["rawStatus"]),
        (&json!("COMPLETED"), &json!("302"))
    );
    assert!(o["courier"]["name"].as_str().is_some(), "{o:#}");
    let raws = applied(&o);
    let mut unique = raws.clone();
    unique.dedup();
    assert_eq!(raws, unique, "each status applied once: {o:#}");
    let rank = |r: &str| {
        ["101", "102", "201", "202", "301", "302"]
            .iter()
            .position(|x| *x == r)
    };
    assert!(
        raws.windows(2).all(|w| rank(&w[0]) < rank(&w[1])),
        "never backwards: {o:#}"
    );
    assert!(
        o["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["applied"] == false),
        "the late ones are kept in the timeline: {o:#}"
    );
}
on_every_backend!(sandbox_push_faults_test, sandbox_push_faults);

/// Pushes that never arrive: the poller asks `order/get` and catches up, courier included.
async fn lost_pushes(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.wechat.poll_interval_ms = 300).await;
    let shop = app.wechat_shop(STORE).await;
    app.wechat_put("/_control/faults", json!({ "dropCallbackRate": 1.0 }))
        .await;
    let (id, origin) = placed(&app, &shop, "SFTC").await;
    control(&app, &origin, "assign", json!({})).await;
    let o = wait_raw(&app, &id, "102").await;
    assert_eq!(o["status"], "ACCEPTED");
    let view = sandbox_order(&app, &origin).await;
    assert_eq!(o["courier"]["name"], view["rider"]["name"], "{o:#}");
    let last = o["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["source"], &last["applied"]),
        (&json!("POLL"), &json!(true)),
        "{o:#}"
    );
    control(&app, &origin, "pickup", json!({})).await;
    control(&app, &origin, "deliver", json!({})).await;
    assert_eq!(wait_raw(&app, &id, "302").await["status"], "COMPLETED");
    assert!(
        view["pushes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["dropped"] == true)
    );
}
on_every_backend!(lost_pushes_test, lost_pushes, by_backend);

// ------------------------------------------------------------------------------ 5. tips

async fn tips(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let (id, origin) = placed(&app, &shop, "SFTC").await;
    let base = order(&app, &id).await["delivery"]["fees"]["total"]["fen"]
        .as_i64()
        .unwrap();

    let t = add_tip(&app, &id, 300).await;
    assert_eq!(t["userErrors"], json!([]), "{t:#}");
    assert_eq!(t["order"]["delivery"]["fees"]["tips"]["fen"], 300);
    assert_eq!(
        t["order"]["delivery"]["fees"]["total"]["fen"].as_i64(),
        Some(base + 300)
    );
    assert!(
        t["order"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "TIP_ADDED")
    );
    let view = sandbox_order(&app, &origin).await;
    assert_eq!(view["fee"]["tipsFen"], 300, "{view:#}");
    assert_eq!(view["chargedFen"].as_i64(), Some(base + 300));

    // Each tip must be larger than the last (the company's 10008); nothing changes.
    let before = order(&app, &id).await;
    for tip in [300, 200] {
        let t = add_tip(&app, &id, tip).await;
        assert_eq!(t["order"], Value::Null);
        assert_refused(&t, "PLATFORM_REJECTED", Some("10008"));
    }
    let t = add_tip(&app, &id, 0).await;
    assert_refused(&t, "INVALID_INPUT", None);
    assert_eq!(order(&app, &id).await, before);
    assert_eq!(sandbox_order(&app, &origin).await["fee"]["tipsFen"], 300);

    let t = add_tip(&app, &id, 500).await;
    assert_eq!(t["userErrors"], json!([]), "{t:#}");
    assert_eq!(t["order"]["delivery"]["fees"]["tips"]["fen"], 500);
    assert_eq!(
        t["order"]["delivery"]["fees"]["total"]["fen"].as_i64(),
        Some(base + 500)
    );
    assert_eq!(
        sandbox_order(&app, &origin).await["chargedFen"].as_i64(),
        Some(base + 500)
    );

    // Only while waiting for a rider (the company's 10007).
    control(&app, &origin, "assign", json!({})).await;
    let before = wait_raw(&app, &id, "102").await;
    let t = add_tip(&app, &id, 800).await;
    assert_refused(&t, "PLATFORM_REJECTED", Some("10007"));
    assert_eq!(order(&app, &id).await, before);
    assert_eq!(sandbox_order(&app, &origin).await["fee"]["tipsFen"], 500);
}
on_every_backend!(tips_test, tips);

// ---------------------------------------------------------------------------- 6. cancel

async fn cancel_with_penalty(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let (id, origin) = placed(&app, &shop, "SFTC").await;
    control(&app, &origin, "assign", json!({})).await;
    let before = wait_raw(&app, &id, "102").await;

    // The preview: SFTC keeps 2 yuan once a rider is assigned; nothing changes.
    let p = preview_cancel(&app, json!({ "orderId": id, "reasonId": 1 })).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    assert_eq!(p["penalty"]["fen"], 200);
    assert!(
        p["description"].as_str().is_some_and(|d| d.contains("2元")),
        "{p:#}"
    );
    assert_eq!(order(&app, &id).await, before);
    let view = sandbox_order(&app, &origin).await;
    assert_eq!(view["status"], 102);

    // "Other" needs a text: refused before WeChat is asked.
    let c = cancel(&app, json!({ "orderId": id, "reasonId": 6 })).await;
    assert_eq!(c["order"], Value::Null);
    assert_refused(&c, "INVALID_INPUT", None);
    let c = cancel(&app, json!({ "orderId": id, "reasonId": 9 })).await;
    assert_refused(&c, "INVALID_INPUT", None);
    assert_eq!(order(&app, &id).await, before);
    assert_eq!(sandbox_order(&app, &origin).await["status"], 102);

    // WeChat's push of the cancellation is held back here (see `cancellation_race` for why),
    // and delivered once the cancellation is written.
    app.wechat_put("/_control/faults", json!({ "dropCallbackRate": 1.0 }))
        .await;
    let c = cancel(&app, json!({ "orderId": id, "reasonId": 1 })).await;
    assert_eq!(c["userErrors"], json!([]), "{c:#}");
    assert_eq!(c["penalty"]["fen"], 200);
    let o = &c["order"];
    assert_eq!(
        (&o["status"], &o["rawStatus"]),
        (&json!("CANCELLED"), &json!("103"))
    );
    assert_eq!(o["delivery"]["fees"]["penalty"]["fen"], 200, "{c:#}");
    let view = sandbox_order(&app, &origin).await;
    assert_eq!(view["status"], 103);
    assert_eq!(view["deductFeeFen"], 200);
    assert_eq!(view["cancelReasonId"], 1);
    assert_eq!(
        view["cancelReason"], "暂时不需要邮寄",
        "the documented label"
    );
    // WeChat's own push of the cancellation changes nothing more.
    let (q, b) = sealed(&push_body(&view, 103));
    // Answered once applied (an agreeing repeat starts no check with WeChat).
    assert_eq!(post_push(&app, &q, &b).await.0, 200);
    let o = order(&app, &id).await;
    assert_eq!(
        (&o["status"], &o["rawStatus"]),
        (&json!("CANCELLED"), &json!("103"))
    );
    assert_eq!(o["delivery"]["fees"]["penalty"]["fen"], 200);
    assert_eq!(applied(&o), ["101", "102", "103"], "{o:#}");

    // Over is over: WeChat's 930565.
    let c = cancel(&app, json!({ "orderId": id, "reasonId": 1 })).await;
    assert_refused(&c, "PLATFORM_REJECTED", Some("930565"));
    assert_eq!(order(&app, &id).await, o);

    // A free text alone is "other" (6) with that text.
    let (id, origin) = placed(&app, &shop, "SS").await;
    let c = cancel(&app, json!({ "orderId": id, "reason": "顾客改主意了" })).await;
    assert_eq!(c["userErrors"], json!([]), "{c:#}");
    assert_eq!(c["penalty"]["fen"], 0, "free while waiting");
    let view = sandbox_order(&app, &origin).await;
    assert_eq!(view["cancelReasonId"], 6);
    assert_eq!(view["cancelReason"], "顾客改主意了");
    assert_eq!(c["order"]["cancelReason"], "顾客改主意了", "{c:#}");
}
on_every_backend!(cancel_with_penalty_test, cancel_with_penalty);

/// WeChat pushes the cancellation (103) as soon as it cancels, so its push can be written
/// before the app writes the answer of its own `order/cancel` (seen in about 3 % of runs
/// under load). This plays that interleaving deterministically: the push first (sealed here
/// from the sandbox's own 102 push), then the answer. The penalty and our reason must survive.
async fn cancellation_race(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    app.wechat_put("/_control/faults", json!({ "dropCallbackRate": 1.0 }))
        .await;
    let (id, origin) = placed(&app, &shop, "SFTC").await;
    control(&app, &origin, "assign", json!({})).await;
    let view = sandbox_order(&app, &origin).await;
    let (q, b) = sealed(&push_body(&view, 102));
    assert_eq!(post_push(&app, &q, &b).await.0, 200);
    let mut cancelled = push_body(&view, 102);
    cancelled["order_status"] = json!(103);
    cancelled["action_msg"] = json!("商家取消订单");
    let (q, b) = sealed(&cancelled);
    assert_eq!(post_push(&app, &q, &b).await.0, 200);

    let c = cancel(&app, json!({ "orderId": id, "reason": "顾客改主意了" })).await;
    assert_eq!(c["userErrors"], json!([]), "{c:#}");
    assert_eq!(c["penalty"]["fen"], 200);
    assert_eq!(sandbox_order(&app, &origin).await["deductFeeFen"], 200);
    let o = order(&app, &id).await;
    assert_eq!(o["status"], "CANCELLED");
    assert_eq!(
        (&o["delivery"]["fees"]["penalty"]["fen"], &o["cancelReason"]),
        (&json!(200), &json!("顾客改主意了")),
        "penalty and reason stored: {o:#}"
    );
}

on_every_backend!(cancellation_race_test, cancellation_race);

/// Issue 11 §4: with no reason at all, the preview and the cancellation go as "other" (6)
/// with a text, which WeChat requires with 6, instead of being refused.
async fn cancel_without_a_reason(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let (id, origin) = placed(&app, &shop, "SFTC").await;
    control(&app, &origin, "assign", json!({})).await;
    wait_raw(&app, &id, "102").await;

    let p = preview_cancel(&app, json!({ "orderId": id })).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    assert_eq!(p["penalty"]["fen"], 200, "{p:#}");
    assert_eq!(sandbox_order(&app, &origin).await["status"], 102);

    let c = cancel(&app, json!({ "orderId": id })).await;
    assert_eq!(c["userErrors"], json!([]), "{c:#}");
    assert_eq!(c["penalty"]["fen"], 200);
    let view = sandbox_order(&app, &origin).await;
    assert_eq!(view["status"], 103);
    assert_eq!(view["cancelReasonId"], 6);
    assert_eq!(view["cancelReason"], "其他原因");
    assert_eq!(order(&app, &id).await["cancelReason"], "其他原因");
}
on_every_backend!(cancel_without_a_reason_test, cancel_without_a_reason);

async fn dada_cannot_cancel_after_pickup(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let (id, origin) = placed(&app, &shop, "DADA").await;
    control(&app, &origin, "assign", json!({})).await;
    control(&app, &origin, "pickup", json!({})).await;
    wait_raw(&app, &id, "301").await;
    pushes_settled(&app, &origin).await;
    let before = order(&app, &id).await;

    let p = preview_cancel(&app, json!({ "orderId": id, "reasonId": 4 })).await;
    assert_eq!(p["penalty"], Value::Null);
    assert_refused(&p, "PLATFORM_REJECTED", Some("10009"));
    let c = cancel(&app, json!({ "orderId": id, "reasonId": 4 })).await;
    assert_eq!(c["order"], Value::Null);
    assert_refused(&c, "PLATFORM_REJECTED", Some("10009"));
    assert_eq!(order(&app, &id).await, before);
    let view = sandbox_order(&app, &origin).await;
    assert_eq!(view["status"], 301);
    assert_eq!(view["deductFeeFen"], 0);
}
on_every_backend!(
    dada_cannot_cancel_after_pickup_test,
    dada_cannot_cancel_after_pickup
);

/// SFTC allows cancelling after pick-up (10 yuan): WeChat then brings the goods back (303), to
/// be confirmed with confirm_return (401).
async fn cancel_after_pickup_brings_goods_back(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let (id, origin) = placed(&app, &shop, "SFTC").await;
    control(&app, &origin, "pickup", json!({})).await;
    wait_raw(&app, &id, "301").await;
    let p = preview_cancel(&app, json!({ "orderId": id, "reasonId": 2 })).await;
    assert_eq!(p["penalty"]["fen"], 1000, "{p:#}");
    let c = cancel(&app, json!({ "orderId": id, "reasonId": 2 })).await;
    assert_eq!(c["userErrors"], json!([]), "{c:#}");
    assert_eq!(c["penalty"]["fen"], 1000);
    let view = pushes_settled(&app, &origin).await;
    assert_eq!(view["status"], 303, "{view:#}");
    let o = app
        .eventually(10, || async {
            let o = order(&app, &id).await;
            (o["rawStatus"] == "303").then_some(o)
        })
        .await;
    assert_eq!(
        (&o["status"], &o["rawStatus"]),
        (&json!("RETURNING"), &json!("303")),
        "the platform says the goods are on their way back: {o:#}"
    );
    let r = order_mutation(
        &app,
        "confirmReturnedGoods",
        "OrderIdInput",
        json!({ "orderId": id }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r:#}");
    let o = wait_raw(&app, &id, "401").await;
    assert_eq!(o["status"], "RETURNED");
}
on_every_backend!(
    cancel_after_pickup_brings_goods_back_test,
    cancel_after_pickup_brings_goods_back
);

// ---------------------------------------------------------------------- 7. returned goods

async fn returned_goods(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let (id, origin) = placed(&app, &shop, "SFTC").await;

    // Nothing is coming back while the order waits: the company's 10012, nothing changed.
    let before = order(&app, &id).await;
    let r = order_mutation(
        &app,
        "confirmReturnedGoods",
        "OrderIdInput",
        json!({ "orderId": id }),
    )
    .await;
    assert_eq!(r["order"], Value::Null);
    assert_refused(&r, "PLATFORM_REJECTED", Some("10012"));
    assert_eq!(order(&app, &id).await, before);
    assert_eq!(sandbox_order(&app, &origin).await["status"], 101);

    control(&app, &origin, "pickup", json!({})).await;
    wait_raw(&app, &id, "301").await;
    control(&app, &origin, "return", json!({ "reason": 304 })).await;
    let o = wait_raw(&app, &id, "304").await;
    assert_eq!(o["status"], "RETURNING");

    let r = order_mutation(
        &app,
        "confirmReturnedGoods",
        "OrderIdInput",
        json!({ "orderId": id }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r:#}");
    assert!(
        r["order"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "RETURNED_GOODS_CONFIRMED"),
        "{r:#}"
    );
    // The platform's push says the goods are back.
    let o = wait_raw(&app, &id, "401").await;
    assert_eq!(o["status"], "RETURNED");
    let last = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["kind"] == "STATUS")
        .unwrap()
        .clone();
    assert_eq!(last["source"], "CALLBACK");
    let view = sandbox_order(&app, &origin).await;
    assert_eq!(view["status"], 401);
    assert!(view["returnRemark"].as_str().is_some(), "{view:#}");
}
on_every_backend!(returned_goods_test, returned_goods);

// -------------------------------------------------------------------------- 8. redispatch

async fn redispatch(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let (id, origin) = placed(&app, &shop, "SFTC").await;
    let first_waybill = order(&app, &id).await["delivery"]["platformOrderId"].clone();

    // A waiting order cannot go again: the company's 10011, nothing changed.
    let before = order(&app, &id).await;
    let r = order_mutation(
        &app,
        "redispatchDelivery",
        "OrderIdInput",
        json!({ "orderId": id }),
    )
    .await;
    assert_eq!(r["order"], Value::Null);
    assert_refused(&r, "PLATFORM_REJECTED", Some("10011"));
    assert_eq!(order(&app, &id).await, before);
    assert_eq!(sandbox_order(&app, &origin).await["readds"], 0);

    // The company gives up (501): cancelled; then it goes again as the same order.
    control(&app, &origin, "cancel-by-system", json!({})).await;
    let o = wait_raw(&app, &id, "501").await;
    assert_eq!(o["status"], "CANCELLED");
    let r = order_mutation(
        &app,
        "redispatchDelivery",
        "OrderIdInput",
        json!({ "orderId": id }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r:#}");
    let o = &r["order"];
    assert_eq!(
        (&o["status"], &o["rawStatus"]),
        (&json!("PENDING"), &json!("101"))
    );
    assert_eq!(o["delivery"]["dispatchRound"], 2);
    assert_eq!(o["delivery"]["originId"], origin.as_str());
    assert_eq!(o["courier"], Value::Null);
    assert_ne!(
        o["delivery"]["platformOrderId"], first_waybill,
        "a new waybill"
    );
    let view = sandbox_order(&app, &origin).await;
    assert_eq!((&view["status"], &view["readds"]), (&json!(101), &json!(1)));
    assert_eq!(o["delivery"]["platformOrderId"], view["waybillId"]);

    // The new round moves on as usual.
    control(&app, &origin, "assign", json!({})).await;
    assert_eq!(wait_raw(&app, &id, "102").await["status"], "ACCEPTED");
}
on_every_backend!(redispatch_test, redispatch);

// ------------------------------------------------------------------------ 9. access_token

async fn issued_tokens(app: &TestApp) -> u64 {
    app.wechat_get("/_control/tokens").await["issued"]
        .as_u64()
        .expect("issued")
}

async fn access_token_refreshed_once(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let q = quote(&app, delivery(&shop, Some("SFTC"), json!({}))).await;
    assert_eq!(q["userErrors"], json!([]), "{q:#}");
    let issued = issued_tokens(&app).await;
    assert!(issued >= 1);

    // WeChat ends every token: the next call is refused (42001), the app fetches one new token
    // and retries.
    let (status, v) = app.wechat_post("/_control/tokens/expire", json!({})).await;
    assert_eq!(status, 200, "{v}");
    let q = quote(&app, delivery(&shop, Some("SFTC"), json!({}))).await;
    assert_eq!(q["userErrors"], json!([]), "{q:#}");
    assert_eq!(q["quotes"].as_array().unwrap().len(), 1);
    assert_eq!(issued_tokens(&app).await, issued + 1);

    // Ten callers at once, each asking every company, right after the tokens ended: still
    // one fetch.
    app.wechat_post("/_control/tokens/expire", json!({})).await;
    let calls = (0..10).map(|_| quote(&app, delivery(&shop, None, json!({}))));
    for q in futures::future::join_all(calls).await {
        assert_eq!(q["userErrors"], json!([]), "{q:#}");
        assert_eq!(q["quotes"].as_array().unwrap().len(), 4);
    }
    assert_eq!(issued_tokens(&app).await, issued + 2);
    let tokens = app.wechat_get("/_control/tokens").await;
    assert_eq!(tokens["active"], 1, "{tokens}");
}
on_every_backend!(
    access_token_refreshed_once_test,
    access_token_refreshed_once
);

// ------------------------------------------------------------------ 10. quota and the mock

async fn daily_quota(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    placed(&app, &shop, "SFTC").await;
    let quota = app.wechat_get("/_control/quota").await;
    let used = quota["usedToday"].as_u64().unwrap();
    assert_eq!(used, 1, "{quota}");
    app.wechat_put("/_control/quota", json!({ "dailyQuota": used }))
        .await;

    let orders_before = wechat_orders(&app).await;
    let d = dispatch(&app, &shop, "SFTC", json!({})).await;
    assert_eq!(d["order"], Value::Null);
    assert_refused(&d, "PLATFORM_REJECTED", Some("930564"));
    assert_eq!(wechat_orders(&app).await, orders_before, "no order left");
    assert_eq!(
        app.wechat_get("/_control/orders")
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // Quoting costs no quota.
    let q = quote(&app, delivery(&shop, Some("SFTC"), json!({}))).await;
    assert_eq!(q["userErrors"], json!([]), "{q:#}");

    app.wechat_put("/_control/quota", json!({ "dailyQuota": used + 1 }))
        .await;
    placed(&app, &shop, "SFTC").await;
}
on_every_backend!(daily_quota_test, daily_quota);

/// mockUpdateOrder (`test_update_order`) as WeChat's developer tools call it: the adapter has
/// it, but no mutation exposes it, so the test calls the sandbox's platform route itself.
async fn test_company_moved_by_mock(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let p = dispatch(&app, &shop, "TEST", json!({})).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    let id = p["order"]["id"].as_str().unwrap().to_owned();
    let origin = p["order"]["delivery"]["originId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        p["order"]["delivery"]["platformOrderId"],
        format!("{origin}_waybillid")
    );

    let cfg = sandbox_config();
    let token: Value = app
        .http
        .get(app.wechat("/cgi-bin/token"))
        .query(&[
            ("grant_type", "client_credential"),
            ("appid", cfg.appid.as_str()),
            ("secret", cfg.secret.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().expect("token").to_owned();
    let mock = |status: i64, action_time: i64| {
        let (app, token, origin) = (&app, &token, &origin);
        async move {
            let v: Value = app
                .http
                .post(app.wechat("/cgi-bin/express/local/business/test_update_order"))
                .query(&[("access_token", token.as_str())])
                .json(&json!({
                    "shopid": "test_shop_id", "shop_order_id": origin,
                    "action_time": action_time, "order_status": status, "action_msg": ""
                }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(v["resultcode"], 0, "{v}");
        }
    };
    let now = Utc::now().timestamp();
    mock(102, now).await;
    let o = wait_raw(&app, &id, "102").await;
    assert_eq!(o["status"], "ACCEPTED");
    // WeChat's test company pushes another waybill id than it answered; the order is found by
    // our reference all the same.
    assert_eq!(
        o["delivery"]["platformOrderId"],
        format!("test_waybill_id_{origin}"),
        "{o:#}"
    );
    mock(302, now + 1).await;
    assert_eq!(wait_raw(&app, &id, "302").await["status"], "COMPLETED");
    // The mock may move backwards; we do not.
    let gets = get_calls(&app, &origin).await;
    mock(202, now - 60).await;
    let view = pushes_settled(&app, &origin).await;
    assert_eq!(view["status"], 202);
    confirm_check_ran(&app, &origin, gets).await;
    let o = order(&app, &id).await;
    assert_eq!(
        (&o["status"], &o["rawStatus"]),
        (&json!("COMPLETED"), &json!("302"))
    );
    assert_eq!(applied(&o), ["101", "102", "302"], "{o:#}");
}
on_every_backend!(test_company_moved_by_mock_test, test_company_moved_by_mock);

// -------------------------------------------------------------------- 11. platform errors

/// WeChat answers "system busy" (-1) to everything. The app cannot tell whether the company
/// took the order (it classes -1 as an unknown outcome), so the dispatch is refused with
/// PROVIDER_UNAVAILABLE but the order is kept, marked SUBMIT_UNKNOWN, until the poller learns
/// from WeChat that it never arrived.
async fn platform_errors(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.wechat.poll_interval_ms = 300).await;
    let shop = app.wechat_shop(STORE).await;
    // A token first, so the fault hits the dispatch itself.
    let q = quote(&app, delivery(&shop, Some("SFTC"), json!({}))).await;
    assert_eq!(q["userErrors"], json!([]), "{q:#}");

    app.wechat_put("/_control/faults", json!({ "errorRate": 1.0 }))
        .await;
    let d = dispatch(&app, &shop, "SFTC", json!({})).await;
    assert_eq!(d["order"], Value::Null);
    assert_refused(&d, "PROVIDER_UNAVAILABLE", None);
    assert_eq!(
        app.wechat_get("/_control/orders").await,
        json!([]),
        "nothing at the platform"
    );
    let kept = wechat_orders(&app).await;
    assert_eq!(kept.len(), 1, "kept while the outcome is unknown: {d:#}");
    let listed = app
        .gql_ok(
            "{ orders(filter: {provider: WECHAT}, first: 5) { nodes { id status rawStatus } } }",
            json!({}),
        )
        .await;
    let o = listed["orders"]["nodes"][0].clone();
    assert_eq!(
        (&o["status"], &o["rawStatus"]),
        (&json!("PENDING"), &json!("SUBMIT_UNKNOWN")),
        "{o:#}"
    );
    // Quoting is refused the same way and stores nothing.
    let q = quote(&app, delivery(&shop, Some("SFTC"), json!({}))).await;
    assert_eq!(q["quotes"], json!([]));
    assert_refused(&q, "PROVIDER_UNAVAILABLE", None);

    // WeChat recovers: asked by our reference, it has no such order (930563).
    app.wechat_put("/_control/faults", json!({ "errorRate": 0.0 }))
        .await;
    let id = o["id"].as_str().unwrap();
    let failed = app
        .eventually(10, || async {
            let o = order(&app, id).await;
            (o["status"] == "FAILED").then_some(o)
        })
        .await;
    assert_eq!(failed["rawStatus"], "NOT_SUBMITTED", "{failed:#}");
    assert_eq!(app.wechat_get("/_control/orders").await, json!([]));
}
on_every_backend!(platform_errors_test, platform_errors, by_backend);

// ------------------------------------------------------------------ plain-mode message push

/// With the mini-program's push in plain mode (no encryption, `signature` over token,
/// timestamp and nonce), pushes still verify, apply and are answered in plain JSON.
async fn plain_mode_pushes(backend: crate::helpers::Backend) {
    let app = TestApp::spawn_with(backend, |c| c.sandbox.wechat.safe_mode = false).await;
    let shop = app.wechat_shop(STORE).await;
    let (id, origin) = placed(&app, &shop, "SFTC").await;
    control(&app, &origin, "assign", json!({})).await;
    let o = wait_raw(&app, &id, "102").await;
    assert_eq!(o["status"], "ACCEPTED");
    assert!(o["courier"]["name"].as_str().is_some(), "{o:#}");
    let view = app.wechat_get(&format!("/_control/orders/{origin}")).await;
    let pushes = view["pushes"].as_array().expect("pushes");
    assert!(
        pushes.iter().all(|p| p["delivered"] == true),
        "accepted on the plain reply: {view:#}"
    );

    // A forged plain push (wrong signature) changes nothing.
    let r = app
        .http
        .post(format!(
            "{}/callbacks/wechat?signature={}&timestamp=1714037059&nonce=486452656",
            app.base,
            "0".repeat(40)
        ))
        .json(&json!({
            "ToUserName": "gh_x", "FromUserName": "o_x", "CreateTime": 1714037059,
            "MsgType": "event", "Event": "update_waybill_status",
            "shop_order_id": origin, "order_status": 302, "action_time": 4102444800i64
        }))
        .send()
        .await
        .expect("push");
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(order(&app, &id).await["status"], "ACCEPTED");
}

on_every_backend!(plain_mode_pushes_test, plain_mode_pushes, by_backend);

// ------------------------------------------------------------------ simulated status (TEST)

const SIMULATE: &str =
    "mutation($id: ID!, $s: Int!) { simulateDeliveryStatus(input: {orderId: $id, rawStatus: $s}) {
    order { id } userErrors { code platformCode message } } }";

/// WeChat's TEST company moves only through `test_update_order`, now reachable through the
/// API; other companies refuse it (930561) and nothing changes.
async fn simulated_test_company(app: TestApp) {
    let shop = app.wechat_shop(STORE).await;
    let (id, _) = placed(&app, &shop, "TEST").await;
    let r = app.gql_ok(SIMULATE, json!({ "id": id, "s": 102 })).await;
    assert_eq!(
        r["simulateDeliveryStatus"]["userErrors"],
        json!([]),
        "{r:#}"
    );
    assert_eq!(wait_raw(&app, &id, "102").await["status"], "ACCEPTED");

    let (other, _) = placed(&app, &shop, "SFTC").await;
    let r = app.gql_ok(SIMULATE, json!({ "id": other, "s": 102 })).await;
    assert_eq!(
        r["simulateDeliveryStatus"]["userErrors"][0]["platformCode"], "930561",
        "{r:#}"
    );
    assert_eq!(order(&app, &other).await["rawStatus"], "101");
}
on_every_backend!(simulated_test_company_test, simulated_test_company);
