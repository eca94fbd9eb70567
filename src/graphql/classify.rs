//! Every error a client sees carries `extensions.code` from the closed set in
//! [`super::errors::codes`]. Our own refusals set theirs; [`super::stages`] labels the ones
//! async-graphql raises itself: validation failures (`GRAPHQL_VALIDATION_FAILED`, or
//! `INVALID_INPUT` with the `argument` at fault when a value does not fit its type), input
//! that fails to parse at execution (`INVALID_INPUT`), and anything else left without a code
//! (`INTERNAL`, logged).

use async_graphql::ServerError;

use super::errors::codes;

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

/// Labels a validation failure.
pub(super) fn label_validation(e: &mut ServerError) {
    if has_code(e) {
        return;
    }
    match argument_of(&e.message) {
        Some(argument) => set(e, codes::INVALID_INPUT, Some(argument)),
        None => set(e, codes::GRAPHQL_VALIDATION_FAILED, None),
    }
}

/// Labels whatever else reached a response without a code.
pub(super) fn label(errors: &mut [ServerError]) {
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
