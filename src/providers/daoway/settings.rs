//! Daoway's settings from the `[daoway]` section: the real platform when `base_url` is set
//! (channel, user name and password required), else the sandbox's, each overridable.

use std::time::Duration;

use secrecy::SecretString;

use crate::{
    config::DaowayConfig,
    providers::settings::{Source, need, source},
};

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
        Ok(match source("daoway", &cfg.base_url, sandbox)? {
            Source::Real(endpoint) => (
                Self {
                    endpoint,
                    channel: need(cfg.channel.clone(), "daoway", "channel")?,
                    user_name: need(cfg.user_name.clone(), "daoway", "user_name")?,
                    password: need(cfg.password.clone(), "daoway", "password")?,
                    timeout: cfg.request_timeout(),
                },
                false,
            ),
            Source::Sandbox(sb) => (
                Self {
                    endpoint: sb.endpoint,
                    channel: cfg.channel.clone().unwrap_or(sb.channel),
                    user_name: cfg.user_name.clone().unwrap_or(sb.user_name),
                    password: cfg.password.clone().unwrap_or(sb.password),
                    timeout: cfg.request_timeout(),
                },
                true,
            ),
        })
    }
}
