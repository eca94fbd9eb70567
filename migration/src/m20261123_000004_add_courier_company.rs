//! Networks of several courier companies (WeChat instant delivery): which company carries an
//! order, and which company a quote is from (with its expected dispatch time).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(string_null(Orders::CourierCompany))
                    .to_owned(),
            )
            .await?;
        for mut col in [
            string_null(DeliveryQuote::Company),
            big_integer_null(DeliveryQuote::DispatchMinutes),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DeliveryQuote::Table)
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [DeliveryQuote::Company, DeliveryQuote::DispatchMinutes] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DeliveryQuote::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .drop_column(Orders::CourierCompany)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    CourierCompany,
}

#[derive(DeriveIden)]
enum DeliveryQuote {
    Table,
    Company,
    DispatchMinutes,
}
