//! The audit log: every mutation, who asked for it, what it named, and how it ended.

use chrono::Utc;
use entity::audit_log;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder, QuerySelect};

use super::{AccessService, Caller};
use crate::refusal::OrderError;

pub use entity::audit_log::Model as AuditEntry;

/// How a mutation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It did what was asked.
    Ok,
    /// Refused with user errors (their codes); nothing changed.
    Refused(Vec<String>),
    /// The caller may not do it (`UNAUTHENTICATED`, `FORBIDDEN`, `THROTTLED`); nothing changed.
    Denied(String),
    /// It failed (a GraphQL error with this code).
    Failed(String),
}

impl Outcome {
    fn text(&self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::Refused(codes) => format!("refused:{}", codes.join(",")),
            Outcome::Denied(code) => format!("denied:{code}"),
            Outcome::Failed(code) => format!("error:{code}"),
        }
    }
}

impl AccessService {
    /// Writes one entry. A failure to write is logged, not raised: the mutation's own result
    /// already stands.
    pub async fn audit(
        &self,
        caller: &Caller,
        operation: &str,
        target: Option<String>,
        outcome: &Outcome,
    ) {
        let row = audit_log::ActiveModel {
            at: Set(Utc::now()),
            api_key_id: Set(caller.key_id),
            caller: Set(caller.name.clone()),
            operation: Set(operation.to_owned()),
            target: Set(target),
            outcome: Set(outcome.text()),
            detail: Set(None),
            ..Default::default()
        };
        if let Err(e) = row.insert(&self.db).await {
            tracing::error!(error = %e, operation, "could not write the audit log");
        }
    }

    /// One entry by id (a `node` lookup).
    pub async fn audit_entry(&self, id: i64) -> Result<Option<AuditEntry>, OrderError> {
        Ok(audit_log::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// The newest `limit` entries, newest first, before entry `before` when given.
    pub async fn audit_log(
        &self,
        limit: u64,
        before: Option<i64>,
    ) -> Result<Vec<AuditEntry>, OrderError> {
        use sea_orm::{ColumnTrait, QueryFilter};
        let mut q = audit_log::Entity::find().order_by_desc(audit_log::Column::Id);
        if let Some(b) = before {
            q = q.filter(audit_log::Column::Id.lt(b));
        }
        Ok(q.limit(limit).all(&self.db).await?)
    }
}
