//! Unit tests of `callback.rs`.

use chrono::TimeZone;
use serde_json::{Value, json};

use super::*;

const APPID: &str = "wxba5fad812f8e6fb9";

fn cfg(safe_mode: bool) -> PushConfig {
    PushConfig {
        token: SecretString::from("AAAAA".to_owned()),
        aes_key: SecretString::from("A".repeat(43)),
        appid: APPID.into(),
        safe_mode,
    }
}

fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn waybill_message() -> Value {
    json!({
        "ToUserName": "gh_97417a04a28d",
        "FromUserName": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
        "CreateTime": 1714112445,
        "MsgType": "event",
        "Event": "update_waybill_status",
        "shopid": "test_shop_id",
        "shop_order_id": "A1",
        "shop_no": "S1",
        "waybill_id": "test_waybill_id_A1",
        "action_time": 1714112440,
        "order_status": 102,
        "action_msg": "",
        "agent": {"name": "测试骑手", "phone": "13800000000", "reach_time": 0}
    })
}

/// A safe-mode push of `message` as WeChat would post it.
fn sealed_push(
    message: &Value,
    timestamp: &str,
    nonce: &str,
) -> (HashMap<String, String>, Vec<u8>) {
    let key = AesKey::from_encoding_key(&"A".repeat(43)).unwrap();
    let encrypt = crypto::encrypt(&message.to_string(), APPID, &key, b"0123456789abcdef").unwrap();
    let msg_signature = sign::msg_signature("AAAAA", timestamp, nonce, &encrypt);
    let signature = sign::url_signature("AAAAA", timestamp, nonce);
    let q = query(&[
        ("signature", &signature),
        ("timestamp", timestamp),
        ("nonce", nonce),
        ("encrypt_type", "aes"),
        ("msg_signature", &msg_signature),
    ]);
    let body = json!({"ToUserName": "gh_97417a04a28d", "Encrypt": encrypt}).to_string();
    (q, body.into_bytes())
}

#[test]
fn url_check_echoes_only_when_signed() {
    let good = query(&[
        ("signature", "f464b24fc39322e44b38aa78f5edd27bd1441696"),
        ("echostr", "4375120948345356249"),
        ("timestamp", "1714036504"),
        ("nonce", "1514711492"),
    ]);
    assert_eq!(
        verify_url(&cfg(true), &good).as_deref(),
        Some("4375120948345356249")
    );
    let mut bad = good.clone();
    bad.insert("nonce".into(), "1514711493".into());
    assert_eq!(verify_url(&cfg(true), &bad), None);
    let mut no_echo = good.clone();
    no_echo.remove("echostr");
    assert_eq!(verify_url(&cfg(true), &no_echo), None);
    let mut no_sig = good;
    no_sig.remove("signature");
    assert_eq!(verify_url(&cfg(true), &no_sig), None);
}

#[test]
fn official_safe_mode_push_verifies_and_decrypts_to_another_event() {
    let q = query(&[
        ("timestamp", "1714112445"),
        ("nonce", "415670741"),
        ("encrypt_type", "aes"),
        ("msg_signature", "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"),
    ]);
    let body = json!({
        "ToUserName": "gh_97417a04a28d",
        "Encrypt": "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="
    })
    .to_string();
    assert_eq!(
        parse_push(&cfg(true), &q, body.as_bytes()),
        Err(PushError::NotWaybillEvent("debug_demo".into()))
    );
    let mut other_app = cfg(true);
    other_app.appid = "wx0000000000000000".into();
    assert_eq!(
        parse_push(&other_app, &q, body.as_bytes()),
        Err(PushError::WrongApp)
    );
}

#[test]
fn safe_mode_waybill_push() {
    let (q, body) = sealed_push(&waybill_message(), "1714112445", "415670741");
    let p = parse_push(&cfg(true), &q, &body).unwrap();
    assert_eq!(p.shop_order_id, "A1");
    assert_eq!(p.waybill_id.as_deref(), Some("test_waybill_id_A1"));
    assert_eq!(p.shopid.as_deref(), Some("test_shop_id"));
    assert_eq!(p.shop_no.as_deref(), Some("S1"));
    assert_eq!(p.status_code, 102);
    assert_eq!(p.status, OrderStatus::Accepted);
    assert_eq!(p.raw_status, "102");
    assert_eq!(p.action_time, Utc.timestamp_opt(1_714_112_440, 0).unwrap());
    assert_eq!(p.action_msg, None);
    assert_eq!(p.courier.name.as_deref(), Some("测试骑手"));
    assert_eq!(p.courier.phone.as_deref(), Some("13800000000"));
    assert_eq!(p.reach_time, None);
    assert_eq!(p.to_user, "gh_97417a04a28d");
    assert_eq!(p.from_user, "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
    assert_eq!(p.dedup_key, "A1:102:1714112440");
}

#[test]
fn event_name_is_case_insensitive_and_numbers_may_be_strings() {
    let mut m = waybill_message();
    m["Event"] = json!("Update_Waybill_Status");
    m["order_status"] = json!("301");
    m["action_time"] = json!("1714112440");
    m["agent"]["reach_time"] = json!(1714113000);
    let (q, body) = sealed_push(&m, "1", "2");
    let p = parse_push(&cfg(true), &q, &body).unwrap();
    assert_eq!(p.status, OrderStatus::InProgress);
    assert_eq!(
        p.reach_time,
        Some(Utc.timestamp_opt(1_714_113_000, 0).unwrap())
    );
    assert_eq!(p.dedup_key, "A1:301:1714112440");
}

#[test]
fn wrong_msg_signature_is_refused() {
    let (mut q, body) = sealed_push(&waybill_message(), "1714112445", "415670741");
    q.insert("msg_signature".into(), "0".repeat(40));
    assert_eq!(
        parse_push(&cfg(true), &q, &body),
        Err(PushError::BadSignature)
    );
    // The URL signature alone does not do in safe mode.
    q.remove("msg_signature");
    assert_eq!(
        parse_push(&cfg(true), &q, &body),
        Err(PushError::BadSignature)
    );
    // A replayed body under another timestamp.
    let (mut q, body) = sealed_push(&waybill_message(), "1714112445", "415670741");
    q.insert("timestamp".into(), "1714112446".into());
    assert_eq!(
        parse_push(&cfg(true), &q, &body),
        Err(PushError::BadSignature)
    );
}

#[test]
fn tampered_encrypted_body_is_refused() {
    let (q, body) = sealed_push(&waybill_message(), "1714112445", "415670741");
    let mut envelope: Value = serde_json::from_slice(&body).unwrap();
    let encrypt = envelope["Encrypt"].as_str().unwrap().to_owned();
    // Swap one Base64 character: the signature no longer matches.
    let tampered = format!(
        "{}{}",
        if encrypt.starts_with('A') { "B" } else { "A" },
        &encrypt[1..]
    );
    envelope["Encrypt"] = json!(tampered);
    let tampered_body = envelope.to_string();
    assert_eq!(
        parse_push(&cfg(true), &q, tampered_body.as_bytes()),
        Err(PushError::BadSignature)
    );
    // Tampered and re-signed by someone with the Token but not the key: does not decrypt.
    let msg_signature = sign::msg_signature("AAAAA", "1714112445", "415670741", &tampered);
    let mut q2 = q.clone();
    q2.insert("msg_signature".into(), msg_signature);
    assert!(matches!(
        parse_push(&cfg(true), &q2, tampered_body.as_bytes()),
        Err(PushError::Decrypt(_) | PushError::Malformed(_))
    ));
    // Garbage in Encrypt, correctly signed.
    let garbage = "not base64 at all";
    let msg_signature = sign::msg_signature("AAAAA", "1714112445", "415670741", garbage);
    let mut q3 = q;
    q3.insert("msg_signature".into(), msg_signature);
    let body = json!({"ToUserName": "gh", "Encrypt": garbage}).to_string();
    assert!(matches!(
        parse_push(&cfg(true), &q3, body.as_bytes()),
        Err(PushError::Decrypt(_))
    ));
}

#[test]
fn wrong_key_does_not_decrypt() {
    let (q, body) = sealed_push(&waybill_message(), "1714112445", "415670741");
    let mut other = cfg(true);
    other.aes_key = SecretString::from("B".repeat(43));
    assert!(matches!(
        parse_push(&other, &q, &body),
        Err(PushError::Decrypt(_) | PushError::Malformed(_) | PushError::WrongApp)
    ));
    let mut broken = cfg(true);
    broken.aes_key = SecretString::from("short".to_owned());
    assert!(matches!(
        parse_push(&broken, &q, &body),
        Err(PushError::Decrypt(_))
    ));
}

#[test]
fn safe_mode_refuses_plain_bodies() {
    let q = query(&[
        ("signature", "899cf89e464efb63f54ddac96b0a0a235f53aa78"),
        ("timestamp", "1714037059"),
        ("nonce", "486452656"),
    ]);
    let body = waybill_message().to_string();
    assert!(matches!(
        parse_push(&cfg(true), &q, body.as_bytes()),
        Err(PushError::Malformed(_))
    ));
    assert!(matches!(
        parse_push(&cfg(true), &q, b"not json"),
        Err(PushError::Malformed(_))
    ));
}

#[test]
fn plain_mode_push() {
    // The official plain-mode signature.
    let q = query(&[
        ("signature", "899cf89e464efb63f54ddac96b0a0a235f53aa78"),
        ("timestamp", "1714037059"),
        ("nonce", "486452656"),
    ]);
    let body = waybill_message().to_string();
    let p = parse_push(&cfg(false), &q, body.as_bytes()).unwrap();
    assert_eq!(p.status, OrderStatus::Accepted);
    let mut bad = q.clone();
    bad.insert(
        "signature".into(),
        "899cf89e464efb63f54ddac96b0a0a235f53aa79".into(),
    );
    assert_eq!(
        parse_push(&cfg(false), &bad, body.as_bytes()),
        Err(PushError::BadSignature)
    );
    let official = json!({
        "ToUserName": "gh_97417a04a28d", "FromUserName": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
        "CreateTime": 1714037059, "MsgType": "event", "Event": "debug_demo",
        "debug_str": "hello world"
    })
    .to_string();
    assert_eq!(
        parse_push(&cfg(false), &q, official.as_bytes()),
        Err(PushError::NotWaybillEvent("debug_demo".into()))
    );
}

#[test]
fn missing_fields_and_unknown_statuses() {
    let q = query(&[
        ("signature", "899cf89e464efb63f54ddac96b0a0a235f53aa78"),
        ("timestamp", "1714037059"),
        ("nonce", "486452656"),
    ]);
    let parse = |m: Value| parse_push(&cfg(false), &q, m.to_string().as_bytes());
    for field in ["shop_order_id", "order_status", "action_time"] {
        let mut m = waybill_message();
        m.as_object_mut().map(|o| o.remove(field));
        assert!(matches!(parse(m), Err(PushError::Malformed(_))), "{field}");
    }
    let mut m = waybill_message();
    m["order_status"] = json!(402);
    assert_eq!(parse(m), Err(PushError::UnknownStatus(402)));
    let mut m = waybill_message();
    m["order_status"] = json!("abc");
    assert!(matches!(parse(m), Err(PushError::Malformed(_))));
    let mut m = waybill_message();
    m["MsgType"] = json!("text");
    assert_eq!(parse(m), Err(PushError::NotWaybillEvent("text".into())));
    let mut m = waybill_message();
    m["action_time"] = json!(-5);
    assert!(matches!(parse(m), Err(PushError::Malformed(_))));
    let mut m = waybill_message();
    m.as_object_mut().map(|o| o.remove("agent"));
    assert_eq!(parse(m).map(|p| p.courier), Ok(Courier::default()));
}

#[test]
fn official_reply_vector_seals_exactly() {
    let sealed = seal(
        &cfg(true),
        r#"{"demo_resp":"good luck"}"#,
        1_713_424_427,
        "415670741",
        b"707722b803182950",
    )
    .unwrap();
    let v: Value = serde_json::from_str(&sealed).unwrap();
    assert_eq!(
        v,
        json!({
            "Encrypt": "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==",
            "MsgSignature": "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1",
            "TimeStamp": 1713424427,
            "Nonce": "415670741"
        })
    );
}

#[test]
fn replies_swap_the_names() {
    let plain = reply_with(
        &cfg(false),
        "gh_97417a04a28d",
        "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
        0,
        "ok",
        1_714_112_445,
        "1",
        &[0; 16],
    );
    let v: Value = serde_json::from_str(&plain).unwrap();
    assert_eq!(
        v,
        json!({
            "ToUserName": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
            "FromUserName": "gh_97417a04a28d",
            "CreateTime": 1714112445,
            "MsgType": "event",
            "Event": "update_waybill_status",
            "resultcode": 0,
            "resultmsg": "ok"
        })
    );

    // Safe mode: the same JSON inside, signed over the envelope's own timestamp and nonce.
    let sealed = reply(
        &cfg(true),
        "gh_97417a04a28d",
        "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
        0,
        "ok",
    );
    let v: Value = serde_json::from_str(&sealed).unwrap();
    let encrypt = v["Encrypt"].as_str().unwrap();
    let timestamp = v["TimeStamp"].as_i64().unwrap().to_string();
    let nonce = v["Nonce"].as_str().unwrap();
    assert_eq!(
        v["MsgSignature"].as_str().unwrap(),
        sign::msg_signature("AAAAA", &timestamp, nonce, encrypt)
    );
    let key = AesKey::from_encoding_key(&"A".repeat(43)).unwrap();
    let (inner, appid) = crypto::decrypt(encrypt, &key).unwrap();
    assert_eq!(appid, APPID);
    let inner: Value = serde_json::from_str(&inner).unwrap();
    assert_eq!(inner["ToUserName"], json!("o9AgO5Kd5ggOC-bXrbNODIiE3bGY"));
    assert_eq!(inner["resultcode"], json!(0));

    // An unusable key falls back to the plain reply rather than failing.
    let mut broken = cfg(true);
    broken.aes_key = SecretString::from("short".to_owned());
    let fallback: Value = serde_json::from_str(&reply(&broken, "gh", "o", 1, "busy")).unwrap();
    assert_eq!(fallback["resultcode"], json!(1));
}

#[test]
fn debug_hides_the_secrets() {
    let text = format!("{:?}", cfg(true));
    assert!(!text.contains("AAAAA"), "{text}");
}
