//! The order service as the outbox's performer: the outbox keeps rows durable and retries
//! them; what a row's operation means belongs to the part of the service that wrote it.
//! Putting a dead row back in line is the service's too, so the API never reaches the outbox.

use crate::{
    domain::ProviderId,
    orders::{OrderError, OrderService, UserError, UserErrorCode, repo::OutboxRow},
    outbox::{Failure, Performer, Retry, SENT, retry_dead},
};

#[async_trait::async_trait]
impl Performer for OrderService {
    async fn perform(
        &self,
        provider: ProviderId,
        operation: &str,
        order_id: Option<i64>,
        payload: &str,
    ) -> Result<(), Failure> {
        match provider {
            ProviderId::Daojia58 => self.perform_inbound_outbox(operation, payload).await,
            _ => {
                self.perform_delivery_outbox(provider, operation, order_id, payload)
                    .await
            }
        }
    }
}

impl OrderService {
    /// Puts an outbox row that was parked as dead back in line and wakes the worker. Refuses
    /// a row that was sent (never sent twice) or is still being retried.
    pub async fn retry_outbox_entry(&self, id: i64) -> Result<OutboxRow, OrderError> {
        let refuse = |msg: &str, code| Err(UserError::new(&["id"], code, msg).into());
        match retry_dead(&self.db, id).await? {
            Retry::NotFound => refuse("no such outbox entry", UserErrorCode::NotFound),
            Retry::NotDead(row) if row.state == SENT => refuse(
                "this entry was sent; it is never sent twice",
                UserErrorCode::InvalidState,
            ),
            Retry::NotDead(_) => refuse(
                "this entry is still being retried",
                UserErrorCode::InvalidState,
            ),
            Retry::Requeued(row) => {
                self.outbox_wake.notify_one();
                Ok(row)
            }
        }
    }
}
