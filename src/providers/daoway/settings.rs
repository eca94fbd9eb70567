//! Daoway's settings from the `[daoway]` section: the real platform when `base_url` is set
//! (channel, user name and password required), else the sandbox's, each overridable.

use std::time::Duration;

use secrecy::SecretString;

use crate::{config::DaowayConfig, providers::settings::source};

/// How to reach Daoway and as whom.
#[derive(Clone, Debug)]
pub struct DaowaySettings {
    /// e.g. `http://api.daoway.cn/daoway/rest/open/`, or a sandbox's address.
    pub endpoint: String,
    /// Our channel number: every call carries it, and so must Daoway's notifications.
    pub channel: String,
    pub user_name: String,
    pub password: SecretString,
    pub timeout: Duration,
}

impl DaowaySettings {
    /// The settings to use and whether they are the sandbox's.
    pub fn resolve(cfg: &DaowayConfig, sandbox: Option<Self>) -> Result<(Self, bool), String> {
        let src = source("daoway", &cfg.base_url, sandbox)?;
        let settings = Self {
            endpoint: src.base_url(|sb| sb.endpoint.clone()),
            channel: src.credential(&cfg.channel, "channel", |sb| sb.channel.clone())?,
            user_name: src.credential(&cfg.user_name, "user_name", |sb| sb.user_name.clone())?,
            password: src.credential(&cfg.password, "password", |sb| sb.password.clone())?,
            timeout: cfg.request_timeout(),
        };
        Ok((settings, src.is_sandbox()))
    }
}
