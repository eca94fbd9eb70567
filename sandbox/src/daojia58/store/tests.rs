//! Unit tests of the store.

use super::*;

fn state() -> State {
    State::new(
        Schedule {
            push_every_secs: None,
            ack_deadline_ms: 5_000,
            push_retry_initial_ms: 1_000,
            push_max_attempts: 6,
        },
        FaultSet::default(),
    )
}

#[test]
fn backoff_doubles_and_caps() {
    let s = state().schedule;
    assert_eq!(s.backoff(1), TimeDelta::seconds(1));
    assert_eq!(s.backoff(2), TimeDelta::seconds(2));
    assert_eq!(s.backoff(5), TimeDelta::seconds(16));
    assert_eq!(s.backoff(7), TimeDelta::seconds(60));
    assert_eq!(s.backoff(500), TimeDelta::seconds(60));
}

#[test]
fn ids_count_up_after_the_example() {
    let mut s = state();
    let now = Utc::now();
    let a = s.create_order(&Overrides::default(), Origin::Control, now);
    let b = s.create_order(&Overrides::default(), Origin::Control, now);
    assert_eq!(a, Ok(EXAMPLE_ORDER_ID + 1));
    assert_eq!(b, Ok(EXAMPLE_ORDER_ID + 2));
    let taken = Overrides {
        order_id: Some(EXAMPLE_ORDER_ID + 3),
        ..Overrides::default()
    };
    assert!(s.create_order(&taken, Origin::Control, now).is_ok());
    assert!(s.create_order(&taken, Origin::Control, now).is_err());
    assert_eq!(
        s.create_order(&Overrides::default(), Origin::Control, now),
        Ok(EXAMPLE_ORDER_ID + 4)
    );
}

#[test]
fn overridden_lines_set_the_total() {
    let mut s = state();
    let o: Overrides = serde_json::from_value(serde_json::json!({
        "cityName": "上海",
        "orderDetails": [
            {"goodsId": 1, "goodsNumber": 3, "goodsPrice": "35.5"},
            {"goodsId": 2, "goodsNumber": 1, "goodsPrice": 0.1}
        ],
        "serviceBeginTime": "2030-01-01 09:00:00",
        "serviceDuration": 3
    }))
    .unwrap_or_default();
    let id = s.create_order(&o, Origin::Control, Utc::now());
    let order = id.ok().and_then(|id| s.orders.get(&id));
    let Some(order) = order else {
        panic!("created")
    };
    assert_eq!(order.total_fen, 10_660);
    assert_eq!(order.create.city_id, 2);
    assert_eq!(order.create.service_end_time, "2030-01-01 12:00:00");
    assert!(
        order.daojia_json.contains(r#""totalPrice":106.6"#),
        "{}",
        order.daojia_json
    );
}

#[test]
fn update_bodies() {
    let ok = UpdateRequest::parse(
        r#"{"orderId":"31421593368511489","thirdOrderId":"OH-1","orderStatus":20,
            "serviceUserName":"王师傅","serviceUserPhone":"13800138000",
            "orderDetails":[{"goodsId":2,"goodsNumber":1,"goodsPrice":10},{"goodsId":1,"goodsNumber":2,"goodsPrice":"0.5"}]}"#,
    );
    let Ok(ok) = ok else { panic!("{ok:?}") };
    assert_eq!(ok.order_id, 31_421_593_368_511_489);
    assert_eq!(ok.status, Status::Accepted);
    assert_eq!(ok.total_fen, Some(1_100));
    assert_eq!(ok.lines.as_ref().map(|l| l[0].goods_id), Some(1));
    for bad in [
        r#"{"thirdOrderId":"OH-1","orderStatus":20}"#,
        r#"{"orderId":1,"orderStatus":20}"#,
        r#"{"orderId":1,"thirdOrderId":"OH-1"}"#,
        r#"{"orderId":1,"thirdOrderId":"OH-1","orderStatus":25}"#,
        r#"{"orderId":1.5,"thirdOrderId":"OH-1","orderStatus":20}"#,
        r#"{"orderId":1,"thirdOrderId":"OH-1","orderStatus":20,"serviceUserPhone":"123"}"#,
        r#"{"orderId":1,"thirdOrderId":"OH-1","orderStatus":20,"totalPrice":5,"orderDetails":[{"goodsId":1,"goodsNumber":1,"goodsPrice":4}]}"#,
        r#"{"orderId":1,"thirdOrderId":"OH-1","orderStatus":20,"orderDetails":[]}"#,
        r#"{"orderId":1,"thirdOrderId":"OH-1","orderStatus":20,"totalPrice":"1.001"}"#,
        "[]",
    ] {
        assert_eq!(
            UpdateRequest::parse(bad).err().map(|r| r.code),
            Some(code::BAD_PARAMS),
            "{bad}"
        );
    }
}

#[test]
fn faults_validate() {
    let mut f = FaultSet::default();
    assert!(f.validate().is_ok());
    f.timeout_rate = 2.0;
    assert!(f.validate().is_err());
    f.timeout_rate = 0.0;
    f.faults.drop_callback_rate = 0.5;
    assert!(f.validate().is_err());
    let parsed: Result<FaultSet, _> = serde_json::from_str(r#"{"errorRate":0.5,"timeoutRate":1}"#);
    let Ok(parsed) = parsed else { panic!("parse") };
    assert_eq!(parsed.faults.error_rate, 0.5);
    assert_eq!(parsed.hang_ms, 30_000);
    assert_eq!(parsed.slow_ms, 2_000);
    let plan = parsed.plan();
    assert!(plan.error.is_some() || (plan.withheld && plan.answer_delay_ms == 30_000));
}
