//! Write side. Every mutation takes one `input` and returns a payload with the object and
//! `userErrors`; a refusal (ours or the platform's) changes nothing.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::access::{Need, check_order, check_shop};
use super::{
    errors::UserError,
    ids::{self, Kind},
    resolve::{bad_id, refused, services, settle},
    types::{Money, Order},
};
use crate::access::Scope;
use crate::orders::{self, CreateServiceOrder, LineInput, UserErrorCode};

/// One line of a new order: a price item of the shop and how many of it.
#[derive(InputObject)]
pub struct OrderLineInput {
    /// A price of the shop (from `shop.prices`).
    pub price_id: ID,
    /// How many units, at least the price's `minBuyNum`.
    pub quantity: i32,
}

/// Where the service should happen.
#[derive(InputObject)]
pub struct AddressInput {
    /// City name as the platform spells it, e.g. "北京".
    pub city: String,
    /// Neighbourhood and street.
    pub street: String,
    /// Building, floor and door.
    pub house: String,
}

/// The customer the shop contacts.
#[derive(InputObject)]
pub struct ContactInput {
    /// The customer's name.
    pub name: String,
    /// The customer's phone number: 5 to 20 digits, an optional leading `+`, spaces and
    /// dashes allowed between digits.
    pub phone: String,
}

/// A service order to place with a marketplace shop.
#[derive(InputObject)]
pub struct CreateOrderInput {
    /// The shop (a `Shop` id from `shops`).
    pub shop_id: ID,
    /// What to order: one or more of the shop's prices.
    pub items: Vec<OrderLineInput>,
    /// Where the service should happen.
    pub address: AddressInput,
    /// Whom the shop contacts.
    pub contact: ContactInput,
    /// When the service should happen. Checked against the shop's hours (China time) and notice period.
    pub appoint_time: DateTime<Utc>,
    /// A note for the shop; blank counts as none.
    pub note: Option<String>,
    /// Repeat a request with the same key to get the same order back instead of a second one.
    pub idempotency_key: Option<String>,
}

/// What `createOrder` did.
#[derive(SimpleObject)]
pub struct CreateOrderPayload {
    /// The order; null when the request was refused (see `userErrors`).
    pub order: Option<Order>,
    /// Why the request was refused; empty when it went through.
    pub user_errors: Vec<UserError>,
}

/// The order to cancel, and why.
#[derive(InputObject)]
pub struct CancelOrderInput {
    /// The order's global id.
    pub order_id: ID,
    /// For deliveries: one of `deliveryCancelReasons`; a `reason` alone means "other";
    /// neither means "other" with the text "其他原因".
    pub reason_id: Option<i64>,
    /// Why, in your words (sent to the platform where it takes a text).
    pub reason: Option<String>,
}

/// What `cancelOrder` did.
#[derive(SimpleObject)]
pub struct CancelOrderPayload {
    /// The order as it is after cancelling; null when the request was refused (see
    /// `userErrors`).
    pub order: Option<Order>,
    /// What the platform kept (deliveries cancelled after a courier accepted).
    pub penalty: Option<Money>,
    /// Why the request was refused; empty when it went through.
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct Mutation;

#[Object(name = "OrderMutation")]
impl Mutation {
    /// Places a service order on the shop's marketplace (Daoway). The pre-paid account is charged.
    #[graphql(guard = "Need(Scope::OrdersWrite)")]
    async fn create_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop, the items, where, when and whom to contact.")]
        input: CreateOrderInput,
    ) -> Result<CreateOrderPayload> {
        let st = services(ctx)?;
        let mut errors = Vec::new();
        let shop_id = ids::decode(Kind::Shop, &input.shop_id);
        if let Some(id) = shop_id {
            check_shop(ctx, Some(id))?;
        }
        if shop_id.is_none() {
            errors.push(orders::UserError::new(
                &["shopId"],
                UserErrorCode::InvalidInput,
                "shopId is not a shop id",
            ));
        }
        let mut items = Vec::new();
        for (i, line) in input.items.iter().enumerate() {
            match ids::decode(Kind::Price, &line.price_id) {
                Some(price_id) => items.push(LineInput {
                    price_id,
                    quantity: line.quantity,
                }),
                None => errors.push(orders::UserError::new(
                    &["items", &i.to_string(), "priceId"],
                    UserErrorCode::InvalidInput,
                    "priceId is not a price id",
                )),
            }
        }
        let phone = super::resolve::phone(&input.contact.phone, &["contact", "phone"], &mut errors);
        let idempotency_key =
            super::resolve::idempotency_key(ctx, input.idempotency_key, &mut errors)?;
        let (Some(shop_id), Some(phone), true) = (shop_id, phone, errors.is_empty()) else {
            return Ok(CreateOrderPayload {
                order: None,
                user_errors: refused(errors),
            });
        };
        let request = CreateServiceOrder {
            shop_id,
            items,
            city: input.address.city,
            street: input.address.street,
            house: input.address.house,
            contact_person: input.contact.name,
            phone,
            appoint_time: input.appoint_time,
            note: input.note.filter(|n| !n.trim().is_empty()),
            idempotency_key,
        };
        let (order, user_errors) = settle(st.orders.create_service_order(request).await, Order)?;
        Ok(CreateOrderPayload { order, user_errors })
    }

    /// Cancels an order on its platform, where the platform has a cancel API (deliveries:
    /// with a reason, returning the penalty); otherwise a user error says how cancellation
    /// works there.
    #[graphql(guard = "Need(Scope::OrdersWrite)")]
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order and why it is cancelled.")] input: CancelOrderInput,
    ) -> Result<CancelOrderPayload> {
        let st = services(ctx)?;
        let Some(id) = ids::decode(Kind::Order, &input.order_id) else {
            return Ok(CancelOrderPayload {
                order: None,
                penalty: None,
                user_errors: bad_id("orderId", "an order id"),
            });
        };
        check_order(ctx, id).await?;
        let (cancelled, user_errors) = settle(
            st.orders.cancel(id, input.reason_id, input.reason).await,
            |(order, penalty)| (Order(order), penalty.map(Money)),
        )?;
        let (order, penalty) = cancelled.map_or((None, None), |(o, p)| (Some(o), p));
        Ok(CancelOrderPayload {
            order,
            penalty,
            user_errors,
        })
    }
}
