//! The instance that wrote each timeline event, so that an instance catching up on events it
//! was not notified of (its listener reconnected) re-publishes only other instances' events.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OrderEvent::Table)
                    .add_column(string_null(OrderEvent::Origin))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OrderEvent::Table)
                    .drop_column(OrderEvent::Origin)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum OrderEvent {
    Table,
    Origin,
}
