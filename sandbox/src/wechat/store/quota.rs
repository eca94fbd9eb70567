//! The daily quota of order calls, counted in Beijing calendar days.

use super::*;

/// Order calls (add, readd) allowed per Beijing calendar day.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quota {
    pub daily_quota: u32,
    pub used_today: u32,
    pub day: NaiveDate,
}

/// Beijing time (UTC+8, no daylight saving), in which WeChat's days turn.
pub(super) fn beijing_date(now: DateTime<Utc>) -> NaiveDate {
    (now + TimeDelta::hours(8)).date_naive()
}

impl Quota {
    pub fn new(daily_quota: u32, now: DateTime<Utc>) -> Self {
        Quota {
            daily_quota,
            used_today: 0,
            day: beijing_date(now),
        }
    }

    /// Starts a new day's count if the day turned.
    pub fn roll(&mut self, now: DateTime<Utc>) {
        let today = beijing_date(now);
        if today != self.day {
            self.day = today;
            self.used_today = 0;
        }
    }

    /// Uses one call; `false` when the day's quota is gone.
    pub(super) fn take(&mut self, now: DateTime<Utc>) -> bool {
        self.roll(now);
        if self.used_today >= self.daily_quota {
            return false;
        }
        self.used_today += 1;
        true
    }
}
