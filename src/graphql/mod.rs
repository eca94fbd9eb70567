//! The GraphQL schema: queries, mutations and subscriptions composed from per-domain parts,
//! with the safety limits every public GraphQL server needs. Resolvers reach the services in
//! [`Services`] and nothing else: no provider, no query of their own (DataLoaders read
//! through the services' repository modules).

pub(crate) mod access;
mod budget;
mod caching;
mod classify;
mod cost;
mod delivery;
pub mod errors;
mod finding;
pub mod ids;
mod inbound;
mod limits;
pub mod loaders;
mod mutation;
mod node;
mod paging;
mod persisted;
mod prefetch;
mod query;
mod resolve;
mod stages;
mod stats;
mod subscription;
pub mod types;

use async_graphql::{MergedObject, Schema};
use tokio_util::sync::CancellationToken;

pub use self::{
    access::{forbidden, unauthenticated},
    limits::ViaGet,
    subscription::{Admission, Marks, ResumeAfter, Subscription, Yielded},
};
use crate::{
    access::AccessService, catalog::CatalogService, config::LimitsConfig,
    domain::provider::ProviderInfo, events::EventBus, orders::OrderService,
};

/// Every query, composed from the per-domain parts.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    query::Query,
    delivery::DeliveryQuery,
    delivery::PolicyQuery,
    inbound::InboundQuery,
    access::AccessQuery,
    stats::StatsQuery,
    stats::ScorecardQuery,
);

/// Every mutation, composed from the per-domain parts.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    mutation::Mutation,
    delivery::DeliveryMutation,
    delivery::PolicyMutation,
    inbound::InboundMutation,
    access::AccessMutation,
);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// What the resolvers may use: the services, the event bus subscriptions listen to, what
/// the providers are (for `providers`), and the shutdown signal that ends subscriptions.
#[derive(Clone)]
pub struct Services {
    pub catalog: CatalogService,
    pub orders: OrderService,
    pub access: AccessService,
    pub bus: EventBus,
    pub providers: Vec<ProviderInfo>,
    /// Cancelled at shutdown: open subscriptions end, so their websockets close.
    pub shutdown: CancellationToken,
}

/// The largest page a list field serves (`first`), from the limits the schema was built with.
#[derive(Clone, Copy)]
struct MaxPageSize(usize);

/// The schema with its limits; `services` is None only for printing the SDL.
pub fn build(limits: &LimitsConfig, services: Option<Services>) -> AppSchema {
    let stages = stages::Stages::new(
        limits::DocumentLimits {
            max_fields: limits.max_document_fields,
            max_aliases: limits.max_aliases,
            max_nesting: 32,
            max_directives: 10,
            introspection: limits.introspection,
        },
        cost::CostLimit::new(limits.cost_bucket, limits.cost_restore_per_sec)
            .with_shape(limits.max_query_depth, limits.max_query_complexity),
        i32::try_from(limits.catalogue_max_age_secs).unwrap_or(i32::MAX),
        limits.platform_calls_per_request,
    );
    let mut builder = Schema::build(Query::default(), Mutation::default(), Subscription)
        .extension(stages::Pipeline(std::sync::Arc::new(stages)))
        .data(MaxPageSize(limits.max_page_size));
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    if let Some(services) = services {
        builder = builder
            .data(loaders::Loaders::new(services.orders.reader().clone()))
            .data(services);
    }
    builder.finish()
}

/// A request as the schema runs it: with its caller and a fresh read-ahead cache for its
/// pages (`prefetch`). Added here rather than in the `stages` extension, which would need
/// one more hook.
pub fn prepare(
    request: async_graphql::Request,
    caller: crate::access::Caller,
) -> async_graphql::Request {
    request.data(caller).data(prefetch::PageCache::default())
}

/// A response to a request that could not run (parse, validation, limits, cost): no data,
/// and no error that belongs to a field. GraphQL over HTTP answers it without `data` (4xx
/// under `application/graphql-response+json`); graphql-ws answers it with `error`.
pub fn not_run(r: &async_graphql::Response) -> bool {
    r.data == async_graphql::Value::Null
        && !r.errors.is_empty()
        && r.errors.iter().all(|e| e.path.is_empty())
}

/// The SDL as `schema.graphql` holds it.
pub fn sdl() -> String {
    build(&LimitsConfig::default(), None)
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
