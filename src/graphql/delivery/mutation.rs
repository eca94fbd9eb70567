//! The delivery mutations: quote and dispatch, the courier actions on a dispatched order,
//! cancellation previews, the networks' accounts, and our stores and merchant account there.
//! Those on one order share [`DeliveryMutation::on_order`]; every result is split into the
//! payload's object and `userErrors` by [`settle`].

use async_graphql::{Context, ID, Object, Result};

use super::{
    AddTipInput, AssignCourierInput, BindDeliveryAccountInput, ComplainAboutCourierInput,
    DeliveryQuote, DispatchDeliveryInput, DispatchMode, DonePayload, ImportDeliveryShopInput,
    OpenDeliveryServiceInput, OrderIdInput, OrderPayload, PreviewCancellationInput,
    PreviewCancellationPayload, QuoteDeliveryInput, QuoteDeliveryPayload, QuoteOrder,
    RegisterDeliveryMerchantInput, RegisterDeliveryMerchantPayload, RegisterDeliveryShopsInput,
    RegisterDeliveryShopsPayload, RespondToCourierCancellationInput, ShopPayload,
    SimulateDeliveryStatusInput, StoreFailure, UpdateDeliveryShopInput, geo,
};
use crate::{
    access::Scope,
    graphql::access::{Need, check_order, check_quote, check_shop},
};
use crate::{
    domain::{self, delivery as net},
    graphql::{
        Services,
        ids::{self, Kind},
        resolve::{bad_id, refused, services, settle},
        types::{Order, Shop, money},
    },
    orders::{
        self, CourierAction, DispatchDelivery, DispatchSource, OrderError, UserErrorCode,
        repo::OrderRow,
    },
};

#[derive(Default)]
pub struct DeliveryMutation;

impl DeliveryMutation {
    async fn on_order(
        ctx: &Context<'_>,
        id: &ID,
        run: impl AsyncFnOnce(&Services, i64) -> Result<OrderRow, OrderError>,
    ) -> Result<OrderPayload> {
        let st = services(ctx)?;
        let Some(id) = ids::decode(Kind::Order, id) else {
            return Ok(OrderPayload {
                order: None,
                user_errors: bad_id("orderId", "an order id"),
            });
        };
        check_order(ctx, id).await?;
        let (order, user_errors) = settle(run(st, id).await, Order)?;
        Ok(OrderPayload { order, user_errors })
    }
}

/// Has the order's network do `action` to its courier.
async fn courier_action(ctx: &Context<'_>, id: &ID, action: CourierAction) -> Result<OrderPayload> {
    DeliveryMutation::on_order(ctx, id, async move |st, id| {
        st.orders.courier_action(id, action).await
    })
    .await
}

#[Object]
impl DeliveryMutation {
    /// Asks the store's courier network what a delivery costs. The quote can be dispatched
    /// until it expires (Dada: 3 minutes).
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn quote_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery to price.")] input: QuoteDeliveryInput,
    ) -> Result<QuoteDeliveryPayload> {
        let st = services(ctx)?;
        let mut errors = Vec::new();
        let Some(d) = input
            .delivery
            .into_domain(&mut errors)
            .filter(|_| errors.is_empty())
        else {
            return Ok(QuoteDeliveryPayload {
                quote: None,
                quotes: vec![],
                user_errors: refused(errors),
            });
        };
        check_shop(ctx, Some(d.shop_id))?;
        let (quoted, user_errors) = settle(st.orders.quote_delivery(d).await, |q| q)?;
        let Some(mut q) = quoted else {
            return Ok(QuoteDeliveryPayload {
                quote: None,
                quotes: vec![],
                user_errors,
            });
        };
        match input.sort {
            QuoteOrder::Cheapest => q
                .quotes
                .sort_by_key(|r| (r.fee_fen, r.dispatch_minutes.unwrap_or(i64::MAX), r.id)),
            QuoteOrder::Fastest => q
                .quotes
                .sort_by_key(|r| (r.dispatch_minutes.unwrap_or(i64::MAX), r.fee_fen, r.id)),
        }
        let quotes: Vec<DeliveryQuote> = q.quotes.into_iter().map(DeliveryQuote).collect();
        Ok(QuoteDeliveryPayload {
            quote: quotes.first().map(|r| DeliveryQuote(r.0.clone())),
            quotes,
            user_errors: refused(q.refusals),
        })
    }

    /// Dispatches a delivery: from a quote, directly, or (`strategy: AUTO`) by the shop's
    /// dispatch policy. The merchant's balance at the network pays for it.
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn dispatch_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A quote to dispatch, or the delivery itself.")]
        input: DispatchDeliveryInput,
    ) -> Result<OrderPayload> {
        let st = services(ctx)?;
        let mut errors = Vec::new();
        let source = match (input.quote_id, input.delivery) {
            (Some(q), None) => match ids::decode(Kind::Quote, &q) {
                Some(id) => Some(DispatchSource::Quote(id)),
                None => {
                    errors.push(orders::UserError::new(
                        &["quoteId"],
                        UserErrorCode::InvalidInput,
                        "quoteId is not a quote id",
                    ));
                    None
                }
            },
            (None, Some(d)) => d
                .into_domain(&mut errors)
                .map(|d| DispatchSource::Direct(Box::new(d))),
            _ => {
                errors.push(orders::UserError::new(
                    &[],
                    UserErrorCode::InvalidInput,
                    "give exactly one of quoteId and delivery",
                ));
                None
            }
        };
        match &source {
            Some(DispatchSource::Quote(id)) => check_quote(ctx, *id).await?,
            Some(DispatchSource::Direct(d)) => check_shop(ctx, Some(d.shop_id))?,
            None => {}
        }
        let idempotency_key =
            crate::graphql::resolve::idempotency_key(ctx, input.idempotency_key, &mut errors)?;
        let (Some(source), true) = (source, errors.is_empty()) else {
            return Ok(OrderPayload {
                order: None,
                user_errors: refused(errors),
            });
        };
        let result = match (input.strategy, source) {
            (DispatchMode::Direct, source) => {
                st.orders
                    .dispatch_delivery(DispatchDelivery {
                        source,
                        idempotency_key,
                    })
                    .await
            }
            (DispatchMode::Auto, DispatchSource::Direct(d))
                if idempotency_key.is_none() && d.company.is_none() =>
            {
                st.orders.dispatch_auto(*d).await
            }
            (DispatchMode::Auto, _) => Err(OrderError::User(vec![orders::UserError::new(
                &["strategy"],
                UserErrorCode::InvalidInput,
                "AUTO dispatches a delivery (not a quote), without a company or an \
                 idempotencyKey: the policy picks the companies, and delivery.originId makes \
                 it idempotent",
            )])),
        };
        let (order, user_errors) = settle(result, Order)?;
        Ok(OrderPayload { order, user_errors })
    }

    /// Sends again, as the same order, a delivery the network ended (cancelled, expired,
    /// returned or failed).
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn redispatch_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery to send again.")] input: OrderIdInput,
    ) -> Result<OrderPayload> {
        Self::on_order(ctx, &input.order_id, async |st, id| {
            st.orders.redispatch_delivery(id).await
        })
        .await
    }

    /// Raises the courier's tip while the order waits for a courier.
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn add_tip(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery and the new total tip.")] input: AddTipInput,
    ) -> Result<OrderPayload> {
        let tip = domain::Money::from_fen(input.tip_fen);
        let note = input.note;
        Self::on_order(ctx, &input.order_id, async move |st, id| {
            st.orders.add_tip(id, tip, note).await
        })
        .await
    }

    /// Appoints the delivery to a courier who recently served the store.
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn assign_courier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery and the courier.")] input: AssignCourierInput,
    ) -> Result<OrderPayload> {
        let courier_id = input.courier_id;
        courier_action(ctx, &input.order_id, CourierAction::Assign { courier_id }).await
    }

    /// Withdraws an appointment the courier has not accepted yet.
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn unassign_courier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery whose appointment to withdraw.")] input: OrderIdInput,
    ) -> Result<OrderPayload> {
        courier_action(ctx, &input.order_id, CourierAction::Unassign).await
    }

    /// Files a complaint about the delivery's courier with the network, with one of
    /// `deliveryComplaintReasons`.
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn complain_about_courier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery and the complaint's reason.")]
        input: ComplainAboutCourierInput,
    ) -> Result<OrderPayload> {
        let reason_id = input.reason_id;
        courier_action(ctx, &input.order_id, CourierAction::Complain { reason_id }).await
    }

    /// Confirms the store got back the goods of an undeliverable order.
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn confirm_returned_goods(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery whose goods came back.")] input: OrderIdInput,
    ) -> Result<OrderPayload> {
        courier_action(ctx, &input.order_id, CourierAction::ConfirmReturnedGoods).await
    }

    /// Answers a courier's request to cancel (see `Order.delivery.courierCancellation`).
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn respond_to_courier_cancellation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery and our answer.")] input: RespondToCourierCancellationInput,
    ) -> Result<OrderPayload> {
        let accept = input.accept;
        Self::on_order(ctx, &input.order_id, async move |st, id| {
            st.orders.respond_to_courier_cancellation(id, accept).await
        })
        .await
    }

    /// Platforms' test environments only (Dada's simulation endpoints, WeChat's TEST
    /// company): moves the order as a courier would. The change arrives through the
    /// platform's callback, like a real one; the payload's order is as it was before.
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn simulate_delivery_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery and the platform status to move it to.")]
        input: SimulateDeliveryStatusInput,
    ) -> Result<OrderPayload> {
        let raw = input.raw_status;
        Self::on_order(ctx, &input.order_id, async move |st, id| {
            st.orders.simulate_delivery_status(id, raw).await
        })
        .await
    }

    /// What cancelling would cost now, without cancelling.
    #[graphql(guard = "Need(Scope::Dispatch)")]
    async fn preview_cancellation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery and the reason it would be cancelled with.")]
        input: PreviewCancellationInput,
    ) -> Result<PreviewCancellationPayload> {
        let st = services(ctx)?;
        let Some(id) = ids::decode(Kind::Order, &input.order_id) else {
            return Ok(PreviewCancellationPayload {
                penalty: None,
                description: None,
                user_errors: bad_id("orderId", "an order id"),
            });
        };
        check_order(ctx, id).await?;
        let (preview, user_errors) = settle(
            st.orders
                .preview_cancellation(id, input.reason_id, input.reason)
                .await,
            |p| p,
        )?;
        Ok(PreviewCancellationPayload {
            penalty: preview.as_ref().map(|p| money(p.penalty.fen())),
            description: preview.and_then(|p| p.description),
            user_errors,
        })
    }

    /// Asks to bind our account at a courier company (reviewed by the company).
    #[graphql(guard = "Need(Scope::Admin)")]
    async fn bind_delivery_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The company to bind with.")] input: BindDeliveryAccountInput,
    ) -> Result<DonePayload> {
        let st = services(ctx)?;
        let (ok, user_errors) = settle(
            st.orders
                .bind_account(input.provider.into(), input.company.trim())
                .await,
            |()| true,
        )?;
        Ok(DonePayload {
            ok: ok.unwrap_or(false),
            user_errors,
        })
    }

    /// Opens the instant-delivery service for the mini-program.
    #[graphql(guard = "Need(Scope::Admin)")]
    async fn open_delivery_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The network to open the service at.")] input: OpenDeliveryServiceInput,
    ) -> Result<DonePayload> {
        let st = services(ctx)?;
        let (ok, user_errors) =
            settle(st.orders.open_service(input.provider.into()).await, |()| {
                true
            })?;
        Ok(DonePayload {
            ok: ok.unwrap_or(false),
            user_errors,
        })
    }

    /// Registers stores at the network; each is accepted or refused on its own.
    #[graphql(guard = "Need(Scope::Admin)")]
    async fn register_delivery_shops(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The network and the stores.")] input: RegisterDeliveryShopsInput,
    ) -> Result<RegisterDeliveryShopsPayload> {
        let st = services(ctx)?;
        let mut errors = Vec::new();
        let stores: Vec<net::Store> = input
            .shops
            .into_iter()
            .enumerate()
            .map(|(i, s)| net::Store {
                shop_no: s.shop_no.filter(|n| !n.trim().is_empty()),
                name: s.name,
                business: s.business_type,
                city_name: s.city_name,
                area_name: s.area_name,
                address: s.address,
                location: geo(
                    s.location,
                    &["shops", &i.to_string(), "location"],
                    &mut errors,
                ),
                contact_name: s.contact_name,
                phone: s.phone,
            })
            .collect();
        if !errors.is_empty() {
            return Ok(RegisterDeliveryShopsPayload {
                shops: vec![],
                failures: vec![],
                user_errors: refused(errors),
            });
        }
        let (registered, user_errors) = settle(
            st.catalog
                .register_stores(input.provider.into(), stores)
                .await,
            |r| r,
        )?;
        let (shops, failures) = registered.map_or_else(Default::default, |r| {
            (
                r.added.into_iter().map(Shop).collect(),
                r.failed
                    .into_iter()
                    .map(|f| StoreFailure {
                        shop_no: f.shop_no,
                        name: f.name,
                        platform_code: f.code,
                        message: f.message,
                    })
                    .collect(),
            )
        });
        Ok(RegisterDeliveryShopsPayload {
            shops,
            failures,
            user_errors,
        })
    }

    /// Changes a store at the network; only the given fields change.
    #[graphql(guard = "Need(Scope::Admin)")]
    async fn update_delivery_shop(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The store and what to change.")] input: UpdateDeliveryShopInput,
    ) -> Result<ShopPayload> {
        let st = services(ctx)?;
        let Some(id) = ids::decode(Kind::Shop, &input.shop_id) else {
            return Ok(ShopPayload {
                shop: None,
                user_errors: bad_id("shopId", "a shop id"),
            });
        };
        let mut errors = Vec::new();
        let update = net::StoreUpdate {
            shop_no: String::new(),
            new_shop_no: input.new_shop_no,
            name: input.name,
            business: input.business_type,
            city_name: input.city_name,
            area_name: input.area_name,
            address: input.address,
            location: input.location.map(|p| geo(p, &["location"], &mut errors)),
            contact_name: input.contact_name,
            phone: input.phone,
            open: input.open,
        };
        if !errors.is_empty() {
            return Ok(ShopPayload {
                shop: None,
                user_errors: refused(errors),
            });
        }
        let (shop, user_errors) = settle(st.catalog.update_store(id, update).await, Shop)?;
        Ok(ShopPayload { shop, user_errors })
    }

    /// Makes an existing store at the network (by its number) a `Shop` here.
    #[graphql(guard = "Need(Scope::Admin)")]
    async fn import_delivery_shop(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The network and the store's number there.")]
        input: ImportDeliveryShopInput,
    ) -> Result<ShopPayload> {
        let st = services(ctx)?;
        let (shop, user_errors) = settle(
            st.catalog
                .import_store(input.provider.into(), input.shop_no.trim())
                .await,
            Shop,
        )?;
        Ok(ShopPayload { shop, user_errors })
    }

    /// Opens a merchant account at the network.
    #[graphql(guard = "Need(Scope::Admin)")]
    async fn register_delivery_merchant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The network and the merchant's details.")]
        input: RegisterDeliveryMerchantInput,
    ) -> Result<RegisterDeliveryMerchantPayload> {
        let st = services(ctx)?;
        let m = net::MerchantRegistration {
            mobile: input.mobile,
            city_name: input.city_name,
            enterprise_name: input.enterprise_name,
            enterprise_address: input.enterprise_address,
            contact_name: input.contact_name,
            contact_phone: input.contact_phone,
            email: input.email,
        };
        let (merchant_id, user_errors) = settle(
            st.catalog
                .register_merchant(input.provider.into(), &m)
                .await,
            |id| id,
        )?;
        Ok(RegisterDeliveryMerchantPayload {
            merchant_id,
            user_errors,
        })
    }
}
