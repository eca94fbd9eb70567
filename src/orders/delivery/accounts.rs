//! The network's lists and the merchant's accounts at it: courier companies, bound
//! accounts, opening the service, cancellation and complaint reasons.

use crate::orders::{OrderError, OrderService, UserError, UserErrorCode, provider_user_error};
use crate::{
    domain::ProviderId,
    providers::{delivery::Reason, with_timeout},
};

impl OrderService {
    pub async fn companies(
        &self,
        provider: ProviderId,
    ) -> Result<Vec<crate::providers::delivery::Company>, OrderError> {
        let network = self.courier_or_refuse(provider, &["provider"])?;
        with_timeout(provider, self.delivery.timeout, network.companies())
            .await
            .map_err(|e| provider_user_error(&e).into())
    }

    pub async fn bound_accounts(
        &self,
        provider: ProviderId,
    ) -> Result<Vec<crate::providers::delivery::BoundAccount>, OrderError> {
        let network = self.courier_or_refuse(provider, &["provider"])?;
        with_timeout(provider, self.delivery.timeout, network.bound_accounts())
            .await
            .map_err(|e| provider_user_error(&e).into())
    }

    pub async fn bind_account(
        &self,
        provider: ProviderId,
        company: &str,
    ) -> Result<(), OrderError> {
        if company.trim().is_empty() {
            return Err(UserError::new(
                &["company"],
                UserErrorCode::InvalidInput,
                "company is required",
            )
            .into());
        }
        let network = self.courier_or_refuse(provider, &["provider"])?;
        with_timeout(
            provider,
            self.delivery.timeout,
            network.bind_account(company),
        )
        .await
        .map_err(|e| provider_user_error(&e).into())
    }

    pub async fn open_service(&self, provider: ProviderId) -> Result<(), OrderError> {
        let network = self.courier_or_refuse(provider, &["provider"])?;
        with_timeout(provider, self.delivery.timeout, network.open_service())
            .await
            .map_err(|e| provider_user_error(&e).into())
    }

    pub async fn cancel_reasons(&self, provider: ProviderId) -> Result<Vec<Reason>, OrderError> {
        let network = self.courier_or_refuse(provider, &["provider"])?;
        with_timeout(provider, self.delivery.timeout, network.cancel_reasons())
            .await
            .map_err(|e| provider_user_error(&e).into())
    }

    pub async fn complaint_reasons(&self, provider: ProviderId) -> Result<Vec<Reason>, OrderError> {
        let network = self.courier_or_refuse(provider, &["provider"])?;
        with_timeout(provider, self.delivery.timeout, network.complaint_reasons())
            .await
            .map_err(|e| provider_user_error(&e).into())
    }
}
