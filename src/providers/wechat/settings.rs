//! WeChat's settings from the `[wechat]` section: the real platform when `base_url` is set
//! (appid, secret, push token and key, openid required; company accounts as configured),
//! else the sandbox's as they are.

use super::{CompanyAccount, WechatSettings};
use crate::{
    config::{WechatCompanyConfig, WechatConfig},
    providers::settings::source,
};

impl WechatSettings {
    /// The settings to use and whether they are the sandbox's.
    pub fn resolve(cfg: &WechatConfig, sandbox: Option<Self>) -> Result<(Self, bool), String> {
        let timeout = cfg.request_timeout();
        let src = match source("wechat", &cfg.base_url, sandbox)?.into_sandbox() {
            Ok(sb) => return Ok((Self { timeout, ..sb }, true)),
            Err(real) => real,
        };
        let settings = Self {
            base_url: src.need(&cfg.base_url, "base_url")?,
            appid: src.need(&cfg.appid, "appid")?,
            secret: src.need(&cfg.secret, "secret")?,
            token: src.need(&cfg.token, "token")?,
            encoding_aes_key: src.need(&cfg.encoding_aes_key, "encoding_aes_key")?,
            safe_mode: cfg.safe_mode,
            openid: src.need(&cfg.openid, "openid")?,
            companies: cfg.companies.iter().map(CompanyAccount::from).collect(),
            timeout,
        };
        Ok((settings, false))
    }
}

impl From<&WechatCompanyConfig> for CompanyAccount {
    fn from(c: &WechatCompanyConfig) -> Self {
        CompanyAccount {
            delivery_id: c.delivery_id.clone(),
            shopid: c.shopid.clone(),
            app_secret: c.app_secret.clone(),
            free_cancel_window: c.free_cancel_secs.map(std::time::Duration::from_secs),
        }
    }
}
