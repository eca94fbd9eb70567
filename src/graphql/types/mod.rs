//! The public types. They wrap database rows and domain values but never expose either
//! directly, so storage and the API can change apart. The enums and values shared by every
//! part live here; shops, orders and providers each have their own file.

mod order;
mod provider;
mod shop;

use async_graphql::{Enum, ID, Interface, Object, Result, SimpleObject};

pub use self::{order::*, provider::*, shop::*};
use super::errors::internal;
use crate::domain;

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::ProviderId")]
pub enum ProviderId {
    Daoway,
    Dada,
    Wechat,
    /// 58到家 (spelled as in the database and the README).
    #[graphql(name = "DAOJIA58")]
    Daojia58,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::OrderStatus")]
pub enum OrderStatus {
    Pending,
    Accepted,
    Arrived,
    InProgress,
    Completed,
    Cancelled,
    Returning,
    Returned,
    Failed,
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
    async fn currency(&self) -> &'static str {
        "CNY"
    }
}

pub(in crate::graphql) fn money(fen: i64) -> Money {
    Money(domain::Money::from_fen(fen))
}

#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct GeoPoint {
    /// BD-09 longitude.
    pub lng: f64,
    /// BD-09 latitude.
    pub lat: f64,
}

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
// async-graphql's interface enum holds its implementors by value; nodes are built one
// at a time, so the size is of no consequence.
#[allow(clippy::large_enum_variant)]
pub enum Node {
    Shop(Shop),
    Order(Order),
    Category(Category),
}
