//! The GraphQL schema: queries, mutations and subscriptions composed from per-domain parts,
//! with the safety limits every public GraphQL server needs.

mod delivery;
pub mod errors;
pub mod ids;
mod inbound;
mod limits;
pub mod loaders;
mod mutation;
mod query;
mod subscription;
pub mod types;

use async_graphql::{MergedObject, Schema};

pub use self::subscription::Subscription;
use crate::{AppState, config::LimitsConfig};

/// Every query, composed from the per-domain parts.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(query::Query, delivery::DeliveryQuery, inbound::InboundQuery);

/// Every mutation, composed from the per-domain parts.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    mutation::Mutation,
    delivery::DeliveryMutation,
    inbound::InboundMutation,
);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema with its limits; `state` is None only for printing the SDL.
pub fn build(limits: &LimitsConfig, state: Option<AppState>) -> AppSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), Subscription)
        .limit_depth(limits.max_query_depth)
        .limit_complexity(limits.max_query_complexity)
        .limit_recursive_depth(32)
        .limit_directives(10)
        .extension(limits::AliasLimit(limits.max_aliases));
    if let Some(state) = state {
        builder = builder
            .data(loaders::Loaders::new(state.db.clone()))
            .data(state);
    }
    builder.finish()
}

/// The shared state, as every resolver reaches it.
fn state<'a>(ctx: &async_graphql::Context<'a>) -> async_graphql::Result<&'a AppState> {
    ctx.data::<AppState>()
}

/// A service's refusals as the payload's `userErrors`.
fn refused(errors: Vec<crate::orders::UserError>) -> Vec<errors::UserError> {
    errors.into_iter().map(errors::UserError::from).collect()
}

/// The SDL as `schema.graphql` holds it.
pub fn sdl() -> String {
    build(&LimitsConfig::default(), None).sdl()
}
