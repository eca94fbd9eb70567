//! Automatic dispatch over GraphQL: `dispatchDelivery(input: {strategy: AUTO, …})` and the
//! plan it leaves, readable from every attempt as `Order.dispatchPlan`.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::policy::DispatchStrategy;
use crate::{
    domain,
    graphql::{
        errors::internal,
        loaders::Loaders,
        resolve::services,
        types::{Money, Order, ProviderId, Shop},
    },
    orders::{
        plan::{ACTIVE, Candidate, FAILED, WON},
        policy::Strategy,
        repo::PlanRow,
    },
};

/// How `dispatchDelivery` picks the network.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum DispatchMode {
    /// The shop's own network (the company named, or the quote given).
    #[default]
    Direct,
    /// The shop's dispatch policy decides: every allowed network is quoted, ranked by its
    /// strategy, and a plan escalates tips, moves on and races as the policy says (see
    /// `Order.dispatchPlan`). Idempotent by `delivery.originId`.
    Auto,
}

/// Where an automatic dispatch stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DispatchPlanState {
    /// Waiting for a courier: tips rise and networks switch as the policy says.
    Active,
    /// A courier accepted (`winner`); the other attempts were cancelled.
    Won,
    /// Every candidate ended unaccepted or refused (`detail` says why).
    Failed,
}

/// A network or company the plan ranked.
#[derive(SimpleObject)]
pub struct PlanCandidate {
    /// The courier network.
    pub network: Option<ProviderId>,
    /// The company on a network of several; null on Dada.
    pub company: Option<String>,
    /// The quoted total fee.
    pub fee: Money,
    /// Expected minutes to a courier, when the company said.
    pub dispatch_minutes: Option<i64>,
    /// Whether the plan has dispatched to it yet.
    pub tried: bool,
}

/// An automatic dispatch: its ranking, where it stands, what it cost.
pub struct DispatchPlan(pub PlanRow);

/// An automatic dispatch (`dispatchDelivery(strategy: AUTO)`): its ranking, where it stands,
/// what it cost.
#[Object]
impl DispatchPlan {
    /// Where it stands.
    async fn state(&self) -> Result<DispatchPlanState> {
        match self.0.state.as_str() {
            ACTIVE => Ok(DispatchPlanState::Active),
            WON => Ok(DispatchPlanState::Won),
            FAILED => Ok(DispatchPlanState::Failed),
            other => Err(internal(format!("plan state {other}"))),
        }
    }
    /// The strategy it ranked by (the shop's policy at the time).
    async fn strategy(&self) -> Result<DispatchStrategy> {
        Strategy::parse(&self.0.strategy)
            .map(Into::into)
            .ok_or_else(|| internal("plan strategy"))
    }
    /// The networks and companies, best first by the strategy.
    async fn candidates(&self) -> Result<Vec<PlanCandidate>> {
        let list: Vec<Candidate> = serde_json::from_str(&self.0.candidates).map_err(internal)?;
        let tried = usize::try_from(self.0.next_candidate).unwrap_or(0);
        Ok(list
            .into_iter()
            .enumerate()
            .map(|(i, c)| PlanCandidate {
                network: c.network.parse::<domain::ProviderId>().ok().map(Into::into),
                company: c.company,
                fee: Money(domain::Money::from_fen(c.fee_fen)),
                dispatch_minutes: c.dispatch_minutes,
                tried: i < tried,
            })
            .collect())
    }
    /// Every attempt (one delivery order per network tried), oldest first.
    async fn attempts(&self, ctx: &Context<'_>) -> Result<Vec<Order>> {
        let st = services(ctx)?;
        Ok(st
            .orders
            .plan_attempts(self.0.id)
            .await
            .map_err(internal)?
            .into_iter()
            .map(Order)
            .collect())
    }
    /// The attempt whose courier accepted.
    async fn winner(&self, ctx: &Context<'_>) -> Result<Option<Order>> {
        let Some(id) = self.0.winner_order_id else {
            return Ok(None);
        };
        Ok(ctx.data::<Loaders>()?.orders.load_one(id).await?.map(Order))
    }
    /// The tip the plan added on top of the delivery's own.
    async fn tip_raised(&self) -> Money {
        Money(domain::Money::from_fen(self.0.tip_fen))
    }
    /// Penalties paid cancelling losing attempts (only when a loser had accepted too).
    async fn penalties(&self) -> Money {
        Money(domain::Money::from_fen(self.0.penalty_fen))
    }
    /// What the plan could not do, or why it failed.
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
    /// The shop the delivery was asked from.
    async fn shop(&self, ctx: &Context<'_>) -> Result<Option<Shop>> {
        Shop::load(ctx, self.0.shop_id).await
    }
    /// When it was dispatched.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last moved.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}
