//! Read side: providers, the catalogue (read-through to the marketplaces) and orders.

use async_graphql::{
    Context, ID, InputObject, Object, Result,
    connection::{Connection, Edge, OpaqueCursor},
};

use super::access::{Need, check_shop};
use super::finding::{OrderCursor, OrderFilter, OrderSort, service_filter, service_window};
use super::node::{Node, node_of};
use super::paging::{Take, Window, page_cost, window};
use super::{
    MaxPageSize,
    errors::{invalid, provider_error},
    ids::{self, Kind},
    resolve::{read, services},
    types::{Category, Order, OrderConnection, Provider, ProviderId, Shop, ShopConnection},
};
use crate::access::Scope;
use crate::{
    catalog::Partial,
    domain::{self, catalog::ShopQuery},
};

/// A point on the map in BD-09 (Baidu) coordinates, the system the Chinese platforms use.
#[derive(InputObject, Clone, Copy)]
pub struct GeoPointInput {
    /// BD-09 longitude.
    pub lng: f64,
    /// BD-09 latitude.
    pub lat: f64,
}

/// Which shops to list; every field is optional and they combine (all must match).
#[derive(InputObject, Default)]
pub struct ShopFilter {
    /// Only this provider's shops.
    pub provider: Option<ProviderId>,
    /// City name as the platform spells it, e.g. "北京".
    pub city: Option<String>,
    /// A category from `categories`.
    pub category: Option<ID>,
    /// Keyword matched against shop names and services.
    pub search: Option<String>,
    /// Order by distance from this point.
    pub near: Option<GeoPointInput>,
}

#[derive(Default)]
pub struct Query;

/// The offset and size of a shops page, from its window of offset cursors (`after` is the
/// offset of the item before the page) and the offset the page must end before (`before`'s,
/// or the total for `last` alone); None for an empty window.
fn shop_range(w: &Window<OpaqueCursor<usize>>, end: Option<usize>) -> Option<(usize, usize)> {
    let start = w.after.as_ref().map_or(0, |c| c.0 + 1);
    match (w.take, end) {
        (_, Some(end)) if end <= start => None,
        (Take::First, end) => Some((start, end.map_or(w.n, |e| w.n.min(e - start)))),
        (Take::Last, Some(end)) => {
            let from = end.saturating_sub(w.n).max(start);
            Some((from, end - from))
        }
        (Take::Last, None) => None,
    }
}

fn empty_shops() -> ShopConnection {
    ShopConnection {
        page: Connection::new(false, false),
        total: Some(0),
    }
}

/// The data of a fan-out, with each provider that could not answer reported beside it.
fn reported<T>(ctx: &Context<'_>, got: Partial<T>) -> T {
    for e in &got.errors {
        ctx.add_error(provider_error(e));
    }
    got.data
}

/// The longest `search` text taken (a shop title is far shorter).
const MAX_SEARCH_CHARS: usize = 100;

#[Object(name = "CatalogQuery")]
impl Query {
    /// The platforms behind this API, what each is to us and what it supports.
    #[graphql(guard = "Need(Scope::CatalogRead)")]
    async fn providers(&self, ctx: &Context<'_>) -> Result<Vec<Provider>> {
        Ok(services(ctx)?
            .providers
            .iter()
            .cloned()
            .map(Provider)
            .collect())
    }

    /// Service categories of every marketplace. A marketplace that cannot be reached adds a
    /// `PROVIDER_UNAVAILABLE` error and its stored categories are served.
    #[graphql(guard = "Need(Scope::CatalogRead)")]
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        read(
            ctx,
            async |s| s.catalog.categories().await,
            |got| {
                let list = reported(ctx, got);
                list.into_iter().map(Category).collect()
            },
        )
        .await
    }

    /// Shops of the marketplaces, as the platforms rank them (by distance with `near`).
    /// Fetched live; when a platform fails, the stored shops come back marked `stale` with a
    /// `PROVIDER_UNAVAILABLE` error beside them.
    #[graphql(
        guard = "Need(Scope::CatalogRead)",
        complexity = "page_cost(first, last, child_complexity)"
    )]
    async fn shops(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which shops; leave out for every shop of every marketplace.")]
        filter: Option<ShopFilter>,
        #[graphql(
            desc = "Page size from the start, 1 to the configured maximum (100); 20 \
                          when neither `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(desc = "Only shops after this cursor (the previous page's `endCursor`).")]
        after: Option<String>,
        #[graphql(
            desc = "Page size from the end, 1 to the configured maximum (100); needs \
                          `before` where the total is not known."
        )]
        last: Option<i32>,
        #[graphql(desc = "Only shops before this cursor (the next page's `startCursor`).")]
        before: Option<String>,
    ) -> Result<ShopConnection> {
        let w = window::<OpaqueCursor<usize>>(ctx, first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let mut only = filter.provider.map(domain::ProviderId::from);
        let mut category = None;
        if let Some(id) = &filter.category {
            let cid = ids::decode(Kind::Category, id)
                .ok_or_else(|| invalid("category is not a category id"))?;
            let cat = read(ctx, async |s| s.catalog.category(cid).await, |c| c)
                .await?
                .ok_or_else(|| invalid("unknown category"))?;
            let provider: domain::ProviderId = super::types::parse(&cat.provider)?;
            if only.is_some_and(|p| p != provider) {
                return Ok(empty_shops());
            }
            only = Some(provider);
            category = Some(cat.external_id);
        }
        let near = match filter.near {
            Some(p) => Some(
                domain::GeoPoint::new(p.lng, p.lat)
                    .ok_or_else(|| invalid("near is not a valid coordinate"))?,
            ),
            None => None,
        };
        let nonblank = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        if filter
            .search
            .as_ref()
            .is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS)
        {
            return Err(invalid(format!(
                "search is too long ({MAX_SEARCH_CHARS} characters at most)"
            )));
        }
        let mut query = ShopQuery {
            city: nonblank(filter.city),
            category,
            search: nonblank(filter.search),
            near,
            offset: 0,
            limit: 0,
        };
        // The page ends at `before`, or for `last` alone at the end of the list, which
        // only a list with a known total has.
        let end = match (&w.before, w.take) {
            (Some(c), _) => Some(c.0),
            (None, Take::Last) => Some(
                read(
                    ctx,
                    async |s| s.catalog.shop_total(only, &query).await,
                    |n| n,
                )
                .await?
                .ok_or_else(|| {
                    invalid("last needs before on a marketplace's shops (it has no total)")
                })?,
            ),
            (None, Take::First) => None,
        };
        let Some((offset, limit)) = shop_range(&w, end) else {
            return Ok(empty_shops());
        };
        query.offset = offset;
        query.limit = limit;
        let page = read(
            ctx,
            async |s| s.catalog.search_shops(only, &query).await,
            |got| reported(ctx, got),
        )
        .await?;
        super::prefetch::shops_page(ctx, &page.shops).await?;
        let has_next = page.has_next || w.before.is_some();
        let mut conn = Connection::new(offset > 0, has_next);
        conn.edges.extend(
            page.shops
                .into_iter()
                .enumerate()
                .map(|(i, s)| Edge::new(OpaqueCursor(offset + i), Shop(s))),
        );
        Ok(ShopConnection {
            page: conn,
            total: page.total,
        })
    }

    /// One shop with its prices, hours and fees (fetched from the platform when older than
    /// the configured TTL; served stale with an error when the platform fails).
    #[graphql(guard = "Need(Scope::CatalogRead)")]
    async fn shop(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop's global id (`Shop.id`).")] id: ID,
    ) -> Result<Option<Shop>> {
        let sid = ids::decode(Kind::Shop, &id).ok_or_else(|| invalid("id is not a shop id"))?;
        read(
            ctx,
            async |s| s.catalog.shop(sid, false).await,
            |got| got.map(|got| Shop(reported(ctx, got))),
        )
        .await
    }

    /// Any object by its global id (every type that implements `Node`), with the scope
    /// and shop checks of the field that otherwise shows it; null when nothing has that id.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id, as any object's `id` field gives it.")] id: ID,
    ) -> Result<Option<Node>> {
        node_of(ctx, &id).await
    }

    /// Several objects by their global ids, in the order asked, each null when nothing has
    /// that id (Relay's `nodes`). At most the configured page size (100) ids.
    #[graphql(complexity = "ids.len().max(1) * child_complexity")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids, as objects' `id` fields give them.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        let MaxPageSize(max) = *ctx.data::<MaxPageSize>()?;
        if ids.len() > max {
            return Err(invalid(format!("at most {max} ids at once")));
        }
        let mut found = Vec::with_capacity(ids.len());
        for id in &ids {
            found.push(node_of(ctx, id).await?);
        }
        Ok(found)
    }

    /// Orders of every provider: newest recorded first, or in the `sort` asked for.
    #[graphql(
        guard = "Need(Scope::OrdersRead)",
        complexity = "page_cost(first, last, child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which orders; leave out for every order the key may see.")]
        filter: Option<OrderFilter>,
        #[graphql(desc = "The order of the list; leave out for newest recorded first.")]
        sort: Option<OrderSort>,
        #[graphql(desc = "Page size from the start of the list, 1 to the configured \
                          maximum (100); 20 when neither `first` nor `last` is given.")]
        first: Option<i32>,
        #[graphql(desc = "Only orders after this cursor in list order: the previous \
                          page's `endCursor`.")]
        after: Option<String>,
        #[graphql(
            desc = "Page size from the end of the list, 1 to the configured maximum \
                          (100)."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Only orders before this cursor in list order: the next page's \
                          `startCursor`."
        )]
        before: Option<String>,
    ) -> Result<OrderConnection> {
        let w = window::<OrderCursor>(ctx, first, after, last, before)?;
        let sort = sort.unwrap_or_default().into();
        let f = service_filter(ctx, filter.unwrap_or_default())?;
        let range = service_window(&w, sort)?;
        let slice = read(ctx, async |s| s.orders.list(&f, range).await, |s| s).await?;
        super::prefetch::orders_page(ctx, &slice.rows).await?;
        let (has_previous, has_next) = w.page_info(slice.more);
        let mut conn = Connection::new(has_previous, has_next);
        conn.edges.extend(slice.rows.into_iter().map(|o| {
            Edge::new(
                OrderCursor(crate::orders::Position::of(&o, sort.key)),
                Order(o),
            )
        }));
        Ok(OrderConnection {
            page: conn,
            filter: f,
        })
    }

    /// One order with its status timeline.
    #[graphql(guard = "Need(Scope::OrdersRead)")]
    async fn order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order's global id (`Order.id`).")] id: ID,
    ) -> Result<Option<Order>> {
        let oid = ids::decode(Kind::Order, &id).ok_or_else(|| invalid("id is not an order id"))?;
        let order = read(ctx, async |s| s.orders.get(oid).await, |o| o).await?;
        if let Some(o) = &order {
            check_shop(ctx, o.shop_id)?;
        }
        Ok(order.map(Order))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::LimitsConfig;

    /// `first` multiplies a page's cost: checked at validation, before any resolver runs
    /// (the schema has no services here, so an accepted query fails later, differently).
    #[tokio::test]
    async fn page_size_multiplies_complexity() {
        let limits = LimitsConfig {
            max_query_complexity: 500,
            ..LimitsConfig::default()
        };
        let schema = crate::graphql::build(&limits, None);
        let page = |n: i32| {
            format!(
                "{{ orders(first: {n}) {{ nodes {{ id status rawStatus createdAt provider kind }} }} }}"
            )
        };
        let too_complex = |e: &async_graphql::ServerError| {
            e.extensions.as_ref().and_then(|x| x.get("code"))
                == Some(&async_graphql::Value::from("QUERY_TOO_COMPLEX"))
        };
        let too_big = schema.execute(page(100).as_str()).await;
        assert!(
            too_big.errors.iter().any(too_complex),
            "{:?}",
            too_big.errors
        );
        let small = schema.execute(page(5).as_str()).await;
        assert!(!small.errors.iter().any(too_complex), "{:?}", small.errors);
        let shops = schema
            .execute("{ shops(first: 100) { nodes { id title city stale provider externalId } } }")
            .await;
        assert!(shops.errors.iter().any(too_complex));
    }
}
