//! Database migrations for orderhub. The app runs pending migrations at start-up
//! (`Migrator::up`); `cargo run -p migration -- up|down|status` runs them by hand.
//! One migration per change, never edited once released.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_catalog;
mod m20261123_000002_create_orders;
mod m20261123_000003_add_delivery;
mod m20261123_000004_add_courier_company;
mod m20261123_000005_add_inbound_service;
mod m20261129_000006_add_access;
mod m20261130_000007_add_lease;
mod m20261130_000008_add_event_origin;
mod m20261130_000009_order_search;
mod m20261201_000010_order_steps;
mod m20261201_000011_dispatch_policy;
mod m20261201_000012_dispatch_plan;
mod m20261202_000013_race_width;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_catalog::Migration),
            Box::new(m20261123_000002_create_orders::Migration),
            Box::new(m20261123_000003_add_delivery::Migration),
            Box::new(m20261123_000004_add_courier_company::Migration),
            Box::new(m20261123_000005_add_inbound_service::Migration),
            Box::new(m20261129_000006_add_access::Migration),
            Box::new(m20261130_000007_add_lease::Migration),
            Box::new(m20261130_000008_add_event_origin::Migration),
            Box::new(m20261130_000009_order_search::Migration),
            Box::new(m20261201_000010_order_steps::Migration),
            Box::new(m20261201_000011_dispatch_policy::Migration),
            Box::new(m20261201_000012_dispatch_plan::Migration),
            Box::new(m20261202_000013_race_width::Migration),
        ]
    }
}
