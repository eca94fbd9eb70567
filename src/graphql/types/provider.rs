//! The platforms behind the API: what each is to us and what it supports.

use async_graphql::{Enum, Object};

use super::ProviderId;
use crate::domain::provider::ProviderInfo;

/// What a provider is to us.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::provider::ProviderRole")]
pub enum ProviderRole {
    /// We browse its shops and place service orders with them (Daoway).
    ServiceMarketplace,
    /// Our stores dispatch deliveries through its couriers (Dada, WeChat).
    CourierNetwork,
    /// It pushes orders to us, which our staff work (58 Daojia).
    OrderSource,
}

crate::domain::provider::capability_enum! {
    /// Something a provider supports. A mutation that needs a capability the order's or
    /// shop's provider lacks is refused with the user error `UNSUPPORTED_BY_PROVIDER`.
    #[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
    #[graphql(remote = "crate::domain::provider::Capability")]
    pub enum Capability
}

pub struct Provider(pub ProviderInfo);

/// A platform behind this API: what it is to us, what it supports, and how this deployment
/// talks to it.
#[Object]
impl Provider {
    /// Which platform; the value other fields and filters take as `provider`.
    async fn id(&self) -> ProviderId {
        self.0.id.into()
    }
    /// The platform's name, for display.
    async fn name(&self) -> &str {
        self.0.name
    }
    /// What the platform is to us.
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
