//! Dispatch policies: per shop, how an automatic dispatch chooses among courier networks —
//! the strategy, the networks and companies allowed (in preferred order), the same store on
//! other networks, a fee cap, tip escalation, when to move to the next network, and whether
//! several may race.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DispatchPolicy::Table)
                    .if_not_exists()
                    .col(big_integer(DispatchPolicy::ShopId).primary_key())
                    .col(string(DispatchPolicy::Strategy))
                    .col(text(DispatchPolicy::Networks))
                    .col(text(DispatchPolicy::LinkedShops))
                    .col(big_integer_null(DispatchPolicy::FeeCapFen))
                    .col(big_integer(DispatchPolicy::TipStepFen).default(0))
                    .col(big_integer(DispatchPolicy::TipIntervalSecs).default(0))
                    .col(big_integer(DispatchPolicy::TipCapFen).default(0))
                    .col(big_integer_null(DispatchPolicy::SwitchAfterSecs))
                    .col(boolean(DispatchPolicy::Race).default(false))
                    .col(timestamp_with_time_zone(DispatchPolicy::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DispatchPolicy::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DispatchPolicy {
    Table,
    ShopId,
    Strategy,
    Networks,
    LinkedShops,
    FeeCapFen,
    TipStepFen,
    TipIntervalSecs,
    TipCapFen,
    SwitchAfterSecs,
    Race,
    UpdatedAt,
}
