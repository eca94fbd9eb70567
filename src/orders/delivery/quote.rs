//! Quotes: a delivery priced by one network (or each company of a network), or by every
//! network the shop's dispatch policy links, kept so a later dispatch can take one up before
//! the platform's price lock expires.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use entity::delivery_quote;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbErr, EntityTrait};

use crate::domain::ProviderId;
use crate::orders::{OrderError, OrderService, UserError, UserErrorCode, provider_user_error};
use crate::providers::{
    delivery::{CourierNetwork, DeliveryQuote},
    with_timeout,
};

use super::{DeliveryInput, Quoted, StoredRequest};

/// One store the request can leave from, on its network.
struct Store {
    shop: entity::shop::Model,
    provider: ProviderId,
    network: Arc<dyn CourierNetwork>,
    stored: StoredRequest,
}

impl OrderService {
    /// Asks what a delivery would cost: one quote per courier company (one for Dada; every
    /// bound company on WeChat, or only `input.company`), each dispatchable with
    /// `dispatch_delivery` until it expires. When the shop's dispatch policy links the same
    /// store on other networks (and no company is named), every network is asked at once,
    /// each within its own timeout, and only the networks and companies the policy allows,
    /// under its fee cap, are kept. A network or company that fails or is left out is
    /// reported beside the others; only when none quotes is it an error.
    #[tracing::instrument(skip_all, fields(shop_id = input.shop_id))]
    pub async fn quote_delivery(&self, input: DeliveryInput) -> Result<Quoted, OrderError> {
        self.quote_stores(input, true).await
    }

    /// Quotes with the shop's own network only (one company when `input.company` names
    /// it), whatever stores its policy links: an attempt of a plan, priced again right
    /// before it goes out.
    pub(in crate::orders) async fn quote_here(
        &self,
        input: DeliveryInput,
    ) -> Result<Quoted, OrderError> {
        self.quote_stores(input, false).await
    }

    async fn quote_stores(&self, input: DeliveryInput, linked: bool) -> Result<Quoted, OrderError> {
        let (shop, provider, network, stored) = self.prepare(&input).await?;
        let policy = self.policy(shop.id).await?;
        let mut stores = vec![Store {
            shop,
            provider,
            network,
            stored,
        }];
        if linked
            && input.company.is_none()
            && let Some(p) = &policy
        {
            for id in &p.linked_shops {
                let (shop, provider) = self.store_of(*id).await?;
                let network = self.courier_or_refuse(provider, &["shopId"])?;
                let stored = super::stored_request(&input, &shop, network.as_ref())?;
                stores.push(Store {
                    shop,
                    provider,
                    network,
                    stored,
                });
            }
        }
        let origin_id = match &input.origin_id {
            Some(o) => o.clone(),
            None => self.new_origin_id(),
        };
        for store in &stores {
            self.refuse_taken_origin(store.provider, &origin_id).await?;
        }
        let asked = stores.iter().map(|store| {
            let origin_id = origin_id.clone();
            async move {
                let request =
                    self.request_for(store.provider, origin_id, &store.shop, &store.stored)?;
                let timeout = self.delivery.timeout_of(store.provider);
                Ok::<_, OrderError>(
                    with_timeout(store.provider, timeout, store.network.quote_all(&request)).await,
                )
            }
        });
        let answers = futures::future::join_all(asked).await;
        let now = Utc::now();
        let mut quoted = Quoted::default();
        for (store, answer) in stores.iter().zip(answers) {
            let answers = match answer? {
                Ok(a) => a,
                Err(e) => {
                    let mut refusal = provider_user_error(&e);
                    refusal.field = vec![
                        "delivery".into(),
                        "network".into(),
                        store.provider.as_str().into(),
                    ];
                    refusal.message = format!("{}: {}", store.provider, refusal.message);
                    quoted.refusals.push(refusal);
                    continue;
                }
            };
            for answer in answers {
                let company = (!answer.company.id.is_empty()).then_some(answer.company.id.as_str());
                let field = || {
                    vec![
                        "delivery".into(),
                        "company".into(),
                        if answer.company.id.is_empty() {
                            store.provider.as_str().to_owned()
                        } else {
                            answer.company.id.clone()
                        },
                    ]
                };
                let quote: DeliveryQuote = match answer.quote {
                    Ok(q) => q,
                    Err(e) => {
                        let mut refusal = provider_user_error(&e);
                        refusal.field = field();
                        refusal.message = format!("{}: {}", answer.company.name, refusal.message);
                        quoted.refusals.push(refusal);
                        continue;
                    }
                };
                if let Some(p) = &policy {
                    let refusal = if !p.allows(store.provider, company) {
                        Some("not among the networks the shop's dispatch policy allows")
                    } else if p
                        .fee_cap
                        .is_some_and(|cap| quote.fees.fee.fen() > cap.fen())
                    {
                        Some("above the fee cap of the shop's dispatch policy")
                    } else {
                        None
                    };
                    if let Some(why) = refusal {
                        quoted.refusals.push(UserError {
                            field: field(),
                            ..UserError::new(
                                &[],
                                UserErrorCode::InvalidInput,
                                format!("{}: {why}", answer.company.name),
                            )
                        });
                        continue;
                    }
                }
                let row = self
                    .keep_quote(store, &origin_id, company, quote, now)
                    .await?;
                quoted.quotes.push(row);
            }
        }
        if quoted.quotes.is_empty() {
            if quoted.refusals.is_empty() {
                quoted.refusals.push(UserError::new(
                    &["delivery", "company"],
                    UserErrorCode::InvalidInput,
                    "no courier company can quote this",
                ));
            }
            return Err(OrderError::User(quoted.refusals));
        }
        Ok(quoted)
    }

    /// Keeps a quote until it is dispatched or expires.
    async fn keep_quote(
        &self,
        store: &Store,
        origin_id: &str,
        company: Option<&str>,
        quote: DeliveryQuote,
        now: chrono::DateTime<Utc>,
    ) -> Result<delivery_quote::Model, OrderError> {
        // A company without a handle still prices the request; we hold the price for as
        // long as a handle would live.
        let expires_at = quote.expires_at.unwrap_or(now + TimeDelta::minutes(3));
        let mut company_request = store.stored.clone();
        if let Some(c) = company {
            company_request.company = Some(c.to_owned());
        }
        Ok(delivery_quote::ActiveModel {
            provider: Set(store.provider.as_str().to_owned()),
            shop_id: Set(store.shop.id),
            origin_id: Set(origin_id.to_owned()),
            token: Set(quote.token),
            request: Set(serde_json::to_string(&company_request)
                .map_err(|e| DbErr::Custom(e.to_string()))?),
            fee_fen: Set(quote.fees.fee.fen()),
            delivery_fee_fen: Set(quote.fees.delivery_fee.fen()),
            coupon_fen: Set(quote.fees.coupon.fen()),
            tips_fen: Set(quote.fees.tips.fen()),
            insurance_fen: Set(quote.fees.insurance.fen()),
            distance_m: Set(quote.distance_m),
            expires_at: Set(expires_at),
            order_id: Set(None),
            created_at: Set(now),
            company: Set(company_request.company.clone()),
            dispatch_minutes: Set(quote.dispatch_minutes),
            ..Default::default()
        }
        .insert(&self.db)
        .await?)
    }

    pub async fn quote(&self, id: i64) -> Result<Option<delivery_quote::Model>, DbErr> {
        delivery_quote::Entity::find_by_id(id).one(&self.db).await
    }
}
