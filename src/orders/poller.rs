//! Polls in-flight orders of the marketplaces that push nothing but cancellations (Daoway)
//! and the courier networks, and turns what changed into status events. Only the instance
//! holding a provider's poll lease polls it, so a cluster asks each platform once per
//! interval. Stops promptly on shutdown.

use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::{OrderService, StatusUpdate};
use crate::{
    db::lease::Lease,
    domain::EventSource,
    providers::{Marketplace, with_timeout},
};

/// How many status requests run at once, to stay polite to the platform.
const CONCURRENCY: usize = 8;

/// Polls `market` every `every` while this instance holds the provider's poll lease (so a
/// cluster polls each platform once per interval); gives the lease up at shutdown.
pub async fn run(
    orders: OrderService,
    market: std::sync::Arc<dyn Marketplace>,
    every: Duration,
    lease: Lease,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        if !holds(&lease).await {
            continue;
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = poll_once(&orders, market.as_ref()) => {}
        }
    }
    let _ = lease.release().await;
}

/// Whether this instance holds (and has just renewed) the poll lease.
async fn holds(lease: &Lease) -> bool {
    match lease.claim().await {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(error = %e, "poller: claiming the poll lease failed; skipping a round");
            false
        }
    }
}

/// How long a poll lease lasts unrenewed: a few rounds, so a holder that died is replaced
/// soon, and a slow round does not lose it.
pub fn lease_ttl(every: Duration) -> Duration {
    (every * 3).max(Duration::from_secs(3))
}

#[tracing::instrument(skip_all, fields(provider = %market.id()))]
pub async fn poll_once(orders: &OrderService, market: &dyn Marketplace) {
    let provider = market.id();
    let open = match orders.in_flight(provider).await {
        Ok(list) => list,
        Err(e) => {
            tracing::error!(error = %e, "poller: listing in-flight orders failed");
            return;
        }
    };
    futures::stream::iter(open)
        .for_each_concurrent(CONCURRENCY, |order| async move {
            let Some(external) = order.external_id.as_deref() else { return };
            match with_timeout(provider, market.timeout(), market.order_status(external)).await {
                Ok(seen) if seen.raw_status != order.raw_status => {
                    let update = StatusUpdate {
                        order_id: order.id,
                        status: seen.status,
                        raw_status: seen.raw_status,
                        source: EventSource::Poll,
                        occurred_at: Utc::now(),
                        detail: None,
                        cancel_reason: None,
                        inbound: None,
                        delivery: None,
                    };
                    if let Err(e) = orders.apply_status(update).await {
                        tracing::error!(error = %e, order_id = order.id, "poller: applying status failed");
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    metrics::counter!("orderhub_poll_errors_total", "provider" => provider.as_str()).increment(1);
                    tracing::warn!(error = %e, order_id = order.id, "poller: status request failed");
                }
            }
        })
        .await;
}

/// Checks in-flight deliveries of a courier network: catches a status whose callback was
/// lost, and settles dispatches whose answer never came.
/// [`run`] for a courier network's deliveries.
pub async fn run_deliveries(
    orders: OrderService,
    network: std::sync::Arc<dyn crate::providers::delivery::CourierNetwork>,
    every: Duration,
    lease: Lease,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick fires at once; start one period in, when there is something to check.
    tick.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        if !holds(&lease).await {
            continue;
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = poll_deliveries_once(&orders, network.as_ref()) => {}
        }
    }
    let _ = lease.release().await;
}

#[tracing::instrument(skip_all, fields(provider = %network.id()))]
pub async fn poll_deliveries_once(
    orders: &OrderService,
    network: &dyn crate::providers::delivery::CourierNetwork,
) {
    let open = match orders.in_flight(network.id()).await {
        Ok(list) => list,
        Err(e) => {
            tracing::error!(error = %e, "delivery poller: listing in-flight orders failed");
            return;
        }
    };
    futures::stream::iter(open)
        // A dispatch on its way is left to its request, unless it is so old that the request
        // must have died with its process.
        .filter(|o| {
            let abandoned = chrono::Utc::now() - o.updated_at > chrono::TimeDelta::minutes(2);
            std::future::ready(o.raw_status != super::delivery::SUBMITTING || abandoned)
        })
        .for_each_concurrent(CONCURRENCY, |order| async move {
            if let Err(e) = orders.reconcile_delivery(network, &order).await {
                tracing::error!(error = ?e, order_id = order.id, "delivery poller: applying failed");
            }
        })
        .await;
}
