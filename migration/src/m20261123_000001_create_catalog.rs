//! Categories, shops and price items: the read-through copy of each marketplace's catalogue.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Category::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Category::Id))
                    .col(string(Category::Provider))
                    .col(string(Category::ExternalId))
                    .col(string(Category::Name))
                    .col(text_null(Category::IconUrl))
                    .col(timestamp_with_time_zone(Category::FetchedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_category_provider_external")
                    .table(Category::Table)
                    .col(Category::Provider)
                    .col(Category::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Shop::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Shop::Id))
                    .col(string(Shop::Provider))
                    .col(string(Shop::ExternalId))
                    .col(string_null(Shop::CategoryExternalId))
                    .col(string(Shop::Title))
                    .col(text_null(Shop::Description))
                    .col(string_null(Shop::City))
                    .col(text(Shop::ImageUrls))
                    .col(text(Shop::TagIcons))
                    .col(string_null(Shop::StartTime))
                    .col(string_null(Shop::EndTime))
                    .col(string_null(Shop::AvailableDays))
                    .col(integer_null(Shop::AheadMinutes))
                    .col(big_integer_null(Shop::FixFeeFen))
                    .col(big_integer_null(Shop::NoFixFeePriceFen))
                    .col(big_integer_null(Shop::MinBuyPriceFen))
                    .col(double_null(Shop::Lng))
                    .col(double_null(Shop::Lat))
                    .col(string_null(Shop::MainPriceExternalId))
                    .col(timestamp_with_time_zone_null(Shop::DetailFetchedAt))
                    .col(timestamp_with_time_zone(Shop::FetchedAt))
                    .col(boolean(Shop::Stale).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_shop_provider_external")
                    .table(Shop::Table)
                    .col(Shop::Provider)
                    .col(Shop::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Price::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Price::Id))
                    .col(big_integer(Price::ShopId))
                    .col(string(Price::ExternalId))
                    .col(string(Price::Name))
                    .col(text_null(Price::Description))
                    .col(big_integer(Price::AmountFen))
                    .col(string_null(Price::Unit))
                    .col(text_null(Price::ImgUrl))
                    .col(integer(Price::MinBuyNum).default(1))
                    .col(integer(Price::Position).default(0))
                    .col(boolean(Price::Active).default(true))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_price_shop")
                            .from(Price::Table, Price::ShopId)
                            .to(Shop::Table, Shop::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_price_shop_external")
                    .table(Price::Table)
                    .col(Price::ShopId)
                    .col(Price::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Price::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Shop::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Category::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Category {
    Table,
    Id,
    Provider,
    ExternalId,
    Name,
    IconUrl,
    FetchedAt,
}

#[derive(DeriveIden)]
pub enum Shop {
    Table,
    Id,
    Provider,
    ExternalId,
    CategoryExternalId,
    Title,
    Description,
    City,
    ImageUrls,
    TagIcons,
    StartTime,
    EndTime,
    AvailableDays,
    AheadMinutes,
    FixFeeFen,
    NoFixFeePriceFen,
    MinBuyPriceFen,
    Lng,
    Lat,
    MainPriceExternalId,
    DetailFetchedAt,
    FetchedAt,
    Stale,
}

#[derive(DeriveIden)]
pub enum Price {
    Table,
    Id,
    ShopId,
    ExternalId,
    Name,
    Description,
    AmountFen,
    Unit,
    ImgUrl,
    MinBuyNum,
    Position,
    Active,
}
