//! Publishing: pricing, quotes and creating orders, with the balance debit that pays for them.

use super::*;

impl State {
    /// Prices a request against its shop and city.
    pub fn price(
        &self,
        source_id: &str,
        request: &OrderRequest,
    ) -> Result<(FeeQuote, &'static City), Reject> {
        let shop = self.active_shop(source_id, &request.shop_no)?;
        let city = seed::city_by_code(&request.city_code)
            .ok_or_else(|| Reject::of(code::CITY_NOT_OPEN))?;
        let receiver = request.receiver.unwrap_or(GeoPoint {
            lng: city.lng,
            lat: city.lat,
        });
        let distance = fee::distance_m(shop.point(), receiver);
        let fee = fee::quote(FeeInput {
            city_base_fee_fen: city.base_fee_fen,
            // Rounded to whole metres: finer would only be noise in a model.
            distance_m: distance.round() as u64,
            weight_g: request.cargo_weight_g,
            direct_delivery: request.direct_delivery,
            insured: request.insured,
            cargo_price_fen: request.cargo_price_fen,
            tips_fen: request.tips_fen,
        });
        Ok((fee, city))
    }

    /// addOrder and reAddOrder: prices, checks, debits and publishes.
    pub fn publish(
        &mut self,
        source_id: &str,
        request: OrderRequest,
        mode: Publish,
        now: DateTime<Utc>,
    ) -> Result<FeeQuote, Reject> {
        let (fee, _) = self.price(source_id, &request)?;
        let key = (source_id.to_owned(), request.origin_id.clone());
        match (mode, self.orders.get(&key).map(|o| o.status)) {
            (Publish::New, Some(status)) if status != Status::CreateFailed => {
                return Err(Reject::of(code::ORDER_EXISTS));
            }
            (Publish::New, _) => {}
            (Publish::Again, None) => return Err(Reject::of(code::ORDER_NOT_FOUND)),
            (Publish::Again, Some(status)) if status.unaccepted() => {
                return Err(Reject::of(code::READD_NEW_ORDER));
            }
            (Publish::Again, Some(status)) if !status.republishable() => {
                return Err(Reject::of(code::READD_NOT_ALLOWED));
            }
            (Publish::Again, Some(_)) => {}
        }
        self.debit_and_create(source_id, request, fee, now)?;
        Ok(fee)
    }

    /// queryDeliverFee: prices the request and remembers it under a new `deliveryNo`.
    pub fn quote(
        &mut self,
        source_id: &str,
        request: OrderRequest,
        now: DateTime<Utc>,
    ) -> Result<(FeeQuote, String), Reject> {
        let (fee, _) = self.price(source_id, &request)?;
        if let Ok(existing) = self.order(source_id, &request.origin_id)
            && !existing.status.republishable()
            && existing.status != Status::CreateFailed
        {
            return Err(Reject::of(code::QUOTE_PUBLISHED));
        }
        let delivery_no = format!("Dd{}{:06}", now.format("%Y%m%d%H%M%S"), self.next_quote);
        self.next_quote += 1;
        self.quotes.insert(
            delivery_no.clone(),
            Quote {
                source_id: source_id.to_owned(),
                request,
                fee,
                created_at: now,
                used: false,
            },
        );
        Ok((fee, delivery_no))
    }

    /// addAfterQuery: publishes a quote at its quoted price.
    pub fn publish_quote(
        &mut self,
        source_id: &str,
        delivery_no: &str,
        now: DateTime<Utc>,
    ) -> Result<(FeeQuote, String), Reject> {
        // An unknown number is indistinguishable from one Dada already purged for age.
        let quote = self
            .quotes
            .get(delivery_no)
            .filter(|q| q.source_id == source_id)
            .ok_or_else(|| Reject::of(code::QUOTE_EXPIRED))?;
        if quote.used {
            return Err(Reject::of(code::QUOTE_USED));
        }
        if now - quote.created_at > QUOTE_VALIDITY {
            return Err(Reject::of(code::QUOTE_EXPIRED));
        }
        let (request, fee) = (quote.request.clone(), quote.fee);
        if let Ok(existing) = self.order(source_id, &request.origin_id)
            && !existing.status.republishable()
            && existing.status != Status::CreateFailed
        {
            return Err(Reject::of(code::QUOTE_ORDER_PUBLISHED));
        }
        self.debit_and_create(source_id, request, fee, now)?;
        if let Some(q) = self.quotes.get_mut(delivery_no) {
            q.used = true;
        }
        Ok((fee, delivery_no.to_owned()))
    }

    pub(super) fn debit_and_create(
        &mut self,
        source_id: &str,
        request: OrderRequest,
        fee: FeeQuote,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let shop = self.active_shop(source_id, &request.shop_no)?.point();
        let city = seed::city_by_code(&request.city_code)
            .ok_or_else(|| Reject::of(code::CITY_NOT_OPEN))?;
        let total = fee.total_fen();
        let merchant = self.merchant_mut(source_id)?;
        if merchant.balance_fen < total {
            return Err(Reject::of(code::INSUFFICIENT_BALANCE));
        }
        merchant.balance_fen -= total;

        let key = (source_id.to_owned(), request.origin_id.clone());
        // A re-published order keeps its timeline and complaints; everything else starts over.
        let (history, complaints) = self
            .orders
            .remove(&key)
            .map(|o| (o.history, o.complaints))
            .unwrap_or_default();
        let client_id = self.next_waybill;
        self.next_waybill += 1;
        let finish_code = if request.finish_code_needed {
            format!("{:06}", client_id.rem_euclid(1_000_000))
        } else {
            String::new()
        };
        let receiver_point = request.receiver.unwrap_or(GeoPoint {
            lng: city.lng,
            lat: city.lat,
        });
        let published_at = request.delay_publish_time.map_or(now, |t| t.max(now));
        let order = Order {
            source_id: source_id.to_owned(),
            origin_id: request.origin_id.clone(),
            client_id,
            shop_point: shop,
            receiver_point,
            city_id: city.id,
            quote: fee,
            tips_fen: fee.tips_fen,
            paid_fen: total,
            deduct_fee_fen: 0,
            status: Status::Waiting,
            created_at: now,
            published_at,
            accepted_at: None,
            arrived_at: None,
            fetched_at: None,
            finished_at: None,
            cancelled_at: None,
            courier: None,
            appointed: None,
            finish_code,
            cancel_from: 0,
            cancel_reason: String::new(),
            history,
            complaints,
            courier_cancel: None,
            request,
        };
        self.orders.insert(key.clone(), order);
        self.record_status(&key, now);
        Ok(())
    }
}
