//! The platforms this deployment talks to, built from configuration: each enabled provider's
//! settings resolved (real platform or sandbox), its adapter in the registry, its pollers,
//! the stores to import, and what its callback routes need to verify callers.

use std::{sync::Arc, time::Duration};

use crate::{
    app::{StartupError, sandbox::Sandbox},
    callbacks::{
        CallbackSettings,
        allow::{AllowList, ClientAddress},
    },
    config::{Config, WechatStoreConfig},
    domain::ProviderId,
    orders::DeliverySettings,
    providers::{
        Marketplace, OrderSource, Registry,
        dada::{DadaAdapter, DadaSettings},
        daojia58::{self, Daojia58Settings, callback::IntakeConfig, client::Daojia58Client},
        daoway::{DaowayAdapter, DaowaySettings, client::DaowayClient},
        delivery::CourierNetwork,
        wechat::{WechatAdapter, WechatSettings},
    },
};

/// Every enabled platform, ready for the services and the workers.
pub struct Platforms {
    pub registry: Registry,
    pub delivery: DeliverySettings,
    /// 58 Daojia, where our status changes of its pushed orders are synced.
    pub order_source: Option<Arc<dyn OrderSource>>,
    pub callbacks: CallbackSettings,
    pub marketplace_pollers: Vec<(Arc<dyn Marketplace>, Duration)>,
    pub courier_pollers: Vec<(Arc<dyn CourierNetwork>, Duration)>,
    /// Dada stores imported as shops, in the background, at start-up.
    pub dada_imports: Vec<String>,
    /// Our WeChat stores (WeChat has no store API: they come from configuration).
    pub wechat_stores: Vec<WechatStoreConfig>,
}

impl Platforms {
    pub fn build(config: &Config, base_url: &str, sandbox: Sandbox) -> Result<Self, StartupError> {
        let client = ClientAddress::parse(
            config.server.client_ip_header.as_deref(),
            &config.server.trusted_proxies,
        )
        .map_err(StartupError::Config)?;
        let callers = |list: &[String], setting: &str| {
            AllowList::parse(list, client.clone())
                .map(Arc::new)
                .map_err(|e| StartupError::Config(format!("{setting}: {e}")))
        };
        let mut p = Self {
            registry: Registry::default(),
            delivery: DeliverySettings {
                origin_prefix: config.dada.origin_prefix.clone(),
                timeout: config.dada.request_timeout(),
                timeouts: [
                    (ProviderId::Dada, config.dada.request_timeout()),
                    (ProviderId::Wechat, config.wechat.request_timeout()),
                ]
                .into(),
                courier_cancel_policy: config.dada.courier_cancel_policy,
                ..DeliverySettings::default()
            },
            order_source: None,
            callbacks: CallbackSettings {
                daoway_callers: callers(
                    &config.daoway.callback_allow_ips,
                    "daoway.callback_allow_ips",
                )?,
                dada_callers: callers(&config.dada.callback_allow_ips, "dada.callback_allow_ips")?,
                wechat_callers: callers(&config.wechat.push_allow_ips, "wechat.push_allow_ips")?,
                daojia58_callers: callers(
                    &config.daojia58.push_allow_ips,
                    "daojia58.push_allow_ips",
                )?,
                ..CallbackSettings::default()
            },
            marketplace_pollers: Vec::new(),
            courier_pollers: Vec::new(),
            dada_imports: Vec::new(),
            wechat_stores: Vec::new(),
        };
        p.daoway(config, sandbox.daoway)?;
        p.dada(config, base_url, sandbox.dada, sandbox.dada_shops)?;
        p.wechat(config, sandbox.wechat, sandbox.wechat_stores)?;
        p.daojia58(config, sandbox.daojia58)?;
        Ok(p)
    }

    fn daoway(
        &mut self,
        config: &Config,
        sandbox: Option<DaowaySettings>,
    ) -> Result<(), StartupError> {
        let cfg = &config.daoway;
        if !cfg.enabled {
            self.registry.info.push(DaowayAdapter::info(false, false));
            return Ok(());
        }
        let (s, sandboxed) = DaowaySettings::resolve(cfg, sandbox).map_err(StartupError::Config)?;
        warn_open(
            sandboxed,
            &cfg.callback_allow_ips,
            "daoway.callback_allow_ips",
            "/callbacks/daoway/cancel",
        );
        let client = DaowayClient::new(
            &s.endpoint,
            s.channel.clone(),
            s.user_name,
            s.password,
            s.timeout,
        )
        .map_err(StartupError::Config)?;
        let adapter: Arc<dyn Marketplace> = Arc::new(DaowayAdapter::new(client, s.timeout));
        self.registry.marketplaces.push(adapter.clone());
        self.registry
            .info
            .push(DaowayAdapter::info(true, sandboxed));
        self.marketplace_pollers.push((
            adapter,
            Duration::from_millis(cfg.poll_interval_ms.max(100)),
        ));
        self.callbacks.daoway_channel = Some(s.channel);
        Ok(())
    }

    fn dada(
        &mut self,
        config: &Config,
        base_url: &str,
        sandbox: Option<DadaSettings>,
        seeded: Vec<String>,
    ) -> Result<(), StartupError> {
        let cfg = &config.dada;
        if !cfg.enabled {
            self.registry.info.push(DadaAdapter::info(false, false));
            return Ok(());
        }
        let (s, sandboxed) = DadaSettings::resolve(cfg, sandbox).map_err(StartupError::Config)?;
        warn_open(
            sandboxed,
            &cfg.callback_allow_ips,
            "dada.callback_allow_ips",
            "/callbacks/dada/*",
        );
        let dada = DadaAdapter::new(s).map_err(StartupError::Config)?;
        self.callbacks.dada_tokens = Some(Arc::new(dada.callback_tokens()));
        let adapter: Arc<dyn CourierNetwork> = Arc::new(dada);
        self.registry.couriers.push(adapter.clone());
        self.registry.info.push(DadaAdapter::info(true, sandboxed));
        let callback = cfg
            .callback_url
            .clone()
            .unwrap_or_else(|| format!("{base_url}/callbacks/dada/status"));
        self.delivery
            .callback_urls
            .insert(ProviderId::Dada, callback);
        self.courier_pollers.push((
            adapter,
            Duration::from_millis(cfg.poll_interval_ms.max(100)),
        ));
        self.dada_imports = match &cfg.import_shops {
            Some(list) => list.clone(),
            None if sandboxed => seeded,
            None => Vec::new(),
        };
        Ok(())
    }

    fn wechat(
        &mut self,
        config: &Config,
        sandbox: Option<WechatSettings>,
        seeded: Vec<WechatStoreConfig>,
    ) -> Result<(), StartupError> {
        let cfg = &config.wechat;
        if !cfg.enabled {
            self.registry.info.push(WechatAdapter::info(false, false));
            return Ok(());
        }
        let (s, sandboxed) = WechatSettings::resolve(cfg, sandbox).map_err(StartupError::Config)?;
        warn_open(
            sandboxed,
            &cfg.push_allow_ips,
            "wechat.push_allow_ips",
            "/callbacks/wechat",
        );
        let adapter = WechatAdapter::new(s).map_err(StartupError::Config)?;
        self.callbacks.wechat_push = Some(Arc::new(adapter.push_config()));
        let adapter: Arc<dyn CourierNetwork> = Arc::new(adapter);
        self.registry.couriers.push(adapter.clone());
        self.registry
            .info
            .push(WechatAdapter::info(true, sandboxed));
        self.courier_pollers.push((
            adapter,
            Duration::from_millis(cfg.poll_interval_ms.max(100)),
        ));
        self.wechat_stores = if sandboxed && cfg.stores.is_empty() {
            seeded
        } else {
            cfg.stores.clone()
        };
        Ok(())
    }

    fn daojia58(
        &mut self,
        config: &Config,
        sandbox: Option<Daojia58Settings>,
    ) -> Result<(), StartupError> {
        let cfg = &config.daojia58;
        if !cfg.enabled {
            self.registry.info.push(daojia58::info(false, false));
            return Ok(());
        }
        let (s, sandboxed) =
            Daojia58Settings::resolve(cfg, sandbox).map_err(StartupError::Config)?;
        warn_open(
            sandboxed,
            &cfg.push_allow_ips,
            "daojia58.push_allow_ips",
            "/callbacks/daojia58/orders",
        );
        self.registry.info.push(daojia58::info(true, sandboxed));
        self.callbacks.daojia58_intake = Some(Arc::new(IntakeConfig {
            service_key: s.service_key.clone(),
            service_secret: s.service_secret.clone(),
        }));
        self.order_source = Some(Arc::new(
            Daojia58Client::new(s).map_err(StartupError::Config)?,
        ));
        Ok(())
    }
}

/// A real platform's callback route open to any caller is worth a warning at every start:
/// only the platform should reach it.
fn warn_open(sandboxed: bool, allow: &[String], setting: &str, route: &str) {
    if !sandboxed && allow.is_empty() {
        tracing::warn!(
            "{setting} is empty: {route} answers callers from any address; set the platform's addresses"
        );
    }
}
