//! Dispatch plans: an automatic dispatch as a persisted state machine (ranked candidates,
//! which one is next, tips raised, when to look again, who is driving it now), and each
//! delivery order's plan.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DispatchPlan::Table)
                    .if_not_exists()
                    .col(pk_auto(DispatchPlan::Id).big_integer())
                    .col(big_integer(DispatchPlan::ShopId))
                    .col(string(DispatchPlan::State))
                    .col(string(DispatchPlan::Strategy))
                    .col(string(DispatchPlan::OriginId))
                    .col(text(DispatchPlan::Request))
                    .col(text(DispatchPlan::Candidates))
                    .col(integer(DispatchPlan::NextCandidate).default(0))
                    .col(boolean(DispatchPlan::Race).default(false))
                    .col(big_integer(DispatchPlan::TipStepFen).default(0))
                    .col(big_integer(DispatchPlan::TipIntervalSecs).default(0))
                    .col(big_integer(DispatchPlan::TipCapFen).default(0))
                    .col(big_integer(DispatchPlan::TipFen).default(0))
                    .col(big_integer_null(DispatchPlan::SwitchAfterSecs))
                    .col(big_integer_null(DispatchPlan::WinnerOrderId))
                    .col(timestamp_with_time_zone(DispatchPlan::StepStartedAt))
                    .col(timestamp_with_time_zone(DispatchPlan::LastTipAt))
                    .col(timestamp_with_time_zone_null(DispatchPlan::NextStepAt))
                    .col(string_null(DispatchPlan::ClaimedBy))
                    .col(timestamp_with_time_zone_null(DispatchPlan::ClaimedUntil))
                    .col(text_null(DispatchPlan::Detail))
                    .col(big_integer(DispatchPlan::PenaltyFen).default(0))
                    .col(timestamp_with_time_zone(DispatchPlan::CreatedAt))
                    .col(timestamp_with_time_zone(DispatchPlan::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_dispatch_plan_due")
                    .table(DispatchPlan::Table)
                    .col(DispatchPlan::State)
                    .col(DispatchPlan::NextStepAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(big_integer_null(Orders::PlanId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_orders_plan")
                    .table(Orders::Table)
                    .col(Orders::PlanId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_orders_plan").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .drop_column(Orders::PlanId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(DispatchPlan::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DispatchPlan {
    Table,
    Id,
    ShopId,
    State,
    Strategy,
    OriginId,
    Request,
    Candidates,
    NextCandidate,
    Race,
    TipStepFen,
    TipIntervalSecs,
    TipCapFen,
    TipFen,
    SwitchAfterSecs,
    WinnerOrderId,
    StepStartedAt,
    LastTipAt,
    NextStepAt,
    ClaimedBy,
    ClaimedUntil,
    Detail,
    PenaltyFen,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    PlanId,
}
