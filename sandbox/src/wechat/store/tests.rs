//! Unit tests of the store: status codes and the rules that move orders.

use super::*;

#[test]
fn every_documented_code_and_no_other() {
    let codes: Vec<i64> = Status::ALL.iter().map(|s| s.code()).collect();
    assert_eq!(
        codes,
        [
            101, 102, 103, 201, 202, 203, 204, 205, 301, 302, 303, 304, 305, 401, 501, 502
        ]
    );
    for s in Status::ALL {
        assert_eq!(Status::from_code(s.code()), Some(s));
        assert!(!s.msg().is_empty());
    }
    assert_eq!(Status::from_code(402), None);
    assert_eq!(Status::from_code(403), None);
    let ends: Vec<i64> = Status::ALL
        .iter()
        .filter(|s| s.is_end())
        .map(|s| s.code())
        .collect();
    assert_eq!(ends, [103, 203, 204, 205, 302, 401, 501, 502]);
    let readdable: Vec<i64> = Status::ALL
        .iter()
        .filter(|s| s.readdable())
        .map(|s| s.code())
        .collect();
    assert_eq!(readdable, [103, 203, 204, 205, 401, 501, 502]);
}

#[test]
fn quota_days_turn_at_beijing_midnight() {
    let before = DateTime::parse_from_rfc3339("2024-05-01T15:59:59Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    let after = before + TimeDelta::seconds(1);
    let mut quota = Quota::new(1, before);
    assert!(quota.take(before));
    assert!(!quota.take(before));
    assert!(quota.take(after), "a new day in Beijing");
    assert_eq!(quota.used_today, 1);
}

#[test]
fn yuan_text_reads_well() {
    assert_eq!(yuan_text(200), "2元");
    assert_eq!(yuan_text(250), "2.50元");
}
