//! How failures look to a client: refusals are `userErrors` in the payload (field, message,
//! code, and the platform's own code when it came from a platform); everything else is a
//! GraphQL error with `extensions.code` from a closed set. Database and unexpected errors are
//! logged and reported as `INTERNAL`, never echoed.

use async_graphql::{Enum, ErrorExtensions, SimpleObject};

use crate::{catalog::ProviderFailure as ProviderError, orders};

/// Closed set of `extensions.code` values of GraphQL errors (README, *Errors and media
/// types*, documents each; a test keeps the two in step).
pub mod codes {
    /// The document is not GraphQL (a syntax error).
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    /// The document does not fit the schema (unknown field, missing variable, …).
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const INVALID_INPUT: &str = "INVALID_INPUT";
    pub const PROVIDER_UNAVAILABLE: &str = "PROVIDER_UNAVAILABLE";
    pub const INTERNAL: &str = "INTERNAL";
    pub const UNSUPPORTED_BY_PROVIDER: &str = "UNSUPPORTED_BY_PROVIDER";
    pub const PROVIDER_REJECTED: &str = "PROVIDER_REJECTED";
    /// No key, or a key that is not valid (unknown, revoked, sandbox key on a live server).
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The key lacks the field's scope, or is restricted to other shops.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// The request has used up its calls to platforms (`limits.platform_calls_per_request`).
    pub const PLATFORM_CALL_BUDGET: &str = "PLATFORM_CALL_BUDGET";
    /// A websocket already runs `websocket.max_subscriptions_per_socket` operations.
    pub const TOO_MANY_SUBSCRIPTIONS: &str = "TOO_MANY_SUBSCRIPTIONS";
    /// Document limits (with `limit` and `actual` in `extensions`).
    pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    pub const QUERY_TOO_LARGE: &str = "QUERY_TOO_LARGE";
    pub const ALIAS_LIMIT: &str = "ALIAS_LIMIT";
    pub const INTROSPECTION_DISABLED: &str = "INTROSPECTION_DISABLED";
    /// The caller's cost bucket is empty (`retryAfterMs`).
    pub const THROTTLED: &str = "THROTTLED";
    /// Refusals of the HTTP request itself.
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const BODY_TOO_LARGE: &str = "BODY_TOO_LARGE";
    pub const BATCH_TOO_LARGE: &str = "BATCH_TOO_LARGE";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    /// Apollo persisted queries: the hash is not known here (send the query with it).
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    pub const PERSISTED_QUERY_NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";

    /// Every code, for the documentation check.
    pub const ALL: &[&str] = &[
        GRAPHQL_PARSE_FAILED,
        GRAPHQL_VALIDATION_FAILED,
        NOT_FOUND,
        INVALID_INPUT,
        PROVIDER_UNAVAILABLE,
        INTERNAL,
        UNSUPPORTED_BY_PROVIDER,
        PROVIDER_REJECTED,
        UNAUTHENTICATED,
        FORBIDDEN,
        PLATFORM_CALL_BUDGET,
        TOO_MANY_SUBSCRIPTIONS,
        QUERY_TOO_DEEP,
        QUERY_TOO_COMPLEX,
        QUERY_TOO_LARGE,
        ALIAS_LIMIT,
        INTROSPECTION_DISABLED,
        THROTTLED,
        BAD_REQUEST,
        BODY_TOO_LARGE,
        BATCH_TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        NOT_ACCEPTABLE,
        METHOD_NOT_ALLOWED,
        PERSISTED_QUERY_NOT_FOUND,
        PERSISTED_QUERY_NOT_SUPPORTED,
    ];
}

crate::refusal::user_error_code_enum! {
    /// Why a mutation was refused: the closed set of codes programs branch on.
    #[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
    #[graphql(remote = "crate::orders::UserErrorCode")]
    pub enum UserErrorCode
}

/// A refusal of a mutation. Nothing was changed.
#[derive(SimpleObject, Clone, Debug)]
pub struct UserError {
    /// Path to the input field at fault, e.g. `["input", "items", "0", "quantity"]`.
    pub field: Vec<String>,
    /// What is wrong, for people; a platform's refusal keeps its own words.
    pub message: String,
    /// What kind of refusal, for programs to branch on.
    pub code: UserErrorCode,
    /// The platform's own error code, when the platform refused.
    pub platform_code: Option<String>,
}

impl From<orders::UserError> for UserError {
    fn from(e: orders::UserError) -> Self {
        Self {
            field: e.field,
            message: e.message,
            code: e.code.into(),
            platform_code: e.platform_code,
        }
    }
}

/// A refusal on the read side, where there is no payload: a GraphQL error with the user
/// error's code (and the platform's, when it came from one) in `extensions`.
pub fn refusal(e: orders::UserError) -> async_graphql::Error {
    let code = match e.code {
        orders::UserErrorCode::ProviderUnavailable => codes::PROVIDER_UNAVAILABLE,
        orders::UserErrorCode::NotFound => codes::NOT_FOUND,
        orders::UserErrorCode::UnsupportedByProvider => codes::UNSUPPORTED_BY_PROVIDER,
        orders::UserErrorCode::InvalidInput => codes::INVALID_INPUT,
        _ => codes::PROVIDER_REJECTED,
    };
    async_graphql::Error::new(e.message).extend_with(|_, ext| {
        ext.set("code", code);
        if let Some(p) = &e.platform_code {
            ext.set("platformCode", p.as_str());
        }
    })
}

/// An unexpected failure: logged with its detail, reported without it.
pub fn internal(e: impl std::fmt::Display) -> async_graphql::Error {
    tracing::error!(error = %e, "internal error");
    async_graphql::Error::new("internal error")
        .extend_with(|_, ext| ext.set("code", codes::INTERNAL))
}

pub fn not_found(what: &str) -> async_graphql::Error {
    async_graphql::Error::new(format!("{what} not found"))
        .extend_with(|_, ext| ext.set("code", codes::NOT_FOUND))
}

pub fn invalid(message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message.into())
        .extend_with(|_, ext| ext.set("code", codes::INVALID_INPUT))
}

/// A provider that could not answer: reported beside partial data.
pub fn provider_error(e: &ProviderError) -> async_graphql::ServerError {
    let provider = e.provider().as_str();
    let message = match e {
        ProviderError::Rejected { message, .. } => format!("{provider}: {message}"),
        _ => format!("{provider} is unavailable; stored data is served and marked stale"),
    };
    async_graphql::Error::new(message)
        .extend_with(|_, ext| {
            ext.set("code", codes::PROVIDER_UNAVAILABLE);
            ext.set("provider", provider);
        })
        .into_server_error(async_graphql::Pos::default())
}

#[cfg(test)]
mod tests {
    use super::codes;

    /// The README documents every code of the closed set.
    #[test]
    fn readme_documents_every_code() {
        let readme = include_str!("../../README.md");
        let table = readme
            .split("### Errors and media types")
            .nth(1)
            .expect("the README's error section");
        for code in codes::ALL {
            assert!(table.contains(&format!("`{code}`")), "README lacks {code}");
        }
    }
}
