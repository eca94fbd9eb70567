//! orderhub: one GraphQL API over the platforms where Chinese local-service businesses get
//! and place orders. [`Application::build`] turns a [`Config`] into a bound, running-ready
//! server — the one entry point `main` and the tests share.

pub mod callbacks;
pub mod catalog;
pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod graphql;
pub mod http;
pub mod orders;
pub mod outbox;
pub mod providers;
pub mod refusal;

use std::{
    future::Future,
    net::SocketAddr,
    sync::{Arc, OnceLock, atomic::AtomicU64},
    time::Duration,
};

use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use orderhub_sandbox::{
    dada::DadaSandbox, daojia58::Daojia58Sandbox, daoway::DaowaySandbox, wechat::WechatSandbox,
};
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;

pub use crate::config::Config;
use crate::{
    catalog::CatalogService,
    domain::ProviderId,
    events::EventBus,
    orders::DeliverySettings,
    orders::OrderService,
    providers::{
        Marketplace, Registry,
        dada::{DadaAdapter, DadaSettings},
        daoway::{DaowayAdapter, client::DaowayClient},
        delivery::CourierNetwork,
        wechat::{CompanyAccount, WechatAdapter, WechatSettings},
    },
};

/// What every handler and resolver shares.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub registry: Registry,
    pub catalog: CatalogService,
    pub orders: OrderService,
    pub bus: EventBus,
    /// The channel Daoway notifications must carry (None when Daoway is off).
    pub daoway_channel: Option<String>,
    /// Who may call Dada's callback routes.
    pub dada_callers: Arc<http::allow::AllowList>,
    /// How WeChat's message pushes are verified and answered (None when WeChat is off).
    pub wechat_push: Option<Arc<providers::wechat::PushConfig>>,
    /// Who may call the WeChat push route.
    pub wechat_callers: Arc<http::allow::AllowList>,
    /// How 58's order pushes are checked (None when 58 Daojia is off).
    pub daojia58_intake: Option<Arc<providers::daojia58::callback::IntakeConfig>>,
    /// Who may push 58 orders.
    pub daojia58_callers: Arc<http::allow::AllowList>,
    pub statements: Arc<AtomicU64>,
    pub metrics: Option<PrometheusHandle>,
    /// Cancelled at shutdown: workers and subscriptions stop.
    pub shutdown: CancellationToken,
}

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

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    workers: JoinSet<()>,
    base_url: String,
}

/// The process-wide Prometheus recorder, installed once (tests build many apps).
fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .clone()
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let addr = SocketAddr::new(config.server.host, config.server.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr, source })?;
        let base_url = config
            .server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}"))
            .trim_end_matches('/')
            .to_owned();

        let statements = Arc::new(AtomicU64::new(0));
        let db = db::connect(&config.database, statements.clone()).await?;
        let shutdown = CancellationToken::new();
        let mut workers = JoinSet::new();

        // Sandboxes: mounted under /sandbox, called back on our own callback routes.
        let mut sandboxes = Router::new();
        // Some when the adapters without a base_url talk to the in-process simulators.
        let sandbox = config.sandbox.enabled.then_some(());
        if config.sandbox.enabled {
            let mut mount = |path: &str, router: Router, task: tokio::task::JoinHandle<()>| {
                sandboxes = std::mem::take(&mut sandboxes).nest(path, router);
                workers.spawn(async move {
                    let _ = task.await;
                });
            };
            let daoway = DaowaySandbox::new(config.sandbox.daoway.clone());
            daoway.set_cancel_notify_url(format!("{base_url}/callbacks/daoway/cancel"));
            mount("/daoway", daoway.router(), daoway.spawn(shutdown.clone()));
            let dada = DadaSandbox::new(config.sandbox.dada.clone());
            dada.set_message_url(format!("{base_url}/callbacks/dada/message"));
            mount("/dada", dada.router(), dada.spawn(shutdown.clone()));
            let wechat = WechatSandbox::new(config.sandbox.wechat.clone());
            wechat.set_push_url(format!("{base_url}/callbacks/wechat"));
            mount("/wechat", wechat.router(), wechat.spawn(shutdown.clone()));
            let daojia58 = Daojia58Sandbox::new(config.sandbox.daojia58.clone());
            daojia58.set_push_url(format!("{base_url}/callbacks/daojia58/orders"));
            mount(
                "/daojia58",
                daojia58.router(),
                daojia58.spawn(shutdown.clone()),
            );
        }

        let mut registry = Registry::default();
        let mut daoway_channel = None;
        let mut pollers: Vec<(Arc<dyn Marketplace>, Duration)> = Vec::new();
        let dw = &config.daoway;
        if dw.enabled {
            let (endpoint, sandboxed) = match (&dw.base_url, &sandbox) {
                (Some(url), _) => (url.clone(), false),
                (None, Some(_)) => (format!("{base_url}/sandbox/daoway/"), true),
                (None, None) => {
                    return Err(StartupError::Config(
                        "daoway.base_url is required when the sandbox is off (or set daoway.enabled = false)".into(),
                    ));
                }
            };
            let sb_cfg = &config.sandbox.daoway;
            let pick = |ours: &Option<String>, sandbox: Option<String>, name: &str| {
                ours.clone()
                    .or(if sandboxed { sandbox } else { None })
                    .ok_or_else(|| {
                        StartupError::Config(format!(
                            "daoway.{name} is required for the real platform"
                        ))
                    })
            };
            let channel = pick(&dw.channel, sb_cfg.channels.first().cloned(), "channel")?;
            let account = sb_cfg.accounts.first();
            let user_name = pick(
                &dw.user_name,
                account.map(|a| a.user_name.clone()),
                "user_name",
            )?;
            let password = match (&dw.password, account) {
                (Some(p), _) => p.clone(),
                (None, Some(a)) if sandboxed => SecretString::from(a.password.clone()),
                _ => {
                    return Err(StartupError::Config(
                        "daoway.password is required for the real platform".into(),
                    ));
                }
            };
            let client = DaowayClient::new(
                &endpoint,
                channel.clone(),
                user_name,
                password,
                dw.request_timeout(),
            )
            .map_err(StartupError::Config)?;
            let adapter: Arc<dyn Marketplace> =
                Arc::new(DaowayAdapter::new(client, dw.request_timeout()));
            registry.marketplaces.push(adapter.clone());
            pollers.push((adapter, Duration::from_millis(dw.poll_interval_ms.max(100))));
            daoway_channel = Some(channel);
            registry.info.push(DaowayAdapter::info(true, sandboxed));
        } else {
            registry.info.push(DaowayAdapter::info(false, false));
        }

        let mut delivery = DeliverySettings {
            origin_prefix: config.dada.origin_prefix.clone(),
            timeout: config.dada.request_timeout(),
            courier_cancel_policy: config.dada.courier_cancel_policy,
            ..DeliverySettings::default()
        };
        let mut courier_pollers: Vec<(Arc<dyn CourierNetwork>, Duration)> = Vec::new();
        let mut dada_imports = Vec::new();
        let da = &config.dada;
        if da.enabled {
            let sandboxed = da.base_url.is_none();
            let sb_cfg = &config.sandbox.dada;
            let settings = match (&da.base_url, &sandbox) {
                (Some(url), _) => DadaSettings {
                    base_url: url.clone(),
                    app_key: da.app_key.clone().ok_or_else(|| {
                        StartupError::Config(
                            "dada.app_key is required for the real platform".into(),
                        )
                    })?,
                    app_secret: da.app_secret.clone().ok_or_else(|| {
                        StartupError::Config(
                            "dada.app_secret is required for the real platform".into(),
                        )
                    })?,
                    source_id: da.source_id.clone().ok_or_else(|| {
                        StartupError::Config(
                            "dada.source_id is required for the real platform".into(),
                        )
                    })?,
                    timeout: da.request_timeout(),
                },
                (None, Some(_)) => DadaSettings {
                    base_url: format!("{base_url}/sandbox/dada"),
                    app_key: da.app_key.clone().unwrap_or_else(|| sb_cfg.app_key.clone()),
                    app_secret: da
                        .app_secret
                        .clone()
                        .unwrap_or_else(|| SecretString::from(sb_cfg.app_secret.clone())),
                    source_id: da
                        .source_id
                        .clone()
                        .unwrap_or_else(|| sb_cfg.source_id.clone()),
                    timeout: da.request_timeout(),
                },
                (None, None) => {
                    return Err(StartupError::Config(
                        "dada.base_url is required when the sandbox is off (or set dada.enabled = false)".into(),
                    ));
                }
            };
            let adapter: Arc<dyn CourierNetwork> =
                Arc::new(DadaAdapter::new(settings).map_err(StartupError::Config)?);
            registry.couriers.push(adapter.clone());
            registry.info.push(DadaAdapter::info(true, sandboxed));
            delivery.callback_urls.insert(
                ProviderId::Dada,
                da.callback_url
                    .clone()
                    .unwrap_or_else(|| format!("{base_url}/callbacks/dada/status")),
            );
            courier_pollers.push((adapter, Duration::from_millis(da.poll_interval_ms.max(100))));
            dada_imports = match &da.import_shops {
                Some(list) => list.clone(),
                None if sandboxed => DadaSandbox::seeded_shop_numbers(),
                None => Vec::new(),
            };
        } else {
            registry.info.push(DadaAdapter::info(false, false));
        }

        let mut wechat_push = None;
        let mut wechat_stores = Vec::new();
        let wx = &config.wechat;
        if wx.enabled {
            let sandboxed = wx.base_url.is_none();
            let settings = match (&wx.base_url, &sandbox) {
                (Some(url), _) => {
                    let need = |v: Option<SecretString>, name: &str| {
                        v.ok_or_else(|| {
                            StartupError::Config(format!(
                                "wechat.{name} is required for the real platform"
                            ))
                        })
                    };
                    WechatSettings {
                        base_url: url.clone(),
                        appid: wx.appid.clone().ok_or_else(|| {
                            StartupError::Config(
                                "wechat.appid is required for the real platform".into(),
                            )
                        })?,
                        secret: need(wx.secret.clone(), "secret")?,
                        token: need(wx.token.clone(), "token")?,
                        encoding_aes_key: need(wx.encoding_aes_key.clone(), "encoding_aes_key")?,
                        safe_mode: wx.safe_mode,
                        openid: wx.openid.clone().ok_or_else(|| {
                            StartupError::Config(
                                "wechat.openid is required for the real platform".into(),
                            )
                        })?,
                        companies: wx
                            .companies
                            .iter()
                            .map(|c| CompanyAccount {
                                delivery_id: c.delivery_id.clone(),
                                shopid: c.shopid.clone(),
                                app_secret: c.app_secret.clone(),
                            })
                            .collect(),
                        timeout: wx.request_timeout(),
                    }
                }
                (None, Some(_)) => {
                    let sb = &config.sandbox.wechat;
                    WechatSettings {
                        base_url: format!("{base_url}/sandbox/wechat"),
                        appid: sb.appid.clone(),
                        secret: SecretString::from(sb.secret.clone()),
                        token: SecretString::from(sb.token.clone()),
                        encoding_aes_key: SecretString::from(sb.encoding_aes_key.clone()),
                        safe_mode: sb.safe_mode,
                        openid: sb.openids.first().cloned().unwrap_or_default(),
                        companies: sb
                            .companies
                            .iter()
                            .filter(|c| c.bound)
                            .map(|c| CompanyAccount {
                                delivery_id: c.delivery_id.clone(),
                                shopid: c.shopid.clone(),
                                app_secret: SecretString::from(c.app_secret.clone()),
                            })
                            .collect(),
                        timeout: wx.request_timeout(),
                    }
                }
                (None, None) => {
                    return Err(StartupError::Config(
                        "wechat.base_url is required when the sandbox is off (or set wechat.enabled = false)".into(),
                    ));
                }
            };
            let adapter = WechatAdapter::new(settings).map_err(StartupError::Config)?;
            wechat_push = Some(Arc::new(adapter.push_config()));
            let adapter: Arc<dyn CourierNetwork> = Arc::new(adapter);
            registry.couriers.push(adapter.clone());
            registry.info.push(WechatAdapter::info(true, sandboxed));
            courier_pollers.push((adapter, Duration::from_millis(wx.poll_interval_ms.max(100))));
            wechat_stores = if sandboxed && wx.stores.is_empty() {
                WechatSandbox::seeded_stores()
                    .into_iter()
                    .map(|s| crate::config::WechatStoreConfig {
                        shop_no: s.shop_no,
                        name: s.name,
                        city: s.city,
                        address: s.address,
                        address_detail: s.address_detail,
                        phone: s.phone,
                        lng: s.lng,
                        lat: s.lat,
                    })
                    .collect()
            } else {
                wx.stores.clone()
            };
        } else {
            registry.info.push(WechatAdapter::info(false, false));
        }

        let mut daojia58 = None;
        let dj = &config.daojia58;
        if dj.enabled {
            let sandboxed = dj.base_url.is_none();
            let settings = match (&dj.base_url, &sandbox) {
                (Some(url), _) => {
                    let need = |v: Option<SecretString>, name: &str| {
                        v.ok_or_else(|| {
                            StartupError::Config(format!(
                                "daojia58.{name} is required for the real platform"
                            ))
                        })
                    };
                    providers::daojia58::Daojia58Settings {
                        base_url: url.clone(),
                        service_key: dj.service_key.clone().ok_or_else(|| {
                            StartupError::Config(
                                "daojia58.service_key is required for the real platform".into(),
                            )
                        })?,
                        service_secret: need(dj.service_secret.clone(), "service_secret")?,
                        access_token: need(dj.access_token.clone(), "access_token")?,
                        timeout: Duration::from_millis(dj.request_timeout_ms),
                    }
                }
                (None, Some(_)) => {
                    let sb = &config.sandbox.daojia58;
                    providers::daojia58::Daojia58Settings {
                        base_url: format!("{base_url}/sandbox/daojia58/api/v1"),
                        service_key: sb.service_key.clone(),
                        service_secret: SecretString::from(sb.service_secret.clone()),
                        access_token: SecretString::from(sb.access_token.clone()),
                        timeout: Duration::from_millis(dj.request_timeout_ms),
                    }
                }
                (None, None) => {
                    return Err(StartupError::Config(
                        "daojia58.base_url is required when the sandbox is off (or set daojia58.enabled = false)".into(),
                    ));
                }
            };
            registry
                .info
                .push(providers::daojia58::info(true, sandboxed));
            daojia58 = Some(settings);
        } else {
            registry.info.push(providers::daojia58::info(false, false));
        }

        let bus = EventBus::new(4096);
        let catalog = CatalogService::new(
            db.clone(),
            registry.clone(),
            Duration::from_secs(config.daoway.detail_ttl_secs),
        )
        .with_network_timeout(config.dada.request_timeout());
        let mut orders =
            OrderService::new(db.clone(), registry.clone(), catalog.clone(), bus.clone())
                .with_delivery(delivery);
        let daojia58_intake = match &daojia58 {
            Some(settings) => {
                orders = orders.with_daojia58(
                    providers::daojia58::client::Daojia58Client::new(settings.clone())
                        .map_err(StartupError::Config)?,
                );
                Some(Arc::new(providers::daojia58::callback::IntakeConfig {
                    service_key: settings.service_key.clone(),
                    service_secret: settings.service_secret.clone(),
                }))
            }
            None => None,
        };
        workers.spawn(outbox::run(
            db.clone(),
            Arc::new(orders.clone()),
            config.outbox.clone(),
            orders.outbox_wake(),
            shutdown.clone(),
        ));
        for (network, every) in courier_pollers {
            workers.spawn(orders::poller::run_deliveries(
                orders.clone(),
                network,
                every,
                shutdown.clone(),
            ));
        }
        // Our WeChat stores come from configuration (WeChat has no store API).
        for s in &wechat_stores {
            let Some(location) = domain::GeoPoint::new(s.lng, s.lat) else {
                return Err(StartupError::Config(format!(
                    "wechat store {}: coordinates out of range",
                    s.shop_no
                )));
            };
            let store = providers::delivery::Store {
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
        if !dada_imports.is_empty() {
            // Best effort, in the background: a store that cannot be fetched now can be
            // imported later with `importDeliveryShop`.
            let catalog = catalog.clone();
            workers.spawn(async move {
                for no in dada_imports {
                    if let Err(e) = catalog.import_store(ProviderId::Dada, &no).await {
                        tracing::warn!(shop_no = %no, error = ?e, "importing a Dada store failed");
                    }
                }
            });
        }
        if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            workers.spawn(events::pg::listen(
                db.clone(),
                bus.clone(),
                shutdown.clone(),
            ));
        }
        for (market, every) in pollers {
            workers.spawn(orders::poller::run(
                orders.clone(),
                market,
                every,
                shutdown.clone(),
            ));
        }

        let config = Arc::new(config);
        let state = AppState {
            config: config.clone(),
            db,
            registry,
            catalog,
            orders,
            bus,
            daoway_channel,
            daojia58_intake,
            daojia58_callers: Arc::new(
                http::allow::AllowList::parse(
                    &config.daojia58.push_allow_ips,
                    config.server.client_ip_header.as_deref(),
                )
                .map_err(|e| StartupError::Config(format!("daojia58.push_allow_ips: {e}")))?,
            ),
            wechat_push,
            wechat_callers: Arc::new(
                http::allow::AllowList::parse(
                    &config.wechat.push_allow_ips,
                    config.server.client_ip_header.as_deref(),
                )
                .map_err(|e| StartupError::Config(format!("wechat.push_allow_ips: {e}")))?,
            ),
            dada_callers: Arc::new(
                http::allow::AllowList::parse(
                    &config.dada.callback_allow_ips,
                    config.server.client_ip_header.as_deref(),
                )
                .map_err(|e| StartupError::Config(format!("dada.callback_allow_ips: {e}")))?,
            ),
            statements,
            metrics: metrics_handle(),
            shutdown,
        };
        let schema = graphql::build(
            &config.limits,
            Some(graphql::Services {
                catalog: state.catalog.clone(),
                orders: state.orders.clone(),
                bus: state.bus.clone(),
                providers: state.registry.info.clone(),
                shutdown: state.shutdown.clone(),
            }),
        );
        let router = http::router(state.clone(), schema, sandboxes);
        Ok(Self {
            listener,
            router,
            state,
            workers,
            base_url,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// `http://host:port`, or the configured public URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` completes, then stops taking connections, lets in-flight
    /// requests finish, stops the workers and waits for them (bounded by the grace period).
    pub async fn run_until_stopped(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Self {
            listener,
            router,
            state,
            mut workers,
            ..
        } = self;
        let shutdown = state.shutdown.clone();
        let grace = Duration::from_secs(state.config.server.shutdown_grace_secs);
        let token = shutdown.clone();
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = signal => {}
                _ = token.cancelled() => {}
            }
            tracing::info!("shutting down: finishing in-flight requests");
            token.cancel();
        })
        .await;
        shutdown.cancel();
        let drained = tokio::time::timeout(grace, async {
            while workers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("workers did not stop within the grace period; aborting them");
            workers.abort_all();
        }
        tracing::info!("stopped");
        served
    }
}
