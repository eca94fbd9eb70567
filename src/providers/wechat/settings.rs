//! WeChat's settings from the `[wechat]` section: the real platform when `base_url` is set
//! (appid, secret, push token and key, openid required; company accounts as configured),
//! else the sandbox's as they are.

use super::{CompanyAccount, WechatSettings};
use crate::{
    config::WechatConfig,
    providers::settings::{Source, need, source},
};

impl WechatSettings {
    /// The settings to use and whether they are the sandbox's.
    pub fn resolve(cfg: &WechatConfig, sandbox: Option<Self>) -> Result<(Self, bool), String> {
        Ok(match source("wechat", &cfg.base_url, sandbox)? {
            Source::Real(base_url) => (
                Self {
                    base_url,
                    appid: need(cfg.appid.clone(), "wechat", "appid")?,
                    secret: need(cfg.secret.clone(), "wechat", "secret")?,
                    token: need(cfg.token.clone(), "wechat", "token")?,
                    encoding_aes_key: need(
                        cfg.encoding_aes_key.clone(),
                        "wechat",
                        "encoding_aes_key",
                    )?,
                    safe_mode: cfg.safe_mode,
                    openid: need(cfg.openid.clone(), "wechat", "openid")?,
                    companies: cfg
                        .companies
                        .iter()
                        .map(|c| CompanyAccount {
                            delivery_id: c.delivery_id.clone(),
                            shopid: c.shopid.clone(),
                            app_secret: c.app_secret.clone(),
                        })
                        .collect(),
                    timeout: cfg.request_timeout(),
                },
                false,
            ),
            Source::Sandbox(sb) => (
                Self {
                    timeout: cfg.request_timeout(),
                    ..sb
                },
                true,
            ),
        })
    }
}
