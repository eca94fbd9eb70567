//! `cargo run -p migration -- up|down|status`: manage the migrations by hand (the app
//! applies pending ones at start-up).

use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    cli::run_cli(migration::Migrator).await;
}
