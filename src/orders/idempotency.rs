//! Idempotency keys: a key is claimed in the same transaction as the order it creates, and
//! stored with a digest of the request, so a repeat with the same key returns the same order
//! and a different request under a used key is refused. The digest is taken over a canonical
//! encoding (every field tagged and length-prefixed), so no two different requests can
//! encode alike the way fields joined by a separator can.

use chrono::Utc;
use entity::{idempotency_key, orders};
use sea_orm::{ActiveValue::Set, DbErr, EntityTrait, TransactionTrait, sea_query::OnConflict};
use sha2::{Digest, Sha256};

use crate::{
    domain::IdempotencyKey,
    orders::{OrderError, OrderService, UserError, UserErrorCode},
};

/// Builds the digest of a request field by field in a canonical, unambiguous encoding.
pub(in crate::orders) struct RequestDigest(Sha256);

impl RequestDigest {
    /// Starts a digest for one operation (so equal fields of two operations differ).
    pub fn new(operation: &str) -> Self {
        Self(Sha256::new()).text(operation)
    }

    fn field(mut self, tag: u8, bytes: &[u8]) -> Self {
        self.0.update([tag]);
        self.0.update((bytes.len() as u64).to_be_bytes());
        self.0.update(bytes);
        self
    }

    pub fn text(self, v: &str) -> Self {
        self.field(b's', v.as_bytes())
    }

    pub fn int(self, v: i64) -> Self {
        self.field(b'i', &v.to_be_bytes())
    }

    pub fn opt_text(self, v: Option<&str>) -> Self {
        match v {
            Some(v) => self.field(b'S', v.as_bytes()),
            None => self.field(b'n', &[]),
        }
    }

    pub fn opt_int(self, v: Option<i64>) -> Self {
        match v {
            Some(v) => self.field(b'I', &v.to_be_bytes()),
            None => self.field(b'n', &[]),
        }
    }

    pub fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

impl OrderService {
    /// Undoes a draft the platform refused (or surely never received): the order row goes,
    /// and its idempotency key is freed for a retry, in one transaction.
    pub(in crate::orders) async fn undo_draft(
        &self,
        id: i64,
        key: &Option<IdempotencyKey>,
    ) -> Result<(), DbErr> {
        let txn = self.db.begin().await?;
        orders::Entity::delete_by_id(id).exec(&txn).await?;
        if let Some(key) = key {
            idempotency_key::Entity::delete_by_id(key.as_str().to_owned())
                .exec(&txn)
                .await?;
        }
        txn.commit().await
    }

    /// The order an earlier request with this key created, or a refusal when the key was
    /// used for another request or is still being processed.
    pub(in crate::orders) async fn replay(
        &self,
        operation: &str,
        key: &IdempotencyKey,
        digest: &str,
    ) -> Result<Option<orders::Model>, OrderError> {
        let Some(row) = idempotency_key::Entity::find_by_id(key.as_str().to_owned())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        if row.operation != operation || row.request_hash != digest {
            return Err(UserError::new(
                &["idempotencyKey"],
                UserErrorCode::IdempotencyKeyReused,
                "this idempotency key was used for a different request",
            )
            .into());
        }
        match row.order_id {
            Some(id) => Ok(self.get(id).await?),
            None => Err(in_use()),
        }
    }
}

/// Claims an idempotency key for `order_id` in the caller's transaction; false when another
/// request holds it.
pub(in crate::orders) async fn claim_key(
    txn: &sea_orm::DatabaseTransaction,
    key: &IdempotencyKey,
    operation: &str,
    digest: &str,
    order_id: i64,
) -> Result<bool, DbErr> {
    let claimed = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        key: Set(key.as_str().to_owned()),
        operation: Set(operation.to_owned()),
        request_hash: Set(digest.to_owned()),
        order_id: Set(Some(order_id)),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(idempotency_key::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(claimed > 0)
}

pub(in crate::orders) fn in_use() -> OrderError {
    UserError::new(
        &["idempotencyKey"],
        UserErrorCode::IdempotencyKeyInUse,
        "a request with this idempotency key is still being processed; retry shortly",
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_cannot_run_into_each_other() {
        // Joined with a separator these two would read the same: "a|b|c".
        let one = RequestDigest::new("op").text("a|b").text("c").finish();
        let two = RequestDigest::new("op").text("a").text("b|c").finish();
        assert_ne!(one, two);
        let absent = RequestDigest::new("op").opt_text(None).finish();
        let empty = RequestDigest::new("op").opt_text(Some("")).finish();
        assert_ne!(absent, empty);
        assert_ne!(
            RequestDigest::new("a").text("b").finish(),
            RequestDigest::new("ab").finish()
        );
    }

    #[test]
    fn same_fields_same_digest() {
        let d = || {
            RequestDigest::new("op")
                .int(7)
                .text("x")
                .opt_int(None)
                .finish()
        };
        assert_eq!(d(), d());
        assert_eq!(d().len(), 64);
    }
}
