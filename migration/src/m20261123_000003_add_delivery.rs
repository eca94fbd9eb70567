//! Deliveries (Dada, later WeChat): courier, fee breakdown and receiver columns on `orders`,
//! the kind of each timeline event (status changes and the messages around them), quotes a
//! client can dispatch later, store columns on `shop`, and the outbox of calls that must reach
//! a platform even across restarts.
//!
//! SQLite adds one column per `ALTER TABLE`, so every column is its own statement.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let order_columns = [
            string_null(Orders::PlatformRef),
            string_null(Orders::CityCode),
            double_null(Orders::ReceiverLng),
            double_null(Orders::ReceiverLat),
            big_integer_null(Orders::CargoPriceFen),
            big_integer_null(Orders::CargoWeightG),
            big_integer_null(Orders::DeliveryFeeFen),
            big_integer_null(Orders::CouponFen),
            big_integer_null(Orders::TipsFen),
            big_integer_null(Orders::InsuranceFen),
            big_integer_null(Orders::PenaltyFen),
            big_integer_null(Orders::DistanceM),
            string_null(Orders::CourierId),
            string_null(Orders::CourierName),
            string_null(Orders::CourierPhone),
            double_null(Orders::CourierLng),
            double_null(Orders::CourierLat),
            timestamp_with_time_zone_null(Orders::CourierSeenAt),
            string_null(Orders::FinishCode),
            text_null(Orders::CourierCancelReason),
            string_null(Orders::CourierCancelRef),
            timestamp_with_time_zone_null(Orders::CourierCancelAt),
            string_null(Orders::CourierCancelAnswer),
            integer(Orders::DispatchRound).default(1).to_owned(),
        ];
        for mut col in order_columns {
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
            .alter_table(
                Table::alter()
                    .table(OrderEvent::Table)
                    .add_column(string(OrderEvent::Kind).default("STATUS"))
                    .to_owned(),
            )
            .await?;
        let shop_columns = [
            string_null(Shop::Address),
            string_null(Shop::AreaName),
            string_null(Shop::ContactName),
            string_null(Shop::ContactPhone),
            integer_null(Shop::BusinessType),
            string_null(Shop::CityCode),
            boolean_null(Shop::Open),
        ];
        for mut col in shop_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Shop::Table)
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(DeliveryQuote::Table)
                    .if_not_exists()
                    .col(big_pk_auto(DeliveryQuote::Id))
                    .col(string(DeliveryQuote::Provider))
                    .col(big_integer(DeliveryQuote::ShopId))
                    .col(string(DeliveryQuote::OriginId))
                    .col(string(DeliveryQuote::Token))
                    .col(text(DeliveryQuote::Request))
                    .col(big_integer(DeliveryQuote::FeeFen))
                    .col(big_integer(DeliveryQuote::DeliveryFeeFen))
                    .col(big_integer(DeliveryQuote::CouponFen))
                    .col(big_integer(DeliveryQuote::TipsFen))
                    .col(big_integer(DeliveryQuote::InsuranceFen))
                    .col(big_integer(DeliveryQuote::DistanceM))
                    .col(timestamp_with_time_zone(DeliveryQuote::ExpiresAt))
                    .col(big_integer_null(DeliveryQuote::OrderId))
                    .col(timestamp_with_time_zone(DeliveryQuote::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Outbox::Id))
                    .col(string(Outbox::Provider))
                    .col(string(Outbox::Operation))
                    .col(big_integer_null(Outbox::OrderId))
                    .col(text(Outbox::Payload))
                    .col(string(Outbox::State))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(text_null(Outbox::LastError))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone(Outbox::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::State)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_order")
                    .table(Outbox::Table)
                    .col(Outbox::OrderId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DeliveryQuote::Table).to_owned())
            .await?;
        for col in [
            Shop::Address,
            Shop::AreaName,
            Shop::ContactName,
            Shop::ContactPhone,
            Shop::BusinessType,
            Shop::CityCode,
            Shop::Open,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Shop::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(OrderEvent::Table)
                    .drop_column(OrderEvent::Kind)
                    .to_owned(),
            )
            .await?;
        for col in [
            Orders::PlatformRef,
            Orders::CityCode,
            Orders::ReceiverLng,
            Orders::ReceiverLat,
            Orders::CargoPriceFen,
            Orders::CargoWeightG,
            Orders::DeliveryFeeFen,
            Orders::CouponFen,
            Orders::TipsFen,
            Orders::InsuranceFen,
            Orders::PenaltyFen,
            Orders::DistanceM,
            Orders::CourierId,
            Orders::CourierName,
            Orders::CourierPhone,
            Orders::CourierLng,
            Orders::CourierLat,
            Orders::CourierSeenAt,
            Orders::FinishCode,
            Orders::CourierCancelReason,
            Orders::CourierCancelRef,
            Orders::CourierCancelAt,
            Orders::CourierCancelAnswer,
            Orders::DispatchRound,
        ] {
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
    PlatformRef,
    CityCode,
    ReceiverLng,
    ReceiverLat,
    CargoPriceFen,
    CargoWeightG,
    DeliveryFeeFen,
    CouponFen,
    TipsFen,
    InsuranceFen,
    PenaltyFen,
    DistanceM,
    CourierId,
    CourierName,
    CourierPhone,
    CourierLng,
    CourierLat,
    CourierSeenAt,
    FinishCode,
    CourierCancelReason,
    CourierCancelRef,
    CourierCancelAt,
    CourierCancelAnswer,
    DispatchRound,
}

#[derive(DeriveIden)]
enum OrderEvent {
    Table,
    Kind,
}

#[derive(DeriveIden)]
enum Shop {
    Table,
    Address,
    AreaName,
    ContactName,
    ContactPhone,
    BusinessType,
    CityCode,
    Open,
}

#[derive(DeriveIden)]
enum DeliveryQuote {
    Table,
    Id,
    Provider,
    ShopId,
    OriginId,
    Token,
    Request,
    FeeFen,
    DeliveryFeeFen,
    CouponFen,
    TipsFen,
    InsuranceFen,
    DistanceM,
    ExpiresAt,
    OrderId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Provider,
    Operation,
    OrderId,
    Payload,
    State,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    UpdatedAt,
    SentAt,
}
