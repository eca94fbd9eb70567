//! The paged lists (`shops`, `orders`) as Relay cursor connections: async-graphql's
//! `Connection` wrapped, so that each list type carries a description of its own (the
//! library's generic type has none) and a `totalCount`. Type names and fields stay those
//! of the library.

use async_graphql::{
    Context, Object, Result,
    connection::{Connection, CursorType, Edge, EmptyFields, OpaqueCursor, PageInfo},
};

use super::{Order, Shop};
use crate::orders::OrderFilter;

macro_rules! connection {
    ($(#[$doc:meta])* $name:ident, $node:ty, $cursor:ty, $total:ty, $total_doc:literal) => {
        $(#[$doc])*
        #[Object]
        impl $name {
            #[doc = $total_doc]
            async fn total_count(&self, ctx: &Context<'_>) -> Result<$total> {
                self.count(ctx).await
            }
            /// Whether more items come before and after this page, and the cursors of its
            /// first and last item.
            async fn page_info(&self) -> PageInfo {
                let c = &self.page;
                PageInfo {
                    has_previous_page: c.has_previous_page,
                    has_next_page: c.has_next_page,
                    start_cursor: c.edges.first().map(|e| e.cursor.encode_cursor()),
                    end_cursor: c.edges.last().map(|e| e.cursor.encode_cursor()),
                }
            }
            /// The page's items, each with its cursor.
            async fn edges(&self) -> &[Edge<$cursor, $node, EmptyFields>] {
                &self.page.edges
            }
            /// The page's items, without cursors.
            async fn nodes(&self) -> Vec<&$node> {
                self.page.edges.iter().map(|e| &e.node).collect()
            }
        }
    };
}

/// A page of shops and, where it is known, how many there are in all.
pub struct ShopConnection {
    pub page: Connection<OpaqueCursor<usize>, Shop>,
    pub total: Option<usize>,
}

impl ShopConnection {
    async fn count(&self, _: &Context<'_>) -> Result<Option<i32>> {
        Ok(self.total.map(|n| i32::try_from(n).unwrap_or(i32::MAX)))
    }
}

connection!(
    /// A page of shops. Ask for the next page with `after: pageInfo.endCursor` while
    /// `pageInfo.hasNextPage` is true, or the previous one with
    /// `before: pageInfo.startCursor` while `pageInfo.hasPreviousPage` is true.
    ShopConnection,
    Shop,
    OpaqueCursor<usize>,
    Option<i32>,
    " How many shops match the filter in all: exact for our own stores at a courier \
     network; null for a marketplace's listing, which the platform pages without a total."
);

/// A page of orders and the filter it was taken with (for `totalCount`, counted only when
/// asked for).
pub struct OrderConnection {
    pub page: Connection<crate::graphql::finding::OrderCursor, Order>,
    pub filter: OrderFilter,
}

impl OrderConnection {
    async fn count(&self, ctx: &Context<'_>) -> Result<i32> {
        let n =
            crate::graphql::resolve::read(ctx, async |s| s.orders.count(&self.filter).await, |n| n)
                .await?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
}

connection!(
    /// A page of orders, in the list's order (newest recorded first unless sorted). Ask for
    /// the next page with `after: pageInfo.endCursor` while `pageInfo.hasNextPage` is true,
    /// or the previous one with `last` and `before: pageInfo.startCursor`.
    OrderConnection,
    Order,
    crate::graphql::finding::OrderCursor,
    i32,
    " How many orders match the filter in all (every page, not only this one)."
);
