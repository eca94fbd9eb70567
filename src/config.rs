//! Configuration: defaults that run with no file at all (SQLite in `./data`, every sandbox
//! mounted in-process), overridden by an optional TOML file and then by `ORDERHUB_*`
//! environment variables (`ORDERHUB_DAOWAY__PASSWORD`, `ORDERHUB_SERVER__PORT`, …).
//! Secrets are `SecretString`s: they deserialize, but never print.

mod text;
mod unknown;
mod workers;

pub use workers::{DispatchConfig, OutboxConfig};

use std::{net::IpAddr, path::Path, time::Duration};

use figment::{
    Figment, Source,
    providers::{Format, Toml},
};
#[cfg(feature = "sandbox")]
use orderhub_sandbox::{
    dada::DadaSandboxConfig, daojia58::Daojia58SandboxConfig, daoway::DaowaySandboxConfig,
    wechat::WechatSandboxConfig,
};
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub limits: LimitsConfig,
    pub websocket: WebsocketConfig,
    pub sandbox: SandboxConfig,
    pub daoway: DaowayConfig,
    pub dada: DadaConfig,
    pub wechat: WechatConfig,
    pub daojia58: Daojia58Config,
    pub outbox: OutboxConfig,
    pub dispatch: DispatchConfig,
    pub auth: AuthConfig,
}

/// Who may call without a key.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AnonymousAccess {
    /// Only while every enabled provider is a sandbox and the server listens on loopback
    /// alone (the zero-config default run, GraphiQL without ceremony).
    #[default]
    Auto,
    /// Never: every request needs a key.
    Never,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `auto` (keyless calls only for an all-sandbox server on loopback) or `never`.
    pub anonymous: AnonymousAccess,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub host: IpAddr,
    /// 0 picks a free port (tests do).
    pub port: u16,
    /// How the platforms reach us (callback URLs are built from it). Defaults to the bound
    /// address, which is right for the in-process sandboxes.
    pub public_url: Option<String>,
    /// How long shutdown waits for in-flight requests and workers.
    pub shutdown_grace_secs: u64,
    /// Log output format: `pretty` or `json`.
    pub log_format: String,
    /// Behind a reverse proxy: the header it puts the client's address in (its last entry is
    /// used), e.g. `x-forwarded-for`. Unset = the TCP peer is the caller.
    pub client_ip_header: Option<String>,
    /// The proxies (addresses or CIDR blocks) `client_ip_header` is read from; from any other
    /// peer the header is ignored. Required with `client_ip_header`.
    pub trusted_proxies: Vec<String>,
    /// Browser origins allowed to call `/graphql` and open `/graphql/ws` (CORS and the
    /// websocket `Origin` check), e.g. `https://admin.example.com`. The server's own origin
    /// (GraphiQL) is always allowed.
    pub cors_origins: Vec<String>,
    /// Connections served at once (websockets included); one more is closed at accept.
    pub max_connections: usize,
    /// A connection must deliver a complete request head within this many seconds of
    /// opening, and of its previous response (so it is also HTTP/1's keep-alive idle time);
    /// otherwise it is closed. Stops slow-header (slowloris) clients.
    pub header_read_timeout_secs: u64,
    /// A connection with no byte in either direction for this long is closed (HTTP/2 and
    /// any connection the header timeout does not cover). Websockets have their own pings.
    pub idle_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8000,
            public_url: None,
            shutdown_grace_secs: 20,
            log_format: "pretty".into(),
            client_ip_header: None,
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            max_connections: 10_000,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 120,
        }
    }
}

/// graphql-ws (`/graphql/ws`, protocol `graphql-transport-ws`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebsocketConfig {
    /// A socket that has not sent `connection_init` by then is closed with 4408.
    pub init_timeout_secs: u64,
    /// The server pings every this many seconds; a peer that sends nothing (not even the
    /// pong every websocket answers a ping with) for two intervals is closed. A live
    /// connection is never closed for being quiet.
    pub ping_interval_secs: u64,
    /// Sockets one key holds at once; one more is closed with 4429.
    pub max_sockets_per_key: usize,
    /// Sockets one client address holds at once; one more upgrade is refused (429).
    pub max_sockets_per_address: usize,
    /// Operations running at once on one socket; one more gets an `error` message
    /// (`TOO_MANY_SUBSCRIPTIONS`).
    pub max_subscriptions_per_socket: usize,
    /// Largest message a client may send.
    pub max_message_bytes: usize,
    /// Answers a subscription executed once for many subscribers keeps for those that are
    /// behind; one that falls further behind continues on an execution of its own.
    pub shared_backlog: usize,
}

impl Default for WebsocketConfig {
    fn default() -> Self {
        Self {
            init_timeout_secs: 10,
            ping_interval_secs: 15,
            max_sockets_per_key: 32,
            max_sockets_per_address: 64,
            max_subscriptions_per_socket: 32,
            max_message_bytes: 64 * 1024,
            shared_backlog: 4096,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path?mode=rwc` or `postgres://user:pass@host/db`.
    pub url: SecretString,
    /// Pool size for PostgreSQL. SQLite always uses one writer connection, which keeps its
    /// transactions serial and free of SQLITE_BUSY surprises.
    pub max_connections: u32,
    /// SQLite only: read-only connections the API's reads go through (WAL lets them read
    /// while the writer writes), so reads never queue behind writes. PostgreSQL reads share
    /// the pool.
    pub readers: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from("sqlite://./data/orderhub.db?mode=rwc"),
            max_connections: 10,
            readers: 4,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_query_depth: usize,
    pub max_query_complexity: usize,
    pub max_aliases: usize,
    /// Fields of a document once its fragments are expanded (checked before validation, so
    /// a fragment chain is refused at once).
    pub max_document_fields: usize,
    /// Maximum body of a `/graphql` request.
    pub graphql_body_bytes: usize,
    /// Maximum body of a platform callback.
    pub callback_body_bytes: usize,
    /// Per-request timeout of every route but the websocket.
    pub request_timeout_secs: u64,
    /// Largest page a connection field returns.
    pub max_page_size: usize,
    /// Each caller's cost budget: a bucket of this many points (a request costs its query's
    /// complexity), refilled at `cost_restore_per_sec`; over it, `THROTTLED`.
    pub cost_bucket: u32,
    pub cost_restore_per_sec: u32,
    /// Whether `__schema`/`__type` introspection is served (GraphiQL's docs need it; switch
    /// it off for a public deployment whose clients ship their schema).
    pub introspection: bool,
    /// Fields that call a platform (`courierPosition`, `trackUrl`) one request may resolve;
    /// past it they answer `PLATFORM_CALL_BUDGET`.
    pub platform_calls_per_request: u32,
    /// Requests one batched POST (a JSON array, Apollo's BatchHttpLink) may hold; more is
    /// refused with `BATCH_TOO_LARGE`.
    pub max_batch: usize,
    /// How long a client may reuse a catalogue answer (`Cache-Control: max-age`, private);
    /// 0 turns catalogue caching off.
    pub catalogue_max_age_secs: u32,
    /// How long a catalogue read waits for the marketplaces it asks (categories, shop lists,
    /// a shop's detail): one that has not answered by then is served from what is stored,
    /// marked stale, with a `PROVIDER_UNAVAILABLE` error beside it. Each platform's own
    /// `request_timeout_ms` still applies when shorter.
    pub fanout_deadline_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_query_depth: 16,
            max_query_complexity: 10_000,
            fanout_deadline_ms: 2_000,
            max_aliases: 30,
            max_document_fields: 2_000,
            graphql_body_bytes: 64 * 1024,
            callback_body_bytes: 32 * 1024,
            request_timeout_secs: 30,
            max_page_size: 100,
            introspection: true,
            cost_bucket: 20_000,
            cost_restore_per_sec: 1_000,
            platform_calls_per_request: 10,
            max_batch: 10,
            catalogue_max_age_secs: 60,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Mount the platform simulators under `/sandbox/{platform}` and point every adapter
    /// whose `base_url` is unset at them.
    /// A binary built without the `sandbox` cargo feature refuses to start while this is on.
    pub enabled: bool,
    #[cfg(feature = "sandbox")]
    pub daoway: DaowaySandboxConfig,
    #[cfg(feature = "sandbox")]
    pub dada: DadaSandboxConfig,
    #[cfg(feature = "sandbox")]
    pub wechat: WechatSandboxConfig,
    #[cfg(feature = "sandbox")]
    pub daojia58: Daojia58SandboxConfig,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            #[cfg(feature = "sandbox")]
            daoway: DaowaySandboxConfig::default(),
            #[cfg(feature = "sandbox")]
            dada: DadaSandboxConfig::default(),
            #[cfg(feature = "sandbox")]
            wechat: WechatSandboxConfig::default(),
            #[cfg(feature = "sandbox")]
            daojia58: Daojia58SandboxConfig::default(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaowayConfig {
    pub enabled: bool,
    /// e.g. `http://api.daoway.cn/daoway/rest/open/`. Unset = the in-process sandbox.
    pub base_url: Option<String>,
    /// Our channel number at Daoway. Unset with the sandbox = the sandbox's first channel.
    #[serde(deserialize_with = "text::opt_string")]
    pub channel: Option<String>,
    /// The pre-paid Daoway account orders are charged to.
    #[serde(deserialize_with = "text::opt_string")]
    pub user_name: Option<String>,
    #[serde(deserialize_with = "text::opt_secret")]
    pub password: Option<SecretString>,
    pub request_timeout_ms: u64,
    /// How often in-flight orders' status is polled (Daoway pushes only cancellations).
    pub poll_interval_ms: u64,
    /// How long a shop's fetched detail is served before it is fetched again.
    pub detail_ttl_secs: u64,
    /// Addresses or CIDR blocks allowed to call `/callbacks/daoway/cancel` (the notification
    /// is unsigned). Empty = anyone, which a real deployment is warned about at start-up.
    pub callback_allow_ips: Vec<String>,
}

impl Default for DaowayConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: None,
            channel: None,
            user_name: None,
            password: None,
            request_timeout_ms: 5_000,
            poll_interval_ms: 10_000,
            detail_ttl_secs: 300,
            callback_allow_ips: Vec::new(),
        }
    }
}

impl DaowayConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DadaConfig {
    pub enabled: bool,
    /// `https://newopen.imdada.cn` (production) or `https://newopen.qa.imdada.cn` (Dada's
    /// test environment). Unset = the in-process sandbox.
    pub base_url: Option<String>,
    #[serde(deserialize_with = "text::opt_string")]
    pub app_key: Option<String>,
    #[serde(deserialize_with = "text::opt_secret")]
    pub app_secret: Option<SecretString>,
    /// The merchant's id at Dada (`source_id`); 73753 in Dada's test environment.
    #[serde(deserialize_with = "text::opt_string")]
    pub source_id: Option<String>,
    /// Where Dada posts status callbacks; default `{server.public_url}/callbacks/dada/status`.
    /// Dada must be able to reach it (register the message URL, `/callbacks/dada/message`,
    /// in Dada's console).
    pub callback_url: Option<String>,
    /// Prefix of the `origin_id`s we generate.
    #[serde(deserialize_with = "text::string")]
    pub origin_prefix: String,
    pub request_timeout_ms: u64,
    /// How often in-flight deliveries are checked with Dada, so a lost callback is caught.
    pub poll_interval_ms: u64,
    /// Who answers a courier's request to cancel: `manual` (respondToCourierCancellation),
    /// `accept` or `reject` (at once, through the outbox).
    pub courier_cancel_policy: crate::domain::delivery::CourierCancelPolicy,
    /// Stores imported at start-up (by Dada shop number), so they can be dispatched from.
    /// Unset with the sandbox = the sandbox's seeded stores.
    #[serde(deserialize_with = "text::opt_strings")]
    pub import_shops: Option<Vec<String>>,
    /// Addresses or CIDR blocks allowed to call `/callbacks/dada/*` (Dada's signature has no
    /// secret). Empty = anyone; set it in production.
    pub callback_allow_ips: Vec<String>,
}

impl Default for DadaConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: None,
            app_key: None,
            app_secret: None,
            source_id: None,
            callback_url: None,
            origin_prefix: "OH".into(),
            request_timeout_ms: 5_000,
            poll_interval_ms: 30_000,
            courier_cancel_policy: crate::domain::delivery::CourierCancelPolicy::Manual,
            import_shops: None,
            callback_allow_ips: Vec::new(),
        }
    }
}

impl DadaConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WechatConfig {
    pub enabled: bool,
    /// `https://api.weixin.qq.com`. Unset = the in-process sandbox.
    pub base_url: Option<String>,
    /// The mini-program's appid and secret (for access_token).
    #[serde(deserialize_with = "text::opt_string")]
    pub appid: Option<String>,
    #[serde(deserialize_with = "text::opt_secret")]
    pub secret: Option<SecretString>,
    /// Message push: the Token and EncodingAESKey set in the mini-program's console.
    #[serde(deserialize_with = "text::opt_secret")]
    pub token: Option<SecretString>,
    #[serde(deserialize_with = "text::opt_secret")]
    pub encoding_aes_key: Option<SecretString>,
    /// Safe (encrypted) message push, which instant delivery requires.
    pub safe_mode: bool,
    /// The user openid orders are placed for when a request names none.
    #[serde(deserialize_with = "text::opt_string")]
    pub openid: Option<String>,
    /// Our account at each courier company: `delivery_id`, `shopid` (the company's appkey)
    /// and `app_secret` (for `delivery_sign`).
    pub companies: Vec<WechatCompanyConfig>,
    /// Our stores (the senders), by their number at the companies (`shop_no`).
    pub stores: Vec<WechatStoreConfig>,
    pub request_timeout_ms: u64,
    /// How often in-flight deliveries are checked, so a lost push is caught.
    pub poll_interval_ms: u64,
    /// Addresses or CIDR blocks allowed to call `/callbacks/wechat`. Pushes are signed with
    /// our Token, so this is a second fence; empty = anyone.
    pub push_allow_ips: Vec<String>,
}

impl Default for WechatConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: None,
            appid: None,
            secret: None,
            token: None,
            encoding_aes_key: None,
            safe_mode: true,
            openid: None,
            companies: Vec::new(),
            stores: Vec::new(),
            request_timeout_ms: 5_000,
            poll_interval_ms: 30_000,
            push_allow_ips: Vec::new(),
        }
    }
}

impl WechatConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Daojia58Config {
    pub enabled: bool,
    /// e.g. `http://openapi.daojia.com/api/v1` (sandbox: `https://sandboxapi.daojia.com/api/v1`).
    /// Unset = the in-process sandbox.
    pub base_url: Option<String>,
    /// What 58 assigned: serviceKey, serviceSecret and the access token.
    #[serde(deserialize_with = "text::opt_string")]
    pub service_key: Option<String>,
    #[serde(deserialize_with = "text::opt_secret")]
    pub service_secret: Option<SecretString>,
    #[serde(deserialize_with = "text::opt_secret")]
    pub access_token: Option<SecretString>,
    pub request_timeout_ms: u64,
    /// Addresses or CIDR blocks allowed to push orders to `/callbacks/daojia58/orders`
    /// (58's published ranges). Empty = anyone (the signature still applies).
    pub push_allow_ips: Vec<String>,
}

impl Default for Daojia58Config {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: None,
            service_key: None,
            service_secret: None,
            access_token: None,
            request_timeout_ms: 5_000,
            push_allow_ips: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatCompanyConfig {
    #[serde(deserialize_with = "text::string")]
    pub delivery_id: String,
    #[serde(deserialize_with = "text::string")]
    pub shopid: String,
    #[serde(deserialize_with = "text::secret")]
    pub app_secret: SecretString,
    /// Seconds after a rider is assigned during which this company still lets us cancel
    /// free (your contract with it); unset: cancelling costs from the assignment on. Races
    /// of automatic dispatch rely on it (see README, "Automatic dispatch").
    #[serde(default)]
    pub free_cancel_secs: Option<u64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatStoreConfig {
    #[serde(deserialize_with = "text::string")]
    pub shop_no: String,
    pub name: String,
    pub city: String,
    pub address: String,
    #[serde(default, deserialize_with = "text::string")]
    pub address_detail: String,
    #[serde(deserialize_with = "text::string")]
    pub phone: String,
    pub lng: f64,
    pub lat: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    /// A key no setting has, with where it was written and the closest one that exists.
    #[error("configuration: {0}")]
    UnknownKey(String),
}

impl Config {
    /// Whether any enabled provider is a real platform (its `base_url` is set): keys made
    /// for this deployment are live ones.
    pub fn live(&self) -> bool {
        !self.real_platforms().is_empty()
    }

    /// The config sections of the enabled providers that talk to a real platform (their
    /// `base_url` is set).
    pub fn real_platforms(&self) -> Vec<&'static str> {
        [
            ("daoway", self.daoway.enabled, &self.daoway.base_url),
            ("dada", self.dada.enabled, &self.dada.base_url),
            ("wechat", self.wechat.enabled, &self.wechat.base_url),
            ("daojia58", self.daojia58.enabled, &self.daojia58.base_url),
        ]
        .into_iter()
        .filter(|(_, enabled, url)| *enabled && url.is_some())
        .map(|(section, _, _)| section)
        .collect()
    }

    /// Defaults, then the TOML file if given (or `orderhub.toml` if present), then
    /// `ORDERHUB_*` environment variables (`__` separates sections; `ORDERHUB_TEST_*` belong
    /// to the test suite, not to the server). A variable's value is its text: numbers and
    /// booleans are read from it where the setting is one (see `config/text.rs`).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let toml = match file {
            Some(path) => Toml::file_exact(path),
            None => Toml::file("orderhub.toml"),
        };
        Figment::new()
            .merge(toml)
            .merge(text::EnvText::new())
            .extract_lossy()
            .map_err(explain)
    }
}

/// An unknown key gets its own message (where it was written, what was probably meant);
/// any other error is figment's.
fn explain(e: figment::Error) -> ConfigError {
    let origin = |key: &str| match &e.metadata {
        Some(m) if m.name == text::ENV_SOURCE => {
            let (name, key) = text::EnvText::new()
                .variable_of(key)
                .unwrap_or_else(|| (text::variable_name(key), key.to_owned()));
            unknown::Origin::Variable { name, key }
        }
        Some(m) => match &m.source {
            Some(Source::File(path)) => unknown::Origin::File(path.display().to_string()),
            _ => unknown::Origin::Unknown,
        },
        None => unknown::Origin::Unknown,
    };
    match unknown::message(&e, origin) {
        Some(message) => ConfigError::UnknownKey(message),
        None => ConfigError::Invalid(Box::new(e)),
    }
}

#[cfg(test)]
mod tests;
