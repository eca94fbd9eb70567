//! The order service as the outbox's performer: the outbox keeps rows durable and retries
//! them; what a row's operation means belongs to the part of the service that wrote it.

use crate::{
    domain::ProviderId,
    orders::OrderService,
    outbox::{Failure, Performer},
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
