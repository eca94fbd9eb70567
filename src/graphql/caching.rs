//! Catalogue answers may be cached by the client: a query whose root fields are all catalogue
//! reads (providers, categories, shops, the couriers' reference lists) and that succeeded gets
//! `Cache-Control: max-age=…, private` (private: the answer depends on the caller's key);
//! anything touching orders, keys or live platform state gets no caching header. Over GET the
//! HTTP layer adds an `ETag` and answers `If-None-Match` with 304.

use std::sync::{Arc, Mutex};

use async_graphql::{
    CacheControl, Response, ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery},
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
};

/// Root fields whose answers change slowly and hold no order or customer data.
const CATALOGUE: &[&str] = &[
    "__typename",
    "providers",
    "categories",
    "shops",
    "shop",
    "deliveryCities",
    "deliveryCancelReasons",
    "deliveryComplaintReasons",
    "deliveryCompanies",
];

/// How long a client may reuse a catalogue answer.
pub struct CatalogueCaching {
    pub max_age_secs: i32,
}

impl ExtensionFactory for CatalogueCaching {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Cacheable {
            max_age: self.max_age_secs,
            catalogue_only: Mutex::new(false),
        })
    }
}

struct Cacheable {
    max_age: i32,
    catalogue_only: Mutex<bool>,
}

/// Whether every root field of `set` (through fragments) is a catalogue read.
fn catalogue_only(doc: &ExecutableDocument, set: &SelectionSet, depth: usize) -> bool {
    depth < 8
        && set.items.iter().all(|s| match &s.node {
            Selection::Field(f) => CATALOGUE.contains(&f.node.name.node.as_str()),
            Selection::InlineFragment(f) => {
                catalogue_only(doc, &f.node.selection_set.node, depth + 1)
            }
            Selection::FragmentSpread(spread) => doc
                .fragments
                .get(&spread.node.fragment_name.node)
                .is_some_and(|f| catalogue_only(doc, &f.node.selection_set.node, depth + 1)),
        })
}

#[async_trait::async_trait]
impl Extension for Cacheable {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let only = doc.operations.iter().all(|(_, op)| {
            op.node.ty == OperationType::Query
                && catalogue_only(&doc, &op.node.selection_set.node, 0)
        });
        if let Ok(mut c) = self.catalogue_only.lock() {
            *c = only;
        }
        Ok(doc)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let only = self.catalogue_only.lock().map(|c| *c).unwrap_or(false);
        if only && response.errors.is_empty() {
            response.cache_control = CacheControl {
                public: false,
                max_age: self.max_age,
            };
        }
        response
    }
}
