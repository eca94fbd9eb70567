//! Everything a request goes through around its execution, as the schema's only extension:
//! persisted queries, the per-request platform-call budget, the document limits behind a
//! cache of parsed documents, the cost budget, catalogue caching, error codes and the audit
//! of mutations. One extension rather than one per concern: async-graphql runs every field of
//! every answer through each registered extension's `resolve` (one boxed future each), so
//! eight extensions cost eight futures a field where this costs one.
//!
//! The document cache holds parsed documents that passed the limits, keyed by their text (a
//! persisted query's hash leads to its text, so it is served from here too). A request without
//! variables also reuses the document's validation result for the same operation: validation
//! depends on nothing else. The cost is still charged, and the limits still apply, every time.

use std::{
    hash::{BuildHasher, RandomState},
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

use async_graphql::{
    Request, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
        NextPrepareRequest, NextRequest, NextResolve, NextSubscribe, NextValidation, ResolveInfo,
    },
    futures_util::stream::BoxStream,
    parser::types::{ExecutableDocument, OperationType},
};
use futures::StreamExt;

use super::{
    access, budget, caching, classify,
    cost::{self, CostLimit, Paid},
    limits::{self, DocumentLimits, ViaGet},
    persisted::{Pending, PersistedQueries},
};
use crate::access::Caller;

/// A document that passed the limits, and what is known about it.
struct Checked {
    query: Box<str>,
    doc: ExecutableDocument,
    /// Every operation is a query of catalogue reads only.
    catalogue: bool,
    /// An operation is a subscription: its events do not repeat the cost it paid once.
    subscription: bool,
    /// Validation's result for a request without variables, and the operation it ran.
    validated: Mutex<Option<(Option<String>, ValidationResult)>>,
}

/// The parsed documents this instance has seen, least recently used out.
struct Documents {
    hasher: RandomState,
    cache: Mutex<lru::LruCache<u64, Arc<Checked>>>,
}

impl Documents {
    fn new(capacity: usize) -> Self {
        Self {
            hasher: RandomState::new(),
            cache: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// The checked document for `query`: from the cache, or parsed, checked and kept.
    fn get(&self, query: &str, limits: &DocumentLimits) -> ServerResult<Arc<Checked>> {
        let key = self.hasher.hash_one(query);
        let hit = self
            .cache
            .lock()
            .ok()
            .and_then(|mut c| c.get(&key).cloned())
            .filter(|c| &*c.query == query);
        if let Some(checked) = hit {
            metrics::counter!("orderhub_document_cache_total", "outcome" => "hit").increment(1);
            return Ok(checked);
        }
        metrics::counter!("orderhub_document_cache_total", "outcome" => "miss").increment(1);
        let doc = limits.parse(query)?;
        let checked = Arc::new(Checked {
            query: query.into(),
            catalogue: caching::catalogue_document(&doc),
            subscription: doc
                .operations
                .iter()
                .any(|(_, op)| op.node.ty == OperationType::Subscription),
            doc,
            validated: Mutex::new(None),
        });
        if let Ok(mut c) = self.cache.lock() {
            c.put(key, checked.clone());
        }
        Ok(checked)
    }
}

/// The settings and shared state of the stages.
pub struct Stages {
    pub limits: DocumentLimits,
    pub persisted: PersistedQueries,
    pub cost: CostLimit,
    /// `Cache-Control: max-age` of a catalogue answer.
    pub catalogue_max_age: i32,
    pub platform_calls_per_request: u32,
    documents: Documents,
}

impl Stages {
    pub fn new(
        limits: DocumentLimits,
        cost: CostLimit,
        catalogue_max_age: i32,
        platform_calls_per_request: u32,
    ) -> Self {
        Self {
            limits,
            persisted: PersistedQueries::new(2_000),
            cost,
            catalogue_max_age,
            platform_calls_per_request,
            documents: Documents::new(1_000),
        }
    }
}

/// The schema's extension: one [`Stages`] shared by every request.
pub struct Pipeline(pub Arc<Stages>);

impl ExtensionFactory for Pipeline {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Run {
            stages: self.0.clone(),
            state: Mutex::new(State::default()),
        })
    }
}

/// What one request carries from one stage to the next.
#[derive(Default)]
struct State {
    pending: Option<Pending>,
    /// The request has variables (so validation runs whatever the cache holds).
    variables: bool,
    operation: Option<String>,
    checked: Option<Arc<Checked>>,
    paid: Option<Paid>,
}

/// One request's run through the stages.
struct Run {
    stages: Arc<Stages>,
    state: Mutex<State>,
}

impl Run {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> Option<T> {
        self.state.lock().ok().map(|mut s| f(&mut s))
    }
}

#[async_trait::async_trait]
impl Extension for Run {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        classify::label(&mut response.errors);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream)
            .map(|mut response| {
                classify::label(&mut response.errors);
                response
            })
            .boxed()
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let pending = self.stages.persisted.resolve(&mut request)?;
        let variables = !request.variables.is_empty();
        let operation = request.operation_name.clone();
        self.with(|s| {
            s.pending = pending;
            s.variables = variables;
            s.operation = operation;
        });
        let budget = budget::grant(self.stages.platform_calls_per_request);
        next.run(ctx, request.data(budget)).await
    }

    /// Parses through the document cache; `next` (async-graphql's parse and its expanding
    /// checks) is deliberately not run.
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        _variables: &Variables,
        _next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let checked = self.stages.documents.get(query, &self.stages.limits)?;
        if let Some(via) = ctx.data_opt::<ViaGet>() {
            limits::allowed_over_get(&checked.doc, via)?;
        }
        let doc = checked.doc.clone();
        self.with(|s| s.checked = Some(checked));
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let (checked, variables, operation) = self
            .with(|s| (s.checked.clone(), s.variables, s.operation.clone()))
            .unwrap_or((None, true, None));
        let reusable = checked.as_ref().filter(|_| !variables);
        let known = reusable.and_then(|c| {
            c.validated
                .lock()
                .ok()
                .and_then(|v| v.clone())
                .filter(|(op, _)| *op == operation)
                .map(|(_, result)| result)
        });
        let result = match known {
            Some(result) => result,
            None => {
                let result = next.run(ctx).await.map_err(|mut errors| {
                    errors.iter_mut().for_each(classify::label_validation);
                    errors
                })?;
                if let Some(c) = reusable
                    && let Ok(mut v) = c.validated.lock()
                {
                    *v = Some((operation, result));
                }
                result
            }
        };
        let paid = self
            .stages
            .cost
            .charge(&cost::who(ctx.data_opt::<Caller>()), &result)
            .map_err(|e| vec![e])?;
        let pending = self.with(|s| {
            s.paid = Some(paid);
            s.pending.take()
        });
        if let Some(pending) = pending.flatten() {
            self.stages.persisted.register(pending);
        }
        Ok(result)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let (paid, catalogue, subscription) = self
            .with(|s| {
                let checked = s.checked.as_ref();
                (
                    s.paid,
                    checked.is_some_and(|c| c.catalogue),
                    checked.is_some_and(|c| c.subscription),
                )
            })
            .unwrap_or((None, false, false));
        // Every answer carries its cost; a subscription's events, each one more answer to the
        // same request, do not repeat it.
        if let Some(paid) = paid
            && !subscription
        {
            self.stages.cost.report(paid, &mut response);
        }
        if catalogue && response.errors.is_empty() {
            response.cache_control = async_graphql::CacheControl {
                public: false,
                max_age: self.stages.catalogue_max_age,
            };
        }
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.parent_type == "Mutation" && info.path_node.parent.is_none() {
            access::audited(ctx, info, next).await
        } else {
            next.run(ctx, info).await
        }
    }
}
