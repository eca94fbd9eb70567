//! The settings of the background workers: the outbox and the dispatch plans' driver.

use serde::Deserialize;

/// The outbox worker: retries with backoff, leases, batch size.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxConfig {
    /// Attempts before a row is parked as dead.
    pub max_attempts: i32,
    /// Wait after the first failure; doubled per failure, with ±20 % jitter.
    pub initial_backoff_ms: u64,
    pub max_backoff_secs: u64,
    /// How often due rows are looked for when nothing wakes the worker.
    pub poll_interval_ms: u64,
    /// How long a claimed row is hidden from other workers. The worker renews it every
    /// third of this while it holds the row (also during a long call), so it only bounds
    /// how soon a row comes back after its worker died.
    pub lease_secs: u64,
    /// Rows claimed per round.
    pub batch: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            initial_backoff_ms: 1_000,
            max_backoff_secs: 300,
            poll_interval_ms: 1_000,
            lease_secs: 10,
            batch: 16,
        }
    }
}

/// Automatic dispatch (`dispatchDelivery(strategy: AUTO)`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatchConfig {
    /// How often the plans' driver looks for due steps (tip raises, network switches) when
    /// nothing wakes it; an attempt's acceptance wakes it at once.
    pub plan_tick_ms: u64,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self { plan_tick_ms: 500 }
    }
}
