//! How many attempts a race of automatic dispatch sends at once: set per policy, kept per
//! plan. Existing policies and plans keep the width they had (3).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DispatchPolicy::Table)
                    .add_column(integer(DispatchPolicy::RaceWidth).default(3))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DispatchPlan::Table)
                    .add_column(integer(DispatchPlan::RaceWidth).default(3))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DispatchPlan::Table)
                    .drop_column(DispatchPlan::RaceWidth)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DispatchPolicy::Table)
                    .drop_column(DispatchPolicy::RaceWidth)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum DispatchPolicy {
    Table,
    RaceWidth,
}

#[derive(DeriveIden)]
enum DispatchPlan {
    Table,
    RaceWidth,
}
