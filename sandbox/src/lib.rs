//! Local simulators of the platforms orderhub talks to.
//!
//! Each simulator follows the platform's published document, not our adapter: it shares no
//! parsing, signing or mapping code with `orderhub`'s providers, so a misreading of the document
//! on the adapter side shows up as a failing call instead of passing on both sides.
//!
//! Every simulator exposes an axum [`Router`](axum::Router) with the platform's routes at its
//! root and its own control routes under `/_control`, plus a background task for whatever the
//! platform does on its own (status moves, callbacks). [`faults`] and [`kit`] are what they share:
//! latency, error and callback faults, the callback retry queue, control-route helpers and money
//! are the sandbox's behaviour, not the platform's; signing and wire spelling never are.

pub mod dada;
pub mod daojia58;
pub mod daoway;
pub mod faults;
pub mod kit;
pub mod wechat;
