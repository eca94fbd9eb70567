//! Orders pushed to us (58 Daojia): the technician working the order and the service window,
//! and the technicians we registered with the platform; and the courier's expected arrival
//! that WeChat's companies push.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut col in [
            big_integer_null(Orders::TechnicianId),
            timestamp_with_time_zone_null(Orders::ServiceEnd),
            timestamp_with_time_zone_null(Orders::CourierEta),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Technician::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Technician::Id))
                    .col(string(Technician::Provider))
                    .col(string(Technician::ExternalId))
                    .col(string(Technician::Name))
                    .col(string(Technician::Phone))
                    .col(integer_null(Technician::Age))
                    .col(string_null(Technician::Sex))
                    .col(text_null(Technician::Remark))
                    .col(boolean(Technician::Active))
                    .col(timestamp_with_time_zone(Technician::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_technician_provider_external")
                    .table(Technician::Table)
                    .col(Technician::Provider)
                    .col(Technician::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Technician::Table).to_owned())
            .await?;
        for col in [Orders::TechnicianId, Orders::ServiceEnd, Orders::CourierEta] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    TechnicianId,
    ServiceEnd,
    CourierEta,
}

#[derive(DeriveIden)]
enum Technician {
    Table,
    Id,
    Provider,
    ExternalId,
    Name,
    Phone,
    Age,
    Sex,
    Remark,
    Active,
    CreatedAt,
}
