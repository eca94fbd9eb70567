//! Dispatch policies over GraphQL: `dispatchPolicy(shopId)`, `setDispatchPolicy` and
//! `deleteDispatchPolicy` (the `delivery:dispatch` scope, within the key's shops).

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    access::Scope,
    domain,
    graphql::{
        access::{Need, check_shop},
        errors::UserError,
        ids::{self, Kind},
        loaders::Loaders,
        resolve::{bad_id, read, services, settle},
        types::{Money, ProviderId, Shop},
    },
    orders::policy::{
        DEFAULT_RACE_WIDTH, NetworkChoice as Choice, Policy, Strategy, TipEscalation as Tips,
    },
};

/// How an automatic dispatch ranks the networks it can use.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DispatchStrategy {
    /// The lowest total fee first.
    Cheapest,
    /// The shortest expected time to a courier first, then the fee.
    Fastest,
    /// The policy's own order of `networks`.
    Preferred,
    /// The best courier scorecard in the store's city over the last 30 days first
    /// (acceptance rate, then median time to accept), then the fee.
    Scorecard,
}

impl From<DispatchStrategy> for Strategy {
    fn from(s: DispatchStrategy) -> Self {
        match s {
            DispatchStrategy::Cheapest => Self::Cheapest,
            DispatchStrategy::Fastest => Self::Fastest,
            DispatchStrategy::Preferred => Self::Preferred,
            DispatchStrategy::Scorecard => Self::Scorecard,
        }
    }
}

impl From<Strategy> for DispatchStrategy {
    fn from(s: Strategy) -> Self {
        match s {
            Strategy::Cheapest => Self::Cheapest,
            Strategy::Fastest => Self::Fastest,
            Strategy::Preferred => Self::Preferred,
            Strategy::Scorecard => Self::Scorecard,
        }
    }
}

/// A courier network, or one company on a network of several.
#[derive(SimpleObject)]
pub struct NetworkChoice {
    /// The courier network.
    pub network: ProviderId,
    /// The company (WeChat's `delivery_id`, e.g. `SFTC`); null = every company.
    pub company: Option<String>,
}

/// A courier network, or one company on a network of several.
#[derive(InputObject)]
pub struct NetworkChoiceInput {
    /// The courier network.
    pub network: ProviderId,
    /// The company (WeChat's `delivery_id`); leave out for every company of the network.
    pub company: Option<String>,
}

/// Tips raised while nobody accepts.
#[derive(SimpleObject)]
pub struct TipEscalation {
    /// Added each time.
    pub step: Money,
    /// Seconds between raises.
    pub interval_seconds: i64,
    /// The most the tip reaches.
    pub cap: Money,
}

/// Tips raised while nobody accepts (on networks that take tips).
#[derive(InputObject)]
pub struct TipEscalationInput {
    /// Added each time, in fen (above zero).
    pub step_fen: i64,
    /// Seconds between raises (above zero).
    pub interval_seconds: i64,
    /// The most the tip reaches, in fen (at least one step).
    pub cap_fen: i64,
}

/// A shop's dispatch policy.
pub struct DispatchPolicy(pub Policy);

/// A shop's dispatch policy: how `dispatchDelivery(strategy: AUTO)` chooses among courier
/// networks, escalates tips, moves on and races.
#[Object]
impl DispatchPolicy {
    /// The shop it is for.
    async fn shop(&self, ctx: &Context<'_>) -> Result<Option<Shop>> {
        Shop::load(ctx, self.0.shop_id).await
    }
    /// How the quotes are ranked.
    async fn strategy(&self) -> DispatchStrategy {
        self.0.strategy.into()
    }
    /// The networks and companies allowed, in preferred order; empty = every one the
    /// stores reach.
    async fn networks(&self) -> Vec<NetworkChoice> {
        self.0
            .networks
            .iter()
            .map(|c| NetworkChoice {
                network: c.network.into(),
                company: c.company.clone(),
            })
            .collect()
    }
    /// The same store on other courier networks: a quote or dispatch from this shop asks
    /// them too.
    async fn linked_shops(&self, ctx: &Context<'_>) -> Result<Vec<Shop>> {
        let found = ctx
            .data::<Loaders>()?
            .shops
            .load_many(self.0.linked_shops.iter().copied())
            .await?;
        Ok(self
            .0
            .linked_shops
            .iter()
            .filter_map(|id| found.get(id).cloned().map(Shop))
            .collect())
    }
    /// Quotes above this total fee are not used.
    async fn fee_cap(&self) -> Option<Money> {
        self.0.fee_cap.map(Money)
    }
    /// Tips raised while nobody accepts; null = none.
    async fn tip_escalation(&self) -> Option<TipEscalation> {
        self.0.tips.map(|t| TipEscalation {
            step: Money(t.step),
            interval_seconds: t.interval_secs,
            cap: Money(t.cap),
        })
    }
    /// Unaccepted after this many seconds, the delivery moves to the next network (when
    /// cancelling is still free); null = it stays.
    async fn switch_after_seconds(&self) -> Option<i64> {
        self.0.switch_after_secs
    }
    /// Whether an automatic dispatch may ask several networks at once (one acceptance is
    /// kept, the others are cancelled while that is free).
    async fn race_allowed(&self) -> bool {
        self.0.race
    }
    /// How many attempts a race sends at once, at most one of them on a network that
    /// charges from the acceptance on.
    async fn race_width(&self) -> i32 {
        self.0.race_width
    }
    /// When it was last set.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// The whole policy of a shop (it replaces the one before).
#[derive(InputObject)]
pub struct SetDispatchPolicyInput {
    /// The shop dispatched from (a courier network's store).
    pub shop_id: ID,
    /// How the quotes are ranked.
    pub strategy: DispatchStrategy,
    /// Allowed networks and companies, in preferred order; leave out for every one.
    #[graphql(default)]
    pub networks: Vec<NetworkChoiceInput>,
    /// The same store on other courier networks (their shop ids, one per network).
    #[graphql(default)]
    pub linked_shop_ids: Vec<ID>,
    /// Quotes above this total fee (fen) are not used.
    pub fee_cap_fen: Option<i64>,
    /// Raise the tip while nobody accepts; leave out for none.
    pub tip_escalation: Option<TipEscalationInput>,
    /// Move an unaccepted delivery to the next network after this many seconds.
    pub switch_after_seconds: Option<i64>,
    /// Let an automatic dispatch ask several networks at once.
    #[graphql(default)]
    pub race_allowed: bool,
    /// How many attempts a race sends at once: 2 to 5. At most one of them is on a network
    /// that charges from the courier's acceptance on, so fewer go out when too few networks
    /// have a free window after it.
    #[graphql(default_with = "DEFAULT_RACE_WIDTH")]
    pub race_width: i32,
}

/// What `setDispatchPolicy` or `deleteDispatchPolicy` did.
#[derive(SimpleObject)]
pub struct DispatchPolicyPayload {
    /// The policy now (null when refused, or after a delete).
    pub policy: Option<DispatchPolicy>,
    /// Why the request was refused; empty when it went through.
    pub user_errors: Vec<UserError>,
}

fn decode_shop(id: &ID) -> Option<i64> {
    ids::decode(Kind::Shop, id)
}

#[derive(Default)]
pub struct PolicyQuery;

#[Object]
impl PolicyQuery {
    /// The dispatch policy of a shop; null when it has none.
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn dispatch_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop (a courier network's store).")] shop_id: ID,
    ) -> Result<Option<DispatchPolicy>> {
        let Some(id) = decode_shop(&shop_id) else {
            return Ok(None);
        };
        check_shop(ctx, Some(id))?;
        read(
            ctx,
            async |s| s.orders.policy(id).await,
            |p| p.map(DispatchPolicy),
        )
        .await
    }
}

#[derive(Default)]
pub struct PolicyMutation;

#[Object]
impl PolicyMutation {
    /// Sets a shop's dispatch policy, replacing the one before. Refused (with `userErrors`)
    /// when a linked shop is not a courier store, two stores are on one network, a network
    /// listed has no store here, or the tips, cap or switch time are not above zero.
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn set_dispatch_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The whole policy; it replaces the one before.")]
        input: SetDispatchPolicyInput,
    ) -> Result<DispatchPolicyPayload> {
        let refused = |field: &str, what: &str| DispatchPolicyPayload {
            policy: None,
            user_errors: bad_id(field, what),
        };
        let Some(shop) = decode_shop(&input.shop_id) else {
            return Ok(refused("shopId", "a shop id"));
        };
        let mut linked = Vec::with_capacity(input.linked_shop_ids.len());
        for id in &input.linked_shop_ids {
            match decode_shop(id) {
                Some(id) => linked.push(id),
                None => return Ok(refused("linkedShopIds", "a shop id")),
            }
        }
        check_shop(ctx, Some(shop))?;
        for id in &linked {
            check_shop(ctx, Some(*id))?;
        }
        let policy = Policy {
            shop_id: shop,
            strategy: input.strategy.into(),
            networks: input
                .networks
                .into_iter()
                .map(|c| Choice {
                    network: c.network.into(),
                    company: c.company,
                })
                .collect(),
            linked_shops: linked,
            fee_cap: input.fee_cap_fen.map(domain::Money::from_fen),
            tips: input.tip_escalation.map(|t| Tips {
                step: domain::Money::from_fen(t.step_fen),
                interval_secs: t.interval_seconds,
                cap: domain::Money::from_fen(t.cap_fen),
            }),
            switch_after_secs: input.switch_after_seconds,
            race: input.race_allowed,
            race_width: input.race_width,
            updated_at: Utc::now(),
        };
        let st = services(ctx)?;
        let (policy, user_errors) = settle(st.orders.set_policy(policy).await, DispatchPolicy)?;
        Ok(DispatchPolicyPayload {
            policy,
            user_errors,
        })
    }

    /// Removes a shop's dispatch policy (automatic dispatch is then refused there).
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn delete_dispatch_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop whose policy to remove.")] shop_id: ID,
    ) -> Result<DispatchPolicyPayload> {
        let Some(id) = decode_shop(&shop_id) else {
            return Ok(DispatchPolicyPayload {
                policy: None,
                user_errors: bad_id("shopId", "a shop id"),
            });
        };
        check_shop(ctx, Some(id))?;
        let st = services(ctx)?;
        let (_, user_errors) = settle(st.orders.delete_policy(id).await, |()| ())?;
        Ok(DispatchPolicyPayload {
            policy: None,
            user_errors,
        })
    }
}
