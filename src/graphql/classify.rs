//! Every error a client sees carries `extensions.code` from the closed set in
//! [`super::errors::codes`]. Our own refusals set theirs; this extension labels the ones
//! async-graphql raises itself: validation failures (`GRAPHQL_VALIDATION_FAILED`, or
//! `INVALID_INPUT` with the `argument` at fault when a value does not fit its type), input
//! that fails to parse at execution (`INVALID_INPUT`), and anything else left without a code
//! (`INTERNAL`, logged).

use std::sync::Arc;

use async_graphql::{
    Response, ServerError, ValidationResult,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe, NextValidation,
    },
    futures_util::stream::BoxStream,
};
use futures::StreamExt;

use super::errors::codes;

/// Registered first, so it sees every error the others and the library produce.
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Classify)
    }
}

struct Classify;

fn has_code(e: &ServerError) -> bool {
    e.extensions
        .as_ref()
        .is_some_and(|x| x.get("code").is_some())
}

fn set(e: &mut ServerError, code: &str, argument: Option<String>) {
    let ext = e.extensions.get_or_insert_with(Default::default);
    ext.set("code", code);
    if let Some(a) = argument {
        ext.set("argument", a);
    }
}

/// The argument a validation message names, with the input field when it names one:
/// `Invalid value for argument "input.address", field "street" …` → `input.address.street`.
fn argument_of(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Invalid value for argument \"")?;
    let (argument, rest) = rest.split_once('"')?;
    let field = rest
        .strip_prefix(", field \"")
        .or_else(|| rest.strip_prefix(", unknown field \""))
        .and_then(|r| r.split_once('"'))
        .map(|(f, _)| f);
    Some(match field {
        Some(f) => format!("{argument}.{f}"),
        None => argument.to_owned(),
    })
}

fn label_validation(e: &mut ServerError) {
    if has_code(e) {
        return;
    }
    match argument_of(&e.message) {
        Some(argument) => set(e, codes::INVALID_INPUT, Some(argument)),
        None => set(e, codes::GRAPHQL_VALIDATION_FAILED, None),
    }
}

fn label(errors: &mut [ServerError]) {
    for e in errors.iter_mut().filter(|e| !has_code(e)) {
        if e.message.starts_with("Failed to parse") {
            set(e, codes::INVALID_INPUT, None);
        } else if e.path.is_empty() {
            // Request-level: an unknown operation name, a missing one among several.
            set(e, codes::GRAPHQL_VALIDATION_FAILED, None);
        } else {
            tracing::warn!(message = %e.message, path = ?e.path, "an error without a code reached a client");
            set(e, codes::INTERNAL, None);
        }
    }
}

#[async_trait::async_trait]
impl Extension for Classify {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            errors.iter_mut().for_each(label_validation);
            errors
        })
    }

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        label(&mut response.errors);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream)
            .map(|mut response| {
                label(&mut response.errors);
                response
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_argument_at_fault() {
        assert_eq!(
            argument_of(
                "Invalid value for argument \"input.address\", field \"street\" of type \"String!\" is required but not provided"
            )
            .as_deref(),
            Some("input.address.street")
        );
        assert_eq!(
            argument_of("Invalid value for argument \"first\", expected type \"Int\"").as_deref(),
            Some("first")
        );
        assert_eq!(
            argument_of("Unknown field \"nope\" on type \"Query\""),
            None
        );
    }
}
