//! The paged lists (`shops`, `orders`) as Relay cursor connections: async-graphql's
//! `Connection` wrapped, so that each list type carries a description of its own (the
//! library's generic type has none). Type names and fields stay those of the library.

use async_graphql::{
    Object,
    connection::{Connection, CursorType, Edge, EmptyFields, OpaqueCursor, PageInfo},
};

use super::{Order, Shop};

macro_rules! connection {
    ($(#[$doc:meta])* $name:ident, $node:ty, $cursor:ty) => {
        pub struct $name(pub Connection<$cursor, $node>);

        $(#[$doc])*
        #[Object]
        impl $name {
            /// Whether more items come before and after this page, and the cursors of its
            /// first and last item.
            async fn page_info(&self) -> PageInfo {
                let c = &self.0;
                PageInfo {
                    has_previous_page: c.has_previous_page,
                    has_next_page: c.has_next_page,
                    start_cursor: c.edges.first().map(|e| e.cursor.encode_cursor()),
                    end_cursor: c.edges.last().map(|e| e.cursor.encode_cursor()),
                }
            }
            /// The page's items, each with its cursor.
            async fn edges(&self) -> &[Edge<$cursor, $node, EmptyFields>] {
                &self.0.edges
            }
            /// The page's items, without cursors.
            async fn nodes(&self) -> Vec<&$node> {
                self.0.edges.iter().map(|e| &e.node).collect()
            }
        }
    };
}

connection!(
    /// A page of shops. Ask for the next page with `after: pageInfo.endCursor` while
    /// `pageInfo.hasNextPage` is true.
    ShopConnection,
    Shop,
    OpaqueCursor<usize>
);

connection!(
    /// A page of orders, newest first. Ask for the next page with
    /// `after: pageInfo.endCursor` while `pageInfo.hasNextPage` is true.
    OrderConnection,
    Order,
    OpaqueCursor<i64>
);
