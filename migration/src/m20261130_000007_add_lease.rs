//! Leases: which instance of a cluster does a piece of singular background work (polling a
//! platform) for now. One row per piece of work; the holder renews it while it works.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Lease::Table)
                    .if_not_exists()
                    .col(string(Lease::Name).primary_key())
                    .col(string(Lease::Holder))
                    .col(timestamp_with_time_zone(Lease::ExpiresAt))
                    .col(big_integer(Lease::Renewals).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Lease::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Lease {
    Table,
    Name,
    Holder,
    ExpiresAt,
    Renewals,
}
