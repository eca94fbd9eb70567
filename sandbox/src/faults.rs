//! Fault injection shared by every sandbox.
//!
//! A sandbox that always answers at once and never loses a callback hides exactly the code paths
//! that break in production: timeouts, retries, duplicate and missing callbacks. [`Faults`] is
//! the knob set (changeable at runtime through each sandbox's `/_control/faults`), and the
//! helpers here turn it into decisions. What an injected error looks like on the wire is the
//! platform's business, so that part stays in each sandbox.

use std::time::Duration;

use chrono::TimeDelta;

use serde::{Deserialize, Serialize};

/// Faults applied to a sandbox's platform routes and outgoing callbacks. All zero by default:
/// a sandbox behaves perfectly until told otherwise.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Faults {
    /// Added before every platform route answers.
    pub latency_ms: u64,
    /// Probability (0–1) that a platform route answers with the platform's "busy" error instead
    /// of doing its work; state is left untouched.
    pub error_rate: f64,
    /// Probability (0–1) that a callback which is sent at all is delivered twice.
    pub duplicate_callback_rate: f64,
    /// Probability (0–1) that a callback is silently never sent (lost in transit).
    pub drop_callback_rate: f64,
}

/// What to do with one incoming platform request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestFault {
    /// Handle the request normally.
    Proceed,
    /// Answer with the platform's transient error and leave state untouched.
    InjectError,
}

/// How many copies of one callback to deliver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackFault {
    /// Never send it.
    Drop,
    /// Send it once, as the platform normally does.
    Once,
    /// Send it, and after it was accepted, send it again.
    Twice,
}

impl CallbackFault {
    /// Number of successful deliveries this plan asks for.
    pub fn copies(self) -> u32 {
        match self {
            CallbackFault::Drop => 0,
            CallbackFault::Once => 1,
            CallbackFault::Twice => 2,
        }
    }
}

impl Faults {
    /// Rejects rates outside 0–1 (and NaN), so a typo in a control request cannot silently turn
    /// into "always" or "never".
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("errorRate", self.error_rate),
            ("duplicateCallbackRate", self.duplicate_callback_rate),
            ("dropCallbackRate", self.drop_callback_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        Ok(())
    }

    /// The configured latency as a duration.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }

    /// Draws whether this request fails, without waiting.
    pub fn roll_request(&self) -> RequestFault {
        if roll(self.error_rate) {
            RequestFault::InjectError
        } else {
            RequestFault::Proceed
        }
    }

    /// Sleeps the configured latency, then draws whether the request fails. Call it before
    /// touching any state so an injected error really changes nothing.
    pub async fn before_request(&self) -> RequestFault {
        if self.latency_ms > 0 {
            tokio::time::sleep(self.latency()).await;
        }
        self.roll_request()
    }

    /// Draws the fate of one callback. A dropped callback is never duplicated.
    pub fn roll_callback(&self) -> CallbackFault {
        if roll(self.drop_callback_rate) {
            CallbackFault::Drop
        } else if roll(self.duplicate_callback_rate) {
            CallbackFault::Twice
        } else {
            CallbackFault::Once
        }
    }
}

/// True with probability `rate`. Rates of exactly 0 and 1 never consult the random generator, so
/// tests that set them are deterministic.
pub fn roll(rate: f64) -> bool {
    if rate.is_nan() || rate <= 0.0 {
        false
    } else if rate >= 1.0 {
        true
    } else {
        rand::random::<f64>() < rate
    }
}

/// Longest wait between two delivery attempts of any sandbox.
pub const MAX_BACKOFF_MS: u64 = 60_000;

/// How every sandbox waits after the `failures`-th failed delivery in a row: `initial_ms`,
/// doubling per failure, capped at [`MAX_BACKOFF_MS`]. Retrying is the platforms' behaviour,
/// but none publishes a schedule, so the sandboxes share this one.
pub fn doubling_backoff(initial_ms: u64, failures: u32) -> TimeDelta {
    let factor = 1u64
        .checked_shl(failures.saturating_sub(1))
        .unwrap_or(u64::MAX);
    let ms = initial_ms.saturating_mul(factor).min(MAX_BACKOFF_MS);
    TimeDelta::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_harmless() {
        let faults = Faults::default();
        assert_eq!(faults.roll_request(), RequestFault::Proceed);
        assert_eq!(faults.roll_callback(), CallbackFault::Once);
        assert!(faults.validate().is_ok());
    }

    #[test]
    fn certain_rates_are_deterministic() {
        let faults = Faults {
            error_rate: 1.0,
            drop_callback_rate: 1.0,
            duplicate_callback_rate: 1.0,
            ..Faults::default()
        };
        assert_eq!(faults.roll_request(), RequestFault::InjectError);
        assert_eq!(faults.roll_callback(), CallbackFault::Drop);
        let dup = Faults {
            duplicate_callback_rate: 1.0,
            ..Faults::default()
        };
        assert_eq!(dup.roll_callback(), CallbackFault::Twice);
        assert_eq!(dup.roll_callback().copies(), 2);
    }

    #[test]
    fn rates_out_of_range_are_rejected() {
        let bad = Faults {
            error_rate: 1.5,
            ..Faults::default()
        };
        assert!(bad.validate().is_err());
        let nan = Faults {
            drop_callback_rate: f64::NAN,
            ..Faults::default()
        };
        assert!(nan.validate().is_err());
    }

    #[test]
    fn camel_case_with_defaults() {
        let parsed: Faults = serde_json::from_str(r#"{"latencyMs": 5, "errorRate": 0.5}"#)
            .expect("valid faults JSON");
        assert_eq!(parsed.latency_ms, 5);
        assert_eq!(parsed.error_rate, 0.5);
        assert_eq!(parsed.drop_callback_rate, 0.0);
    }
}
