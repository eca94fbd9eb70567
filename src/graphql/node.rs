//! Relay's object identification: the `Node` interface every type with a global id
//! implements, and the lookup `node(id:)` and `nodes(ids:)` share. Each kind of object is
//! fetched with the scope (and, for what belongs to an order or quote, the shop check) of
//! the field that otherwise shows it, so a global id never opens a way around access.

use async_graphql::{Context, ID, Interface, Result};

use super::access::{Need, check_quote, check_shop};
use super::{
    access::{ApiKey, AuditEntry},
    delivery::DeliveryQuote,
    errors::invalid,
    ids::{self, Kind},
    inbound::{OutboxEntry, Technician},
    resolve::read,
    types::{Category, Order, Price, Shop, StatusEvent},
};
use crate::access::Scope;
use crate::orders::repo;

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "The object's global id: pass it to `node(id:)` to fetch the object again."
))]
// async-graphql's interface enum holds its implementors by value; nodes are built one
// at a time, so the size is of no consequence.
#[allow(clippy::large_enum_variant)]
pub enum Node {
    Shop(Shop),
    Order(Order),
    Category(Category),
    Price(Price),
    StatusEvent(StatusEvent),
    DeliveryQuote(DeliveryQuote),
    Technician(Technician),
    OutboxEntry(OutboxEntry),
    ApiKey(ApiKey),
    AuditEntry(AuditEntry),
}

/// The scope that reads each kind of object (the scope of the field that lists it).
fn scope_of(kind: Kind) -> Scope {
    match kind {
        Kind::Shop | Kind::Category | Kind::Price => Scope::CatalogRead,
        Kind::Order | Kind::Event | Kind::OutboxEntry => Scope::OrdersRead,
        Kind::Quote => Scope::Dispatch,
        Kind::Technician => Scope::Inbound,
        Kind::ApiKey | Kind::AuditEntry => Scope::Admin,
    }
}

/// The order a timeline event or outbox row belongs to, checked against the caller's shops;
/// `Ok(false)` when the order is gone (nothing to show).
async fn order_visible(ctx: &Context<'_>, order_id: i64) -> Result<bool> {
    let order = read(ctx, async |s| s.orders.get(order_id).await, |o| o).await?;
    match order {
        Some(o) => check_shop(ctx, o.shop_id).map(|()| true),
        None => Ok(false),
    }
}

/// One object by its global id, as `node` and `nodes` resolve it: null when nothing has the
/// id; `INVALID_INPUT` for a malformed id; `FORBIDDEN` without the kind's scope or shop.
pub(super) async fn node_of(ctx: &Context<'_>, id: &ID) -> Result<Option<Node>> {
    use async_graphql::Guard as _;
    let (kind, n) = ids::decode_any(id).ok_or_else(|| invalid("malformed id"))?;
    Need(scope_of(kind)).check(ctx).await?;
    let db = |s: &super::Services| s.orders.reader().clone();
    Ok(match kind {
        Kind::Shop => read(ctx, async |s| s.catalog.stored_shop(n).await, |s| s)
            .await?
            .map(|s| Node::Shop(Shop(s))),
        Kind::Category => read(ctx, async |s| s.catalog.category(n).await, |c| c)
            .await?
            .map(|c| Node::Category(Category(c))),
        Kind::Price => read(ctx, async |s| s.catalog.price(n).await, |p| p)
            .await?
            .map(|p| Node::Price(Price(p))),
        Kind::Order => {
            let order = read(ctx, async |s| s.orders.get(n).await, |o| o).await?;
            if let Some(o) = &order {
                check_shop(ctx, o.shop_id)?;
            }
            order.map(|o| Node::Order(Order(o)))
        }
        Kind::Event => {
            let event = read(ctx, async |s| repo::event(&db(s), n).await, |e| e).await?;
            match event {
                Some(e) if order_visible(ctx, e.order_id).await? => {
                    Some(Node::StatusEvent(StatusEvent(e)))
                }
                _ => None,
            }
        }
        Kind::OutboxEntry => {
            let row = read(ctx, async |s| repo::outbox_entry(&db(s), n).await, |r| r).await?;
            match row {
                // A row about no order (an account-level call) is the admin's to see.
                Some(r) if r.order_id.is_none() => {
                    Need(Scope::Admin).check(ctx).await?;
                    Some(Node::OutboxEntry(OutboxEntry(r)))
                }
                Some(r) if order_visible(ctx, r.order_id.unwrap_or_default()).await? => {
                    Some(Node::OutboxEntry(OutboxEntry(r)))
                }
                _ => None,
            }
        }
        Kind::Quote => {
            check_quote(ctx, n).await?;
            read(ctx, async |s| s.orders.quote(n).await, |q| q)
                .await?
                .map(|q| Node::DeliveryQuote(DeliveryQuote(q)))
        }
        Kind::Technician => read(ctx, async |s| repo::technician(&db(s), n).await, |t| t)
            .await?
            .map(|t| Node::Technician(Technician(t))),
        Kind::ApiKey => read(ctx, async |s| s.access.key(n).await, |k| k)
            .await?
            .map(|k| Node::ApiKey(ApiKey::from(k))),
        Kind::AuditEntry => read(ctx, async |s| s.access.audit_entry(n).await, |e| e)
            .await?
            .map(|e| Node::AuditEntry(AuditEntry::from(e))),
    })
}
