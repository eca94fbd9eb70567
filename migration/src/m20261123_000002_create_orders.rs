//! Orders, their items, their status timeline, inbound callbacks (for de-duplication and
//! audit) and idempotency keys of order-creating mutations.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_catalog::Shop;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Orders::Id))
                    .col(string(Orders::Provider))
                    .col(string_null(Orders::ExternalId))
                    .col(string(Orders::Direction))
                    .col(string(Orders::Kind))
                    .col(string(Orders::Status))
                    .col(string(Orders::RawStatus))
                    .col(big_integer_null(Orders::ShopId))
                    .col(string(Orders::ContactPerson))
                    .col(string(Orders::Phone))
                    .col(string(Orders::City))
                    .col(string(Orders::Street))
                    .col(string(Orders::House))
                    .col(text_null(Orders::Note))
                    .col(timestamp_with_time_zone_null(Orders::AppointTime))
                    .col(big_integer(Orders::ItemsTotalFen))
                    .col(big_integer(Orders::FeeFen))
                    .col(big_integer(Orders::TotalFen))
                    .col(big_integer_null(Orders::BalanceAfterFen))
                    .col(text_null(Orders::CancelReason))
                    .col(timestamp_with_time_zone_null(Orders::StatusAt))
                    .col(timestamp_with_time_zone(Orders::CreatedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_orders_shop")
                            .from(Orders::Table, Orders::ShopId)
                            .to(Shop::Table, Shop::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_orders_provider_external")
                    .table(Orders::Table)
                    .col(Orders::Provider)
                    .col(Orders::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_orders_provider_status")
                    .table(Orders::Table)
                    .col(Orders::Provider)
                    .col(Orders::Status)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrderItem::Table)
                    .if_not_exists()
                    .col(big_pk_auto(OrderItem::Id))
                    .col(big_integer(OrderItem::OrderId))
                    .col(big_integer_null(OrderItem::PriceId))
                    .col(string(OrderItem::ExternalPriceId))
                    .col(string(OrderItem::Name))
                    .col(string_null(OrderItem::Unit))
                    .col(big_integer(OrderItem::UnitPriceFen))
                    .col(integer(OrderItem::Quantity))
                    .col(big_integer(OrderItem::AmountFen))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_item_order")
                            .from(OrderItem::Table, OrderItem::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_order_item_order")
                    .table(OrderItem::Table)
                    .col(OrderItem::OrderId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrderEvent::Table)
                    .if_not_exists()
                    .col(big_pk_auto(OrderEvent::Id))
                    .col(big_integer(OrderEvent::OrderId))
                    .col(string(OrderEvent::Provider))
                    .col(string_null(OrderEvent::FromStatus))
                    .col(string(OrderEvent::ToStatus))
                    .col(string(OrderEvent::RawStatus))
                    .col(string(OrderEvent::Source))
                    .col(boolean(OrderEvent::Applied))
                    .col(text_null(OrderEvent::Detail))
                    .col(timestamp_with_time_zone(OrderEvent::OccurredAt))
                    .col(timestamp_with_time_zone(OrderEvent::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_event_order")
                            .from(OrderEvent::Table, OrderEvent::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_order_event_order")
                    .table(OrderEvent::Table)
                    .col(OrderEvent::OrderId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InboundCallback::Table)
                    .if_not_exists()
                    .col(big_pk_auto(InboundCallback::Id))
                    .col(string(InboundCallback::Provider))
                    .col(string(InboundCallback::Kind))
                    .col(string(InboundCallback::DedupKey))
                    .col(big_integer_null(InboundCallback::OrderId))
                    .col(text(InboundCallback::Payload))
                    .col(timestamp_with_time_zone(InboundCallback::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_inbound_callback_dedup")
                    .table(InboundCallback::Table)
                    .col(InboundCallback::Provider)
                    .col(InboundCallback::DedupKey)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKey::Table)
                    .if_not_exists()
                    .col(string(IdempotencyKey::Key).primary_key())
                    .col(string(IdempotencyKey::Operation))
                    .col(string(IdempotencyKey::RequestHash))
                    .col(big_integer_null(IdempotencyKey::OrderId))
                    .col(timestamp_with_time_zone(IdempotencyKey::CreatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKey::Table.into_iden(),
            InboundCallback::Table.into_iden(),
            OrderEvent::Table.into_iden(),
            OrderItem::Table.into_iden(),
            Orders::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    Provider,
    ExternalId,
    Direction,
    Kind,
    Status,
    RawStatus,
    ShopId,
    ContactPerson,
    Phone,
    City,
    Street,
    House,
    Note,
    AppointTime,
    ItemsTotalFen,
    FeeFen,
    TotalFen,
    BalanceAfterFen,
    CancelReason,
    StatusAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderItem {
    Table,
    Id,
    OrderId,
    PriceId,
    ExternalPriceId,
    Name,
    Unit,
    UnitPriceFen,
    Quantity,
    AmountFen,
}

#[derive(DeriveIden)]
enum OrderEvent {
    Table,
    Id,
    OrderId,
    Provider,
    FromStatus,
    ToStatus,
    RawStatus,
    Source,
    Applied,
    Detail,
    OccurredAt,
    RecordedAt,
}

#[derive(DeriveIden)]
enum InboundCallback {
    Table,
    Id,
    Provider,
    Kind,
    DedupKey,
    OrderId,
    Payload,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKey {
    Table,
    Key,
    Operation,
    RequestHash,
    OrderId,
    CreatedAt,
}
