//! Quotes: a delivery priced by one network (or each company of a network), kept so a
//! later dispatch can take it up before the platform's price lock expires.

use chrono::{TimeDelta, Utc};
use entity::delivery_quote;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbErr, EntityTrait};

use crate::orders::{OrderError, OrderService, UserError, UserErrorCode, provider_user_error};
use crate::providers::{delivery::DeliveryQuote, with_timeout};

use super::{DeliveryInput, Quoted};

impl OrderService {
    /// Asks the store's network what a delivery would cost: one quote per courier company
    /// (one for Dada; every bound company on WeChat, or only `input.company`), each
    /// dispatchable with `dispatch_delivery` until it expires. Companies that refuse are
    /// reported beside the others; only when all refuse is it an error.
    #[tracing::instrument(skip_all, fields(shop_id = input.shop_id))]
    pub async fn quote_delivery(&self, input: DeliveryInput) -> Result<Quoted, OrderError> {
        let (shop, provider, network, stored) = self.prepare(&input).await?;
        let origin_id = match &input.origin_id {
            Some(o) => {
                self.refuse_taken_origin(provider, o).await?;
                o.clone()
            }
            None => self.new_origin_id(),
        };
        let request = self.request_for(provider, origin_id.clone(), &shop, &stored)?;
        let answers = with_timeout(provider, self.delivery.timeout, network.quote_all(&request))
            .await
            .map_err(|e| provider_user_error(&e))?;
        let now = Utc::now();
        let mut quoted = Quoted::default();
        for answer in answers {
            let quote: DeliveryQuote = match answer.quote {
                Ok(q) => q,
                Err(e) => {
                    let mut refusal = provider_user_error(&e);
                    refusal.field = vec![
                        "delivery".into(),
                        "company".into(),
                        answer.company.id.clone(),
                    ];
                    refusal.message = format!("{}: {}", answer.company.name, refusal.message);
                    quoted.refusals.push(refusal);
                    continue;
                }
            };
            // A company without a handle still prices the request; we hold the price for
            // as long as a handle would live.
            let expires_at = quote.expires_at.unwrap_or(now + TimeDelta::minutes(3));
            let mut company_request = stored.clone();
            if !answer.company.id.is_empty() {
                company_request.company = Some(answer.company.id.clone());
            }
            let row = delivery_quote::ActiveModel {
                provider: Set(provider.as_str().to_owned()),
                shop_id: Set(shop.id),
                origin_id: Set(origin_id.clone()),
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
            .await?;
            quoted.quotes.push(row);
        }
        if quoted.quotes.is_empty() {
            if quoted.refusals.is_empty() {
                quoted.refusals.push(UserError::new(
                    &["delivery", "company"],
                    UserErrorCode::InvalidInput,
                    format!("no courier company of {provider} can quote this"),
                ));
            }
            return Err(OrderError::User(quoted.refusals));
        }
        Ok(quoted)
    }

    pub async fn quote(&self, id: i64) -> Result<Option<delivery_quote::Model>, DbErr> {
        delivery_quote::Entity::find_by_id(id).one(&self.db).await
    }
}
