//! What the platforms with numeric codes (Dada, WeChat) share about them: a status table's
//! lookups and what an error code means for the caller. Each platform's own tables stay in its
//! `status.rs`.

use super::RejectKind;
use crate::domain::OrderStatus;

/// A platform's status codes: code, unified status, label.
pub type StatusTable = [(i64, OrderStatus, &'static str)];

/// The unified status of `code`; `None` for a code the platform has not documented.
pub fn status_of(table: &StatusTable, code: i64) -> Option<OrderStatus> {
    table
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, s, _)| *s)
}

/// A human label for `code`.
pub fn label_of(table: &StatusTable, code: i64) -> &'static str {
    table
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or("未知状态 unknown status", |(_, _, label)| *label)
}

/// What a failure code means for the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// The platform (or the company behind it) could not serve the call now; retrying later
    /// is the answer.
    Transient {
        /// Whether the call may have taken effect anyway.
        outcome_unknown: bool,
    },
    /// The call was refused; retrying the same call will not help.
    Refused(RejectKind),
}
