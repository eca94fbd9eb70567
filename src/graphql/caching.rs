//! Catalogue answers may be cached by the client: a query whose root fields are all catalogue
//! reads (providers, categories, shops, the couriers' reference lists) and that succeeded gets
//! `Cache-Control: max-age=…, private` (private: the answer depends on the caller's key);
//! anything touching orders, keys or live platform state gets no caching header. Over GET the
//! HTTP layer adds an `ETag` and answers `If-None-Match` with 304.

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};

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

/// Whether every operation of `doc` is a query of catalogue reads only.
pub(super) fn catalogue_document(doc: &ExecutableDocument) -> bool {
    doc.operations.iter().all(|(_, op)| {
        op.node.ty == OperationType::Query && catalogue_only(doc, &op.node.selection_set.node, 0)
    })
}
