//! The platforms' inbound HTTP routes. Each platform's module mounts its own routes
//! (`routes(..)`, taking just what that platform needs): it hands the request to the
//! provider's pure verify-and-parse functions, applies the result through the order service,
//! and answers in the platform's own reply shape — acknowledged only after the write
//! committed. This layer sits above the services; the providers below it never see HTTP
//! state or the database.

pub mod allow;
pub mod dada;
pub mod daojia58;
pub mod daoway;
pub mod wechat;

use std::sync::Arc;

use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;

use self::allow::AllowList;
use crate::{
    orders::OrderService,
    providers::{daojia58::callback::IntakeConfig, wechat::PushConfig},
};

/// Everything the callback routes need besides the order service.
#[derive(Clone, Default)]
pub struct CallbackSettings {
    /// The channel Daoway notifications must carry (None when Daoway is off).
    pub daoway_channel: Option<String>,
    /// Who may call Daoway's cancel notification route.
    pub daoway_callers: Arc<AllowList>,
    /// Who may call Dada's callback routes.
    pub dada_callers: Arc<AllowList>,
    /// The tokens of each order's callback URL (None when Dada is off).
    pub dada_tokens: Option<Arc<crate::providers::dada::callback::CallbackTokens>>,
    /// How WeChat's message pushes are verified and answered (None when WeChat is off).
    pub wechat_push: Option<Arc<PushConfig>>,
    /// Who may call the WeChat push route.
    pub wechat_callers: Arc<AllowList>,
    /// How 58's order pushes are checked (None when 58 Daojia is off).
    pub daojia58_intake: Option<Arc<IntakeConfig>>,
    /// Who may push 58 orders.
    pub daojia58_callers: Arc<AllowList>,
}

/// Every platform's callback routes, with bodies limited to `body_limit` bytes.
pub fn router(orders: &OrderService, settings: CallbackSettings, body_limit: usize) -> Router {
    Router::new()
        .merge(daoway::routes(
            orders.clone(),
            settings.daoway_channel,
            settings.daoway_callers,
        ))
        .merge(dada::routes(
            orders.clone(),
            settings.dada_callers,
            settings.dada_tokens,
        ))
        .merge(daojia58::routes(
            orders.clone(),
            settings.daojia58_intake,
            settings.daojia58_callers,
        ))
        .merge(wechat::routes(
            orders.clone(),
            settings.wechat_push,
            settings.wechat_callers,
        ))
        .layer(RequestBodyLimitLayer::new(body_limit))
}
