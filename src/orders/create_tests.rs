//! Unit tests of the service-order rules (shop hours, notice, minimums).
use super::*;

fn shop() -> shop::Model {
    shop::Model {
        id: 1,
        provider: "DAOWAY".into(),
        external_id: "s".into(),
        category_external_id: None,
        title: "t".into(),
        description: None,
        city: None,
        image_urls: "[]".into(),
        tag_icons: "[]".into(),
        start_time: Some("08:00".into()),
        end_time: Some("18:00".into()),
        available_days: Some("0,1,2,3,4".into()),
        ahead_minutes: Some(24 * 60),
        fix_fee_fen: Some(0),
        no_fix_fee_price_fen: Some(0),
        min_buy_price_fen: Some(5000),
        lng: None,
        lat: None,
        main_price_external_id: None,
        detail_fetched_at: None,
        fetched_at: Utc::now(),
        stale: false,
        address: None,
        area_name: None,
        contact_name: None,
        contact_phone: None,
        business_type: None,
        city_code: None,
        open: None,
    }
}

fn at(s: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .unwrap()
        .and_local_timezone(china_offset())
        .unwrap()
        .with_timezone(&Utc)
}

fn codes(r: Result<(), OrderError>) -> Vec<UserErrorCode> {
    match r {
        Ok(()) => vec![],
        Err(OrderError::User(e)) => e.into_iter().map(|e| e.code).collect(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn shop_rules() {
    let now = at("2026-11-23 09:00:00"); // a Monday
    let s = shop();
    assert_eq!(
        codes(check_shop_rules(
            &s,
            Money::from_fen(5000),
            at("2026-11-24 10:00:00"),
            now
        )),
        vec![]
    );
    assert_eq!(
        codes(check_shop_rules(
            &s,
            Money::from_fen(4999),
            at("2026-11-24 10:00:00"),
            now
        )),
        vec![UserErrorCode::BelowMinimumAmount]
    );
    assert_eq!(
        codes(check_shop_rules(
            &s,
            Money::from_fen(5000),
            at("2026-11-23 20:00:00"),
            now
        )),
        vec![
            UserErrorCode::AppointmentTooSoon,
            UserErrorCode::OutsideServiceHours
        ]
    );
    // Saturday is not among the days.
    assert_eq!(
        codes(check_shop_rules(
            &s,
            Money::from_fen(5000),
            at("2026-11-28 10:00:00"),
            now
        )),
        vec![UserErrorCode::OutsideServiceHours]
    );
    // End time is exclusive.
    assert_eq!(
        codes(check_shop_rules(
            &s,
            Money::from_fen(5000),
            at("2026-11-24 18:00:00"),
            now
        )),
        vec![UserErrorCode::OutsideServiceHours]
    );
}
