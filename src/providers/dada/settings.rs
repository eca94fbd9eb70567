//! Dada's settings from the `[dada]` section: the real platform when `base_url` is set
//! (app key, secret and merchant id required), else the sandbox's, each overridable.

use super::DadaSettings;
use crate::{config::DadaConfig, providers::settings::source};

impl DadaSettings {
    /// The settings to use and whether they are the sandbox's.
    pub fn resolve(cfg: &DadaConfig, sandbox: Option<Self>) -> Result<(Self, bool), String> {
        let src = source("dada", &cfg.base_url, sandbox)?;
        let settings = Self {
            base_url: src.base_url(|sb| sb.base_url.clone()),
            app_key: src.credential(&cfg.app_key, "app_key", |sb| sb.app_key.clone())?,
            app_secret: src
                .credential(&cfg.app_secret, "app_secret", |sb| sb.app_secret.clone())?,
            source_id: src.credential(&cfg.source_id, "source_id", |sb| sb.source_id.clone())?,
            timeout: cfg.request_timeout(),
        };
        Ok((settings, src.is_sandbox()))
    }
}
