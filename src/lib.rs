//! orderhub: one GraphQL API over the platforms where Chinese local-service businesses get
//! and place orders. [`Application::build`] turns a [`Config`] into a bound, running-ready
//! server — the one entry point `main` and the tests share. ARCHITECTURE.md maps the layers:
//! `app` → `http` → `graphql` / `callbacks` → services (`access`, `catalog`, `orders`, with their shared
//! `refusal`) → `providers`, `outbox`, `events` → `config`, `domain`.

pub mod access;
pub mod app;
pub mod callbacks;
pub mod catalog;
pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod graphql;
pub mod http;
pub mod orders;
pub mod outbox;
pub mod providers;
pub mod refusal;

pub use crate::{
    app::{Application, StartupError},
    config::Config,
};
