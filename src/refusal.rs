//! What the services tell a caller they refused, shared by every service (catalogue, orders,
//! deliveries, inbound work) so none of them has to import another for it: the closed set
//! of user-error codes, a refusal with the input path at fault, the services' error type,
//! and a platform's refusal or outage turned into a user error that keeps the platform's
//! own code. The API layer turns these into `userErrors` and GraphQL errors.

use std::sync::Arc;

use sea_orm::DbErr;

use crate::{
    domain::ProviderId,
    providers::{ProviderError, Registry, RejectKind, delivery::CourierNetwork},
};

/// Declares an enum with the user-error codes: the services' `UserErrorCode` and its GraphQL
/// mirror are both declared from this one list (the closed set clients branch on).
macro_rules! user_error_code_enum {
    ($(#[$attr:meta])* $vis:vis enum $name:ident) => {
        $(#[$attr])*
        $vis enum $name {
        /// An input value is missing, malformed or out of range; `field` names it.
        InvalidInput,
        /// What the input names does not exist, here or at the platform.
        NotFound,
        /// A `priceId` is not a price the shop offers.
        UnknownPrice,
        /// A line's quantity is below the price's `minBuyNum`.
        BelowMinimumQuantity,
        /// The items' total is below the shop's smallest order (`fees.minBuyPrice`).
        BelowMinimumAmount,
        /// `appointTime` is sooner than the shop's notice period (`hours.aheadMinutes`).
        AppointmentTooSoon,
        /// `appointTime` is outside the shop's opening hours (China time).
        OutsideServiceHours,
        /// Our pre-paid balance at the platform does not cover it.
        InsufficientBalance,
        /// The platform refused; `platformCode` and `message` keep its own code and words.
        PlatformRejected,
        /// The platform could not be reached or did not answer in time; try again later.
        ProviderUnavailable,
        /// The provider does not support this, or is not a provider of that kind here.
        UnsupportedByProvider,
        /// The idempotency key was already used for a different request.
        IdempotencyKeyReused,
        /// A request with this idempotency key is still being processed; retry shortly.
        IdempotencyKeyInUse,
        /// The order (or quote, or reference) was already dispatched.
        AlreadyDispatched,
        /// The order is not in a state that allows this.
        InvalidState,
        }
    };
}
pub(crate) use user_error_code_enum;

user_error_code_enum! {
    /// Why a request was refused, in terms the API turns into `userErrors`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum UserErrorCode
}

#[derive(Debug, Clone)]
pub struct UserError {
    /// Path of the input field at fault, e.g. `["input", "items", "0", "quantity"]`.
    pub field: Vec<String>,
    pub message: String,
    pub code: UserErrorCode,
    /// The platform's own error code, when the refusal came from the platform.
    pub platform_code: Option<String>,
}

impl UserError {
    pub fn new(field: &[&str], code: UserErrorCode, message: impl Into<String>) -> Self {
        Self {
            field: std::iter::once("input")
                .chain(field.iter().copied())
                .map(str::to_owned)
                .collect(),
            message: message.into(),
            code,
            platform_code: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    /// The caller's request was refused; nothing changed.
    #[error("refused")]
    User(Vec<UserError>),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<UserError> for OrderError {
    fn from(e: UserError) -> Self {
        Self::User(vec![e])
    }
}

/// A platform refusal or outage as a user error, keeping the platform's code and message.
pub fn provider_user_error(e: &ProviderError) -> UserError {
    match e {
        ProviderError::Rejected {
            kind,
            code,
            message,
            provider,
        } => {
            let code_ = match kind {
                RejectKind::InsufficientBalance => UserErrorCode::InsufficientBalance,
                RejectKind::NotFound => UserErrorCode::NotFound,
                RejectKind::InvalidRequest => UserErrorCode::InvalidInput,
                RejectKind::Unsupported => UserErrorCode::UnsupportedByProvider,
                RejectKind::Unauthorized | RejectKind::Other => UserErrorCode::PlatformRejected,
            };
            UserError {
                field: vec!["input".into()],
                message: format!("{provider}: {message}"),
                code: code_,
                platform_code: code.clone(),
            }
        }
        ProviderError::Unavailable { provider, .. } | ProviderError::Protocol { provider, .. } => {
            UserError {
                field: vec!["input".into()],
                message: format!("{provider} is unavailable, try again later"),
                code: UserErrorCode::ProviderUnavailable,
                platform_code: None,
            }
        }
    }
}

/// The enabled courier network for `provider`, or a refusal naming the input `field`.
pub fn courier_network(
    registry: &Registry,
    provider: ProviderId,
    field: &[&str],
) -> Result<Arc<dyn CourierNetwork>, OrderError> {
    registry.courier(provider).cloned().ok_or_else(|| {
        UserError::new(
            field,
            UserErrorCode::UnsupportedByProvider,
            format!("{provider} is not a courier network enabled here"),
        )
        .into()
    })
}

/// A call whose outcome is unknown (the platform did not answer in time) as a refusal that
/// keeps the provider's code and says, in `message`, what became of the order.
pub fn outcome_unknown(e: &ProviderError, message: String) -> OrderError {
    let mut err = provider_user_error(e);
    err.message = message;
    err.into()
}
