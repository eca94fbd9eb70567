//! Pretending time has passed: the control routes that age a quote or an order move its
//! timestamps back rather than touching the clock, so every other order keeps its own time.

use chrono::{DateTime, TimeDelta, Utc};

/// `secs` as a duration that `earliest` can be moved back by; `None` when either is out of the
/// calendar's range, so no timestamp is moved half-way.
pub fn back_by(secs: u64, earliest: DateTime<Utc>) -> Option<TimeDelta> {
    let delta = i64::try_from(secs).ok().and_then(TimeDelta::try_seconds)?;
    earliest.checked_sub_signed(delta).map(|_| delta)
}

/// Moves every timestamp in `stamps` back by `delta` (one that cannot move stays).
pub fn shift_back<'a>(delta: TimeDelta, stamps: impl IntoIterator<Item = &'a mut DateTime<Utc>>) {
    for t in stamps {
        if let Some(earlier) = t.checked_sub_signed(delta) {
            *t = earlier;
        }
    }
}
