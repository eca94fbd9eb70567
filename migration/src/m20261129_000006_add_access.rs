//! Access control: the API keys clients call with (only a hash of each secret is kept) and
//! the audit log of every mutation.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKey::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ApiKey::Id))
                    .col(string(ApiKey::Name))
                    .col(string(ApiKey::Prefix))
                    .col(string_uniq(ApiKey::SecretHash))
                    .col(boolean(ApiKey::Live))
                    .col(text(ApiKey::Scopes))
                    .col(text_null(ApiKey::Shops))
                    .col(timestamp_with_time_zone(ApiKey::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKey::RevokedAt))
                    .col(timestamp_with_time_zone_null(ApiKey::LastUsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(big_integer_null(AuditLog::ApiKeyId))
                    .col(string(AuditLog::Caller))
                    .col(string(AuditLog::Operation))
                    .col(string_null(AuditLog::Target))
                    .col(string(AuditLog::Outcome))
                    .col(text_null(AuditLog::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::At)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [AuditLog::Table.into_iden(), ApiKey::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ApiKey {
    Table,
    Id,
    Name,
    Prefix,
    SecretHash,
    Live,
    Scopes,
    Shops,
    CreatedAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ApiKeyId,
    Caller,
    Operation,
    Target,
    Outcome,
    Detail,
}
