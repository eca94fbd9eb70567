//! Start-up, read top to bottom: configuration → listener → database → sandboxes (default
//! run) → platforms → services → workers → router. [`Application::build`] is the one entry
//! point `main` and the tests share; each part gets only what it needs, and nothing here is
//! a bag of state every layer imports.

mod platforms;
mod sandbox;
mod workers;

use std::{
    future::Future,
    net::SocketAddr,
    sync::{Arc, OnceLock, atomic::AtomicU64},
    time::Duration,
};

use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use self::{platforms::Platforms, workers::Workers};
use crate::{
    access::AccessService,
    callbacks,
    catalog::CatalogService,
    config::{Config, ServerConfig},
    db,
    domain::{GeoPoint, ProviderId, delivery::Store},
    events::EventBus,
    graphql, http,
    orders::OrderService,
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("configuration: {0}")]
    Config(String),
}

/// Keys are live when any enabled provider is a real platform; keyless calls are let in only
/// for an all-sandbox server on loopback (and not at all with `auth.anonymous = "never"`).
fn access_service(config: &Config, db: &sea_orm::DatabaseConnection) -> AccessService {
    let anonymous = crate::access::anonymous_allowed(config);
    if anonymous {
        tracing::warn!(
            "every provider is a sandbox and the server is on loopback: requests without an API key are served (auth.anonymous = \"never\" turns this off)"
        );
    }
    AccessService::new(db.clone(), config.live(), anonymous)
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    workers: Workers,
    base_url: String,
    shutdown: CancellationToken,
    grace: Duration,
    limits: http::ConnectionLimits,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        sandbox::check(&config)?;
        let (listener, base_url) = bind(&config.server).await?;
        let statements = Arc::new(AtomicU64::new(0));
        let db = db::connect(&config.database, statements.clone()).await?;
        let reader = db::connect_readers(&config.database, &db, statements.clone()).await?;
        let shutdown = CancellationToken::new();

        let mut sandbox = sandbox::start(&config, &base_url, &shutdown)?;
        let sandboxes = std::mem::take(&mut sandbox.router);
        let sandbox_tasks = std::mem::take(&mut sandbox.tasks);
        let mut platforms = Platforms::build(&config, &base_url, sandbox)?;

        let bus = EventBus::new(4096);
        let catalog = CatalogService::new(
            db.clone(),
            platforms.registry.clone(),
            Duration::from_secs(config.daoway.detail_ttl_secs),
        )
        .with_network_timeout(config.dada.request_timeout())
        .with_fanout_deadline(Duration::from_millis(config.limits.fanout_deadline_ms));
        let mut orders = OrderService::new(
            db.clone(),
            platforms.registry.clone(),
            catalog.clone(),
            bus.clone(),
        )
        .with_delivery(platforms.delivery.clone())
        .with_reader(reader.clone());
        if let Some(source) = platforms.order_source.take() {
            orders = orders.with_order_source(source);
        }
        register_wechat_stores(&catalog, &platforms).await?;

        let access = access_service(&config, &db).with_reader(reader);

        let mut workers = Workers::new(shutdown.clone());
        workers.start(
            &config,
            &db,
            &bus,
            &catalog,
            &orders,
            &mut platforms,
            sandbox_tasks,
        );

        let schema = graphql::build(
            &config.limits,
            Some(graphql::Services {
                catalog,
                orders: orders.clone(),
                access: access.clone(),
                bus,
                providers: platforms.registry.info.clone(),
                shutdown: shutdown.clone(),
            }),
        );
        let callbacks = callbacks::router(
            &orders,
            platforms.callbacks,
            config.limits.callback_body_bytes,
        );
        let ops = http::Ops {
            db: db::connect_probe(&config.database).await?,
            statements,
            metrics: metrics_handle(),
            access: access.clone(),
        };
        let origins =
            http::Api::origins(&config.server.cors_origins).map_err(StartupError::Config)?;
        let client = callbacks::allow::ClientAddress::parse(
            config.server.client_ip_header.as_deref(),
            &config.server.trusted_proxies,
        )
        .map_err(StartupError::Config)?;
        let exports = http::Exports {
            access: access.clone(),
            orders: orders.clone(),
        };
        let api = http::Api {
            schema,
            access,
            origins: Arc::new(origins),
            sockets: http::Sockets::new(config.websocket.clone(), client, shutdown.clone()),
            max_body: config.limits.graphql_body_bytes,
            max_batch: config.limits.max_batch,
        };
        let router = http::router(&config.limits, api, callbacks, ops, exports, sandboxes);
        Ok(Self {
            listener,
            router,
            workers,
            base_url,
            shutdown,
            grace: Duration::from_secs(config.server.shutdown_grace_secs),
            limits: http::ConnectionLimits::of(&config.server),
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// `http://host:port`, or the configured public URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Cancelling it stops the server as a signal would.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until `signal` completes, then stops taking connections, lets in-flight
    /// requests finish, stops the workers and waits for them (bounded by the grace period).
    pub async fn run_until_stopped(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let token = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = signal => {}
                _ = token.cancelled() => {}
            }
            tracing::info!("shutting down: finishing in-flight requests");
            token.cancel();
        });
        let served = http::serve(
            self.listener,
            self.router,
            self.limits,
            self.shutdown.clone(),
            self.grace,
        )
        .await;
        self.workers.stop(self.grace).await;
        tracing::info!("stopped");
        served
    }
}

/// Binds the listener; the base URL is the public one when configured, else the bound one.
async fn bind(server: &ServerConfig) -> Result<(TcpListener, String), StartupError> {
    let addr = SocketAddr::new(server.host, server.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartupError::Bind { addr, source })?;
    let base_url = server
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"))
        .trim_end_matches('/')
        .to_owned();
    Ok((listener, base_url))
}

/// Our WeChat stores come from configuration (WeChat has no store API): stored as shops.
async fn register_wechat_stores(
    catalog: &CatalogService,
    platforms: &Platforms,
) -> Result<(), StartupError> {
    for s in &platforms.wechat_stores {
        let Some(location) = GeoPoint::new(s.lng, s.lat) else {
            return Err(StartupError::Config(format!(
                "wechat store {}: coordinates out of range",
                s.shop_no
            )));
        };
        let store = Store {
            shop_no: Some(s.shop_no.clone()),
            name: s.name.clone(),
            business: 0,
            city_name: s.city.clone(),
            area_name: s.address_detail.clone(),
            address: s.address.clone(),
            location,
            contact_name: s.name.clone(),
            phone: s.phone.clone(),
        };
        catalog.upsert_store(ProviderId::Wechat, &store).await?;
    }
    Ok(())
}

/// The process-wide Prometheus recorder, installed once (tests build many apps).
/// The process's Prometheus recorder. Latencies are histograms with fixed buckets and the
/// intake's batch sizes likewise; a thread drains recorded samples into them every few
/// seconds, so memory stays bounded whether or not `/metrics` is ever scraped (samples
/// otherwise wait in the recorder until a scrape).
fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            use metrics_exporter_prometheus::Matcher;
            const SECONDS: &[f64] = &[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0, 30.0,
            ];
            const SIZES: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
                .ok()?
                .set_buckets_for_metric(Matcher::Suffix("_size".into()), SIZES)
                .ok()?
                .install_recorder()
                .ok()?;
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .ok()?;
            Some(handle)
        })
        .clone()
}
