//! The background work of one instance, started from one place and stopped together: the
//! outbox worker, the dispatch plans' driver, the status pollers, the cross-instance event listener (PostgreSQL), the
//! start-up import of courier stores, and the sandboxes' own tasks.

use std::{future::Future, sync::Arc, time::Duration};

use sea_orm::{DatabaseConnection, DbBackend};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    app::platforms::Platforms,
    catalog::CatalogService,
    config::Config,
    db::lease::Lease,
    domain::ProviderId,
    events::{self, EventBus},
    orders::{self, OrderService},
    outbox,
};

/// The running background tasks; all stop when `shutdown` is cancelled.
pub struct Workers {
    set: JoinSet<()>,
    shutdown: CancellationToken,
}

impl Workers {
    pub fn new(shutdown: CancellationToken) -> Self {
        Self {
            set: JoinSet::new(),
            shutdown,
        }
    }

    fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.set.spawn(task);
    }

    /// Starts everything this instance runs in the background.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        &mut self,
        config: &Config,
        db: &DatabaseConnection,
        bus: &EventBus,
        catalog: &CatalogService,
        orders: &OrderService,
        platforms: &mut Platforms,
        sandbox_tasks: Vec<JoinHandle<()>>,
    ) {
        let stop = self.shutdown.clone();
        for task in sandbox_tasks {
            self.spawn(async move {
                let _ = task.await;
            });
        }
        self.spawn(outbox::run(
            db.clone(),
            Arc::new(orders.clone()),
            config.outbox.clone(),
            orders.outbox_wake(),
            stop.clone(),
        ));
        // One poll lease per provider, held by one instance of the cluster at a time.
        let lease = |provider: ProviderId, every: Duration| {
            Lease::new(
                db.clone(),
                format!("poll:{}", provider.as_str()),
                bus.instance().to_owned(),
                orders::poller::lease_ttl(every),
            )
        };
        for (network, every) in std::mem::take(&mut platforms.courier_pollers) {
            let lease = lease(network.id(), every);
            self.spawn(orders::poller::run_deliveries(
                orders.clone(),
                network,
                every,
                lease,
                stop.clone(),
            ));
        }
        for (market, every) in std::mem::take(&mut platforms.marketplace_pollers) {
            let lease = lease(market.id(), every);
            self.spawn(orders::poller::run(
                orders.clone(),
                market,
                every,
                lease,
                stop.clone(),
            ));
        }
        self.spawn(orders::run_dispatch_plans(
            orders.clone(),
            Duration::from_millis(config.dispatch.plan_tick_ms.max(20)),
            stop.clone(),
        ));
        if db.get_database_backend() == DbBackend::Postgres {
            self.spawn(events::pg::listen(db.clone(), bus.clone(), stop.clone()));
        }
        let imports = std::mem::take(&mut platforms.dada_imports);
        if !imports.is_empty() {
            // Best effort: a store that cannot be fetched now can be imported later with
            // `importDeliveryShop`.
            let catalog = catalog.clone();
            self.spawn(async move {
                for no in imports {
                    if let Err(e) = catalog.import_store(ProviderId::Dada, &no).await {
                        tracing::warn!(shop_no = %no, error = ?e, "importing a Dada store failed");
                    }
                }
            });
        }
    }

    /// Waits for every task to stop (after `shutdown` was cancelled), at most `grace`.
    pub async fn stop(mut self, grace: Duration) {
        self.shutdown.cancel();
        let drained = tokio::time::timeout(grace, async {
            while self.set.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("workers did not stop within the grace period; aborting them");
            self.set.abort_all();
        }
    }
}
