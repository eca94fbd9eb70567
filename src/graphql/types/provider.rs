//! The platforms behind the API: what each is to us and what it supports.

use async_graphql::{Enum, Object};

use super::ProviderId;
use crate::domain::provider::ProviderInfo;

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::provider::ProviderRole")]
pub enum ProviderRole {
    ServiceMarketplace,
    CourierNetwork,
    OrderSource,
}

crate::domain::provider::capability_enum! {
    #[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
    #[graphql(remote = "crate::domain::provider::Capability")]
    pub enum Capability
}

pub struct Provider(pub ProviderInfo);

#[Object]
impl Provider {
    async fn id(&self) -> ProviderId {
        self.0.id.into()
    }
    async fn name(&self) -> &str {
        self.0.name
    }
    async fn role(&self) -> ProviderRole {
        self.0.role.into()
    }
    /// What this provider supports; mutations it lacks are refused with UNSUPPORTED_BY_PROVIDER.
    async fn capabilities(&self) -> Vec<Capability> {
        self.0.capabilities.iter().map(|c| (*c).into()).collect()
    }
    /// Configured and enabled in this deployment.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// Talking to the in-process sandbox rather than the real platform.
    async fn sandbox(&self) -> bool {
        self.0.sandbox
    }
}
