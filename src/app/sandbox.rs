//! The default run's in-process platform simulators (cargo feature `sandbox`, on by
//! default): mounted under `/sandbox/…`, told where our callback routes are, and the source
//! of the settings every adapter without a `base_url` uses. A binary built without the
//! feature contains none of this and refuses to start in sandbox mode.

use axum::Router;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    app::StartupError,
    config::{Config, WechatStoreConfig},
    providers::{
        dada::DadaSettings, daojia58::Daojia58Settings, daoway::DaowaySettings,
        wechat::WechatSettings,
    },
};

/// What the sandboxes contribute to the start-up (all empty when they are off).
#[derive(Default)]
pub struct Sandbox {
    /// Mounted under `/sandbox`.
    pub router: Router,
    /// The simulators' background tasks (scheduled moves, callback deliveries).
    pub tasks: Vec<JoinHandle<()>>,
    pub daoway: Option<DaowaySettings>,
    pub dada: Option<DadaSettings>,
    pub wechat: Option<WechatSettings>,
    pub daojia58: Option<Daojia58Settings>,
    /// The Dada stores the simulator was seeded with (imported as shops at start-up).
    pub dada_shops: Vec<String>,
    /// The WeChat stores the simulator was seeded with (our stores: WeChat has no store API).
    pub wechat_stores: Vec<WechatStoreConfig>,
}

#[cfg(feature = "sandbox")]
pub fn start(
    config: &Config,
    base_url: &str,
    shutdown: &CancellationToken,
) -> Result<Sandbox, StartupError> {
    use orderhub_sandbox::{
        dada::DadaSandbox, daojia58::Daojia58Sandbox, daoway::DaowaySandbox, wechat::WechatSandbox,
    };
    use secrecy::SecretString;

    use crate::providers::wechat::CompanyAccount;

    let cfg = &config.sandbox;
    if !cfg.enabled {
        return Ok(Sandbox::default());
    }
    let mut sb = Sandbox::default();
    let mut mount = |path: &str, router: Router, task: JoinHandle<()>| {
        sb.router = std::mem::take(&mut sb.router).nest(path, router);
        sb.tasks.push(task);
    };
    let daoway = DaowaySandbox::new(cfg.daoway.clone());
    daoway.set_cancel_notify_url(format!("{base_url}/callbacks/daoway/cancel"));
    mount("/daoway", daoway.router(), daoway.spawn(shutdown.clone()));
    let dada = DadaSandbox::new(cfg.dada.clone());
    // The message URL with its token, as an operator registers it in Dada's console.
    let dada_secret = config
        .dada
        .app_secret
        .clone()
        .unwrap_or_else(|| SecretString::from(cfg.dada.app_secret.clone()));
    let message_token =
        crate::providers::dada::callback::CallbackTokens::new(dada_secret).message_token();
    dada.set_message_url(format!("{base_url}/callbacks/dada/message/{message_token}"));
    mount("/dada", dada.router(), dada.spawn(shutdown.clone()));
    let wechat = WechatSandbox::new(cfg.wechat.clone());
    wechat.set_push_url(format!("{base_url}/callbacks/wechat"));
    mount("/wechat", wechat.router(), wechat.spawn(shutdown.clone()));
    let daojia58 = Daojia58Sandbox::new(cfg.daojia58.clone());
    daojia58.set_push_url(format!("{base_url}/callbacks/daojia58/orders"));
    mount(
        "/daojia58",
        daojia58.router(),
        daojia58.spawn(shutdown.clone()),
    );

    let account = cfg.daoway.accounts.first();
    sb.daoway = match (cfg.daoway.channels.first(), account) {
        (Some(channel), Some(account)) => Some(DaowaySettings {
            endpoint: format!("{base_url}/sandbox/daoway/"),
            channel: channel.clone(),
            user_name: account.user_name.clone(),
            password: SecretString::from(account.password.clone()),
            timeout: config.daoway.request_timeout(),
        }),
        _ => None,
    };
    sb.dada = Some(DadaSettings {
        base_url: format!("{base_url}/sandbox/dada"),
        app_key: cfg.dada.app_key.clone(),
        app_secret: SecretString::from(cfg.dada.app_secret.clone()),
        source_id: cfg.dada.source_id.clone(),
        timeout: config.dada.request_timeout(),
    });
    let wx = &cfg.wechat;
    sb.wechat = Some(WechatSettings {
        base_url: format!("{base_url}/sandbox/wechat"),
        appid: wx.appid.clone(),
        secret: SecretString::from(wx.secret.clone()),
        token: SecretString::from(wx.token.clone()),
        encoding_aes_key: SecretString::from(wx.encoding_aes_key.clone()),
        safe_mode: wx.safe_mode,
        openid: wx.openids.first().cloned().unwrap_or_default(),
        companies: wx
            .companies
            .iter()
            .filter(|c| c.bound)
            .map(|c| CompanyAccount {
                delivery_id: c.delivery_id.clone(),
                shopid: c.shopid.clone(),
                app_secret: SecretString::from(c.app_secret.clone()),
                free_cancel_window: (c.cancel_rule.free_secs_after_assign > 0)
                    .then(|| std::time::Duration::from_secs(c.cancel_rule.free_secs_after_assign)),
            })
            .collect(),
        timeout: config.wechat.request_timeout(),
    });
    let dj = &cfg.daojia58;
    sb.daojia58 = Some(Daojia58Settings {
        base_url: format!("{base_url}/sandbox/daojia58/api/v1"),
        service_key: dj.service_key.clone(),
        service_secret: SecretString::from(dj.service_secret.clone()),
        access_token: SecretString::from(dj.access_token.clone()),
        timeout: std::time::Duration::from_millis(config.daojia58.request_timeout_ms),
    });
    sb.dada_shops = DadaSandbox::seeded_shop_numbers();
    sb.wechat_stores = WechatSandbox::seeded_stores()
        .into_iter()
        .map(|s| WechatStoreConfig {
            shop_no: s.shop_no,
            name: s.name,
            city: s.city,
            address: s.address,
            address_detail: s.address_detail,
            phone: s.phone,
            lng: s.lng,
            lat: s.lat,
        })
        .collect();
    Ok(sb)
}

/// Refuses sandbox mode in a binary built without the simulators, before anything starts.
pub fn check(config: &Config) -> Result<(), StartupError> {
    if cfg!(not(feature = "sandbox")) && config.sandbox.enabled {
        return Err(StartupError::Config(
            "this binary was built without the platform sandboxes (cargo feature `sandbox`): \
             set sandbox.enabled = false (ORDERHUB_SANDBOX__ENABLED=false) and give every \
             enabled platform its base_url and credentials"
                .into(),
        ));
    }
    if config.sandbox.enabled {
        let named: Vec<String> = config
            .real_platforms()
            .iter()
            .map(|p| format!("{p}.base_url"))
            .collect();
        if !named.is_empty() {
            return Err(StartupError::Config(format!(
                "sandbox mode is on, but {} is set: a deployment talks to the sandboxes or to \
                 real platforms, never both (set sandbox.enabled = false for real use, and \
                 enabled = false on the platforms you do not use)",
                named.join(" and ")
            )));
        }
    }
    Ok(())
}

/// Without the simulators there is nothing to start (`check` refused sandbox mode already).
#[cfg(not(feature = "sandbox"))]
pub fn start(
    _config: &Config,
    _base_url: &str,
    _shutdown: &CancellationToken,
) -> Result<Sandbox, StartupError> {
    Ok(Sandbox::default())
}
