//! 58 Daojia's settings from the `[daojia58]` section: the real platform when `base_url` is
//! set (service key, secret and access token required), else the sandbox's as they are.

use std::time::Duration;

use super::Daojia58Settings;
use crate::{config::Daojia58Config, providers::settings::source};

impl Daojia58Settings {
    /// The settings to use and whether they are the sandbox's.
    pub fn resolve(cfg: &Daojia58Config, sandbox: Option<Self>) -> Result<(Self, bool), String> {
        let timeout = Duration::from_millis(cfg.request_timeout_ms);
        let src = match source("daojia58", &cfg.base_url, sandbox)?.into_sandbox() {
            Ok(sb) => return Ok((Self { timeout, ..sb }, true)),
            Err(real) => real,
        };
        let settings = Self {
            base_url: src.need(&cfg.base_url, "base_url")?,
            service_key: src.need(&cfg.service_key, "service_key")?,
            service_secret: src.need(&cfg.service_secret, "service_secret")?,
            access_token: src.need(&cfg.access_token, "access_token")?,
            timeout,
        };
        Ok((settings, false))
    }
}
