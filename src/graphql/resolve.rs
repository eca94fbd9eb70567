//! The few shapes every resolver takes: reaching the [`Services`], calling one service
//! method, and turning its result into either the payload's object and `userErrors`
//! (mutations) or the value and a GraphQL error (reads). Resolvers differ only in the call.

use async_graphql::{Context, Result};

use super::{
    Services,
    errors::{self, internal, refusal},
};
use crate::orders::{self, OrderError};

/// The services, as every resolver reaches them.
pub(super) fn services<'a>(ctx: &Context<'a>) -> Result<&'a Services> {
    ctx.data::<Services>()
}

/// A service's refusals as the payload's `userErrors`.
pub(super) fn refused(errors: Vec<orders::UserError>) -> Vec<errors::UserError> {
    let errors: Vec<errors::UserError> = errors.into_iter().map(errors::UserError::from).collect();
    super::access::note_refusal(&errors);
    errors
}

/// One refusal of an input field that did not parse: `"<field> is not <what>"`.
pub(super) fn bad_id(field: &str, what: &str) -> Vec<errors::UserError> {
    refused(vec![orders::UserError::new(
        &[field],
        orders::UserErrorCode::InvalidInput,
        format!("{field} is not {what}"),
    )])
}

/// Splits a service result into the payload's object and its user errors; a database
/// failure is an internal error.
pub(super) fn settle<T, U>(
    r: Result<T, OrderError>,
    wrap: impl FnOnce(T) -> U,
) -> Result<(Option<U>, Vec<errors::UserError>)> {
    match r {
        Ok(v) => Ok((Some(wrap(v)), vec![])),
        Err(OrderError::User(e)) => Ok((None, refused(e))),
        Err(OrderError::Db(e)) => Err(internal(e)),
    }
}

/// The read side's version of [`settle`]: a refusal becomes a GraphQL error with its codes.
pub(super) fn answer<T>(r: Result<T, OrderError>) -> Result<T> {
    match r {
        Ok(v) => Ok(v),
        Err(OrderError::User(mut e)) if !e.is_empty() => Err(refusal(e.remove(0))),
        Err(OrderError::User(_)) => Err(internal("empty refusal")),
        Err(OrderError::Db(e)) => Err(internal(e)),
    }
}

/// A pass-through read: one service call, its value converted for the API. A refusal is a
/// GraphQL error with its codes; a database failure is logged and reported as `INTERNAL`.
pub(super) async fn read<T, E, U>(
    ctx: &Context<'_>,
    call: impl AsyncFnOnce(&Services) -> Result<T, E>,
    wrap: impl FnOnce(T) -> U,
) -> Result<U>
where
    E: Into<OrderError>,
{
    let services = services(ctx)?;
    answer(call(services).await.map_err(Into::into)).map(wrap)
}

/// Every item of a service's list, as its API object.
pub(super) fn all<T, U: From<T>>(list: Vec<T>) -> Vec<U> {
    list.into_iter().map(U::from).collect()
}

/// A telephone number, parsed at the edge: a blank or malformed one becomes a user error on
/// `path` (the services only ever see a valid number).
pub(super) fn phone(
    raw: &str,
    path: &[&str],
    errors: &mut Vec<crate::orders::UserError>,
) -> Option<crate::domain::PhoneNumber> {
    let message = if raw.trim().is_empty() {
        format!("{} is required", path.join("."))
    } else {
        match crate::domain::PhoneNumber::parse(raw) {
            Ok(phone) => return Some(phone),
            Err(e) => e.to_string(),
        }
    };
    errors.push(crate::orders::UserError::new(
        path,
        crate::orders::UserErrorCode::InvalidInput,
        message,
    ));
    None
}

/// A client's idempotency key, parsed at the edge: an invalid one becomes a user error on
/// `idempotencyKey` (the service only ever sees a valid key).
/// The key is scoped to the caller: one API key's idempotency keys are invisible to another.
pub(super) fn idempotency_key(
    ctx: &Context<'_>,
    raw: Option<String>,
    errors: &mut Vec<crate::orders::UserError>,
) -> Result<Option<crate::domain::IdempotencyKey>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let namespace = super::access::caller(ctx)?.idempotency_namespace();
    Ok(match crate::domain::IdempotencyKey::parse(&raw) {
        Ok(key) => Some(key.scoped(&namespace)),
        Err(e) => {
            errors.push(crate::orders::UserError::new(
                &["idempotencyKey"],
                crate::orders::UserErrorCode::InvalidInput,
                e.to_string(),
            ));
            None
        }
    })
}
