//! 58 Daojia's settings from the `[daojia58]` section: the real platform when `base_url` is
//! set (service key, secret and access token required), else the sandbox's as they are.

use std::time::Duration;

use super::Daojia58Settings;
use crate::{
    config::Daojia58Config,
    providers::settings::{Source, need, source},
};

impl Daojia58Settings {
    /// The settings to use and whether they are the sandbox's.
    pub fn resolve(cfg: &Daojia58Config, sandbox: Option<Self>) -> Result<(Self, bool), String> {
        let timeout = Duration::from_millis(cfg.request_timeout_ms);
        Ok(match source("daojia58", &cfg.base_url, sandbox)? {
            Source::Real(base_url) => (
                Self {
                    base_url,
                    service_key: need(cfg.service_key.clone(), "daojia58", "service_key")?,
                    service_secret: need(cfg.service_secret.clone(), "daojia58", "service_secret")?,
                    access_token: need(cfg.access_token.clone(), "daojia58", "access_token")?,
                    timeout,
                },
                false,
            ),
            Source::Sandbox(sb) => (Self { timeout, ..sb }, true),
        })
    }
}
