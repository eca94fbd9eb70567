//! The delivery reads: reason lists, cities, the merchant's balance and accounts, couriers
//! and quotes. Each is one service call through [`read`].

use async_graphql::{Context, ID, Object, Result};

use super::{
    BoundDeliveryAccount, City, Courier, DeliveryBalance, DeliveryCompany, DeliveryQuote, Reason,
    RechargeChannel,
};
use crate::{
    access::Scope,
    graphql::access::{Need, check_quote, check_shop},
};
use crate::{
    domain,
    graphql::{
        errors::invalid,
        ids::{self, Kind},
        resolve::{all, read},
        types::ProviderId,
    },
};

#[derive(Default)]
pub struct DeliveryQuery;

#[Object]
impl DeliveryQuery {
    /// The reasons `cancelOrder` takes for a delivery (`reasonId`).
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn delivery_cancel_reasons(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ProviderId::Dada", desc = "The courier network.")]
        provider: ProviderId,
    ) -> Result<Vec<Reason>> {
        read(
            ctx,
            async |s| s.orders.cancel_reasons(provider.into()).await,
            all,
        )
        .await
    }

    /// The reasons `complainAboutCourier` takes.
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn delivery_complaint_reasons(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ProviderId::Dada", desc = "The courier network.")]
        provider: ProviderId,
    ) -> Result<Vec<Reason>> {
        read(
            ctx,
            async |s| s.orders.complaint_reasons(provider.into()).await,
            all,
        )
        .await
    }

    /// The cities the network serves, with their codes.
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn delivery_cities(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ProviderId::Dada", desc = "The courier network.")]
        provider: ProviderId,
    ) -> Result<Vec<City>> {
        read(ctx, async |s| s.catalog.cities(provider.into()).await, all).await
    }

    /// The merchant's balances at the network.
    #[graphql(guard = "Need(Scope::Admin)")]
    async fn delivery_balance(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ProviderId::Dada", desc = "The courier network.")]
        provider: ProviderId,
    ) -> Result<DeliveryBalance> {
        read(
            ctx,
            async |s| s.catalog.balance(provider.into()).await,
            DeliveryBalance::from,
        )
        .await
    }

    /// A payment page that tops up the freight balance by `amountFen`.
    #[graphql(guard = "Need(Scope::Admin)")]
    async fn delivery_recharge_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ProviderId::Dada", desc = "The courier network.")]
        provider: ProviderId,
        #[graphql(desc = "How much to top up, in fen (100 fen = 1 yuan).")] amount_fen: i64,
        #[graphql(
            default_with = "RechargeChannel::Pc",
            desc = "A payment page for desktop (`PC`) or mobile (`H5`) browsers."
        )]
        channel: RechargeChannel,
        #[graphql(desc = "Where to send the payer after paying (Alipay only).")] notify_url: Option<
            String,
        >,
    ) -> Result<String> {
        let amount = domain::Money::from_fen(amount_fen);
        read(
            ctx,
            async |s| {
                s.catalog
                    .recharge_link(
                        provider.into(),
                        amount,
                        channel.into(),
                        notify_url.as_deref(),
                    )
                    .await
            },
            |link| link,
        )
        .await
    }

    /// Couriers a delivery of this store can be appointed to (`assignCourier`).
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn appointable_couriers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "One of our stores at a courier network (a `Shop` id).")] shop_id: ID,
    ) -> Result<Vec<Courier>> {
        let Some(id) = ids::decode(Kind::Shop, &shop_id) else {
            return Err(invalid("shopId is not a shop id"));
        };
        check_shop(ctx, Some(id))?;
        read(
            ctx,
            async |s| s.orders.appointable_couriers(id).await,
            |list| list.into_iter().map(Courier::from_net).collect(),
        )
        .await
    }

    /// The courier companies of a network of several (WeChat).
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn delivery_companies(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "ProviderId::Wechat",
            desc = "The network of several companies."
        )]
        provider: ProviderId,
    ) -> Result<Vec<DeliveryCompany>> {
        read(
            ctx,
            async |s| s.orders.companies(provider.into()).await,
            all,
        )
        .await
    }

    /// Our accounts at those companies, with their review state.
    #[graphql(guard = "Need(Scope::Admin)")]
    async fn bound_delivery_accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "ProviderId::Wechat",
            desc = "The network of several companies."
        )]
        provider: ProviderId,
    ) -> Result<Vec<BoundDeliveryAccount>> {
        read(
            ctx,
            async |s| s.orders.bound_accounts(provider.into()).await,
            all,
        )
        .await
    }

    /// A quote `quoteDelivery` made, by its id (also once it expired); null for an unknown
    /// id.
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn delivery_quote(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The quote's id (`DeliveryQuote.id`).")] id: ID,
    ) -> Result<Option<DeliveryQuote>> {
        let Some(id) = ids::decode(Kind::Quote, &id) else {
            return Err(invalid("id is not a quote id"));
        };
        check_quote(ctx, id).await?;
        read(
            ctx,
            async |s| s.orders.quote(id).await,
            |q| q.map(DeliveryQuote),
        )
        .await
    }
}
