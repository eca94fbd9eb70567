//! Dada's settings from the `[dada]` section: the real platform when `base_url` is set
//! (app key, secret and merchant id required), else the sandbox's, each overridable.

use super::DadaSettings;
use crate::{
    config::DadaConfig,
    providers::settings::{Source, need, source},
};

impl DadaSettings {
    /// The settings to use and whether they are the sandbox's.
    pub fn resolve(cfg: &DadaConfig, sandbox: Option<Self>) -> Result<(Self, bool), String> {
        Ok(match source("dada", &cfg.base_url, sandbox)? {
            Source::Real(base_url) => (
                Self {
                    base_url,
                    app_key: need(cfg.app_key.clone(), "dada", "app_key")?,
                    app_secret: need(cfg.app_secret.clone(), "dada", "app_secret")?,
                    source_id: need(cfg.source_id.clone(), "dada", "source_id")?,
                    timeout: cfg.request_timeout(),
                },
                false,
            ),
            Source::Sandbox(sb) => (
                Self {
                    base_url: sb.base_url,
                    app_key: cfg.app_key.clone().unwrap_or(sb.app_key),
                    app_secret: cfg.app_secret.clone().unwrap_or(sb.app_secret),
                    source_id: cfg.source_id.clone().unwrap_or(sb.source_id),
                    timeout: cfg.request_timeout(),
                },
                true,
            ),
        })
    }
}
