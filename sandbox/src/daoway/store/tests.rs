//! Unit tests of the store: appointment times, notice periods and fees.

use super::*;

use chrono::TimeZone;

fn shop(id: &str) -> &'static Shop {
    seed::shop(id).expect("seed shop")
}

#[test]
fn appoint_time_format_is_strict() {
    assert!(parse_beijing("2015-12-18 11:22:43").is_some());
    for bad in [
        "2015-1-18 11:22:43",
        "2015-12-18T11:22:43",
        "2015-12-18 11:22",
        "2015-13-18 11:22:43",
        "2015-02-30 11:22:43",
        "２015-12-18 11:22:4",
    ] {
        assert!(parse_beijing(bad).is_none(), "{bad}");
    }
}

#[test]
fn hours_and_days() {
    // 白领洗衣: weekdays only, 09:00–18:00, 24 h notice. Now = 2030-01-01 (a Tuesday).
    let laundry = shop("5486bfef580afe00f03ee23950b58627");
    let now = Utc
        .with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
        .single()
        .expect("time");
    // Friday 2030-01-04.
    assert_eq!(
        check_appointment(laundry, "2030-01-04 09:00:00", now),
        Ok(())
    );
    assert_eq!(
        check_appointment(laundry, "2030-01-04 17:59:59", now),
        Ok(())
    );
    assert_eq!(
        check_appointment(laundry, "2030-01-04 18:00:00", now),
        Err(Reject::OutsideHours)
    );
    assert_eq!(
        check_appointment(laundry, "2030-01-04 08:59:59", now),
        Err(Reject::OutsideHours)
    );
    // Saturday.
    assert_eq!(
        check_appointment(laundry, "2030-01-05 10:00:00", now),
        Err(Reject::OutsideHours)
    );
    // 2030-01-01 00:00 UTC is 08:00 Beijing; 10:00 Beijing the next day is only 26 h away,
    // 07:59 Beijing the next day is under 24 h.
    assert_eq!(
        check_appointment(laundry, "2030-01-02 07:59:59", now),
        Err(Reject::TooSoon(24 * 60))
    );
    assert_eq!(
        check_appointment(laundry, "2030-01-02 10:00:00", now),
        Ok(())
    );
}

#[test]
fn fee_rules() {
    let repair = shop("ef6f87ec03d8ce8106d152bc2c721dc5");
    assert_eq!(fix_fee(repair, 12_000), 3_000);
    assert_eq!(fix_fee(repair, 20_000), 0);
    let locksmith = shop("5e74de96ab1b469558aab3eede4a403f");
    assert_eq!(fix_fee(locksmith, 1_000_000), 2_000);
}
