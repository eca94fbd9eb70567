//! Plumbing every simulator needs and none of the platforms defines: the callback retry queue,
//! control-route helpers, money in integer fen, the refusal type behind each platform's error
//! envelope, and start-up bits (the state lock, the HTTP client).
//!
//! Nothing here knows a platform's signature, wire spelling or code table; those stay in each
//! platform's folder so every sandbox remains an independent witness. What lives here is the
//! part that was the same in all four, written once.

pub mod acceptance;
pub mod clock;
pub mod control;
pub mod money;
pub mod queue;
pub mod reject;
pub mod start;
