//! Integration tests over real HTTP: the server on port 0 with the in-process sandboxes,
//! on SQLite always and on PostgreSQL when asked for (`-- --include-ignored` with
//! ORDERHUB_TEST_DATABASE_URL set; see `helpers`). One binary, so it links once.

mod helpers;

mod access;
mod architecture;
mod auto_dispatch;
mod browser;

mod callbacks;
mod catalog;
mod clients;
mod cluster;
mod connections;
mod contract;
mod dada;
mod dada_rules;
mod daojia58;
mod descriptions;
pub mod dispatch;
mod edge;
mod exports;
mod fanout;
pub mod finding;
mod loaders;
mod orders;
mod readme;
mod relay;
mod restart;
mod safety;
mod schema;
pub mod scorecard;
mod stats;
mod subscriptions;
mod websocket;
mod wechat;
