//! The public types. They wrap database rows and domain values but never expose either
//! directly, so storage and the API can change apart. The enums and values shared by every
//! part live here; shops, orders and providers each have their own file.

mod order;
mod page;
mod provider;
mod shop;

use async_graphql::{Enum, Object, Result, SimpleObject};

pub use self::{order::*, page::*, provider::*, shop::*};
use super::errors::internal;
use crate::domain;

/// A platform behind this API (see `providers` for what each is and supports).
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::ProviderId")]
pub enum ProviderId {
    /// 到位 (Daoway): a marketplace of home-service shops we place service orders with.
    Daoway,
    /// 达达 (Dada): a courier network our stores dispatch deliveries through.
    Dada,
    /// WeChat instant delivery (微信同城配送): a courier network of several companies.
    Wechat,
    /// 58到家 (spelled as in the database and the README).
    #[graphql(name = "DAOJIA58")]
    Daojia58,
}

/// The unified status of an order, the same on every platform (the platform's own is in
/// `rawStatus`). The normal path is `PENDING → ACCEPTED → ARRIVED → IN_PROGRESS →
/// COMPLETED`, a step may be skipped, and a status never moves backwards. `COMPLETED`,
/// `CANCELLED`, `RETURNED`, `FAILED` and `EXPIRED` are final.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::OrderStatus")]
pub enum OrderStatus {
    /// Placed, not yet taken: waiting for the shop to confirm or for a courier to accept.
    Pending,
    /// Taken by the shop, the technician or a courier.
    Accepted,
    /// The courier is at the store to pick the goods up.
    Arrived,
    /// Under way: the goods are on their way, or the service has started.
    InProgress,
    /// Done: delivered, or the service finished. Final.
    Completed,
    /// Cancelled, by us, the customer or the platform. Final.
    Cancelled,
    /// The goods could not be delivered and are on their way back to the store.
    Returning,
    /// The undeliverable goods are back at the store. Final.
    Returned,
    /// The order did not get through: the platform could not create it, or we could not
    /// tell whether it did (`cancelReason` says which). Final.
    Failed,
    /// No courier took the order in time. Final.
    Expired,
}

/// A stored enum value that does not parse is a corrupt row: an internal error, not a guess.
pub(in crate::graphql) fn parse<T: std::str::FromStr>(s: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>().map_err(internal)
}

/// An amount of money in integer fen, with its yuan rendering.
#[derive(Clone, Copy, Debug)]
pub struct Money(pub domain::Money);

/// An amount of money in Chinese yuan (CNY): exact in fen (1 yuan = 100 fen), with its yuan
/// rendering for display.
#[Object]
impl Money {
    /// The amount in fen (1/100 yuan): exact, for arithmetic.
    async fn fen(&self) -> i64 {
        self.0.fen()
    }
    /// The amount in yuan with two decimals, e.g. "23.40".
    async fn yuan(&self) -> String {
        self.0.to_string()
    }
    /// The ISO 4217 currency code; always `CNY`.
    async fn currency(&self) -> &'static str {
        "CNY"
    }
}

pub(in crate::graphql) fn money(fen: i64) -> Money {
    Money(domain::Money::from_fen(fen))
}

/// A point on the map in BD-09 (Baidu) coordinates, the system the Chinese platforms use.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct GeoPoint {
    /// BD-09 longitude.
    pub lng: f64,
    /// BD-09 latitude.
    pub lat: f64,
}
