//! Binding a company and publishing: pricing, bookings, quotes and creating orders.

use super::*;

impl State {
    /// bindLocalAccount: a bind request goes to the company's review (audit 1). Asking again
    /// while reviewing changes nothing; after a rejection it starts a new review; an account that
    /// passed is refused as already bound.
    pub fn bind(&mut self, delivery_id: &str) -> Result<(), Reject> {
        let company = self
            .company_mut(delivery_id)
            .ok_or_else(|| Reject::param(format!("unknown delivery_id {delivery_id}")))?;
        if company.usable() {
            return Err(Reject::company(result::ALREADY_BOUND));
        }
        company.bound = true;
        company.audit_result = 1;
        Ok(())
    }

    // ---------------------------------------------------------------- publishing

    /// The company's price for a request: 10002 beyond its range.
    pub fn price(company: &CompanyConfig, request: &OrderRequest) -> Result<FeeQuote, Reject> {
        let distance_m = fee::distance_m(request.sender.point, request.receiver.point);
        if distance_m > company.max_distance_m {
            return Err(Reject::company_with(
                result::OUT_OF_RANGE,
                format!(
                    "超出配送范围: {distance_m}米, 最远{}米",
                    company.max_distance_m
                ),
            ));
        }
        Ok(fee::quote(
            company,
            FeeInput {
                distance_m,
                weight_g: request.cargo.goods_weight_g,
                tips_fen: request.order_info.tips_fen,
                insured_value_fen: request.order_info.insured_value_fen,
            },
        ))
    }

    /// A booked order's time must be within the company's booking window.
    pub(super) fn check_booking(
        company: &CompanyConfig,
        request: &OrderRequest,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        if let Some(at) = request.order_info.dispatch_at {
            let limit = i64::try_from(company.max_booking_hours)
                .ok()
                .and_then(TimeDelta::try_hours)
                .and_then(|h| now.checked_add_signed(h));
            if limit.is_some_and(|limit| at > limit) {
                return Err(Reject::company_with(
                    result::BOOKING_TOO_FAR,
                    format!("最多提前{}小时预约", company.max_booking_hours),
                ));
            }
        }
        Ok(())
    }

    /// pre_add: prices the request and, for companies that give one, hands out a
    /// `delivery_token`. 930562 while an order of that id is live.
    pub fn pre_add(
        &mut self,
        company: &CompanyConfig,
        request: &OrderRequest,
        now: DateTime<Utc>,
    ) -> Result<(FeeQuote, Option<String>), Reject> {
        if self
            .orders
            .get(&request.shop_order_id)
            .is_some_and(|o| !o.status.is_end())
        {
            return Err(Reject::platform(code::ORDER_EXISTS));
        }
        Self::check_booking(company, request, now)?;
        let fee = Self::price(company, request)?;
        if !company.gives_delivery_token {
            return Ok((fee, None));
        }
        let token = format!(
            "{}_{}_{:06}",
            company.delivery_id.to_lowercase(),
            now.timestamp(),
            self.next_quote
        );
        self.next_quote += 1;
        self.quotes.insert(
            token.clone(),
            Quote {
                delivery_id: company.delivery_id.clone(),
                shop_order_id: request.shop_order_id.clone(),
                fee,
                created_at: now,
                ttl_secs: company.token_ttl_secs,
                used: false,
            },
        );
        Ok((fee, Some(token)))
    }

    /// add and readd. Platform checks first (the order id's history: 930562 / 930563; the day's
    /// quota: 930564, counted for every call that gets this far), then the company's (booking
    /// window, range, `delivery_token`).
    pub fn publish(
        &mut self,
        company: &CompanyConfig,
        request: OrderRequest,
        mode: Publish,
        now: DateTime<Utc>,
    ) -> Result<Order, Reject> {
        let existing = self.orders.get(&request.shop_order_id);
        match (mode, existing) {
            (Publish::New, Some(_)) => return Err(Reject::platform(code::ORDER_EXISTS)),
            (Publish::Again, None) => return Err(Reject::platform(code::ORDER_NOT_FOUND)),
            (Publish::Again, Some(o)) if !o.status.readdable() => {
                return Err(Reject::company_with(
                    result::READD_NOT_ALLOWED,
                    format!(
                        "订单当前状态{},只有已取消或已返还的订单才能重新下单",
                        o.status.code()
                    ),
                ));
            }
            _ => {}
        }
        if !self.quota.take(now) {
            return Err(Reject::platform(code::NO_QUOTA));
        }
        Self::check_booking(company, &request, now)?;
        let mut fee = Self::price(company, &request)?;
        if let Some(token) = request
            .delivery_token
            .as_deref()
            .filter(|_| company.gives_delivery_token)
        {
            let quote = self.usable_quote(token, company, &request.shop_order_id, now)?;
            // The company stands by its freight; tips and insurance follow this request.
            fee.distance_m = quote.fee.distance_m;
            fee.deliver_fee_fen = quote.fee.deliver_fee_fen;
            fee.coupon_fee_fen = quote.fee.coupon_fee_fen;
            fee.fee_fen = quote.fee.fee_fen;
            if let Some(q) = self.quotes.get_mut(token) {
                q.used = true;
            }
        }
        Ok(self.create(company, request, fee, now))
    }

    pub(super) fn usable_quote(
        &self,
        token: &str,
        company: &CompanyConfig,
        shop_order_id: &str,
        now: DateTime<Utc>,
    ) -> Result<&Quote, Reject> {
        let quote = self
            .quotes
            .get(token)
            .filter(|q| q.delivery_id == company.delivery_id && q.shop_order_id == shop_order_id)
            .ok_or_else(|| Reject::company(result::TOKEN_INVALID))?;
        if quote.used {
            return Err(Reject::company(result::TOKEN_USED));
        }
        let expired = after(quote.created_at, quote.ttl_secs).is_none_or(|end| now >= end);
        if expired {
            return Err(Reject::company(result::TOKEN_EXPIRED));
        }
        Ok(quote)
    }

    pub(super) fn create(
        &mut self,
        company: &CompanyConfig,
        request: OrderRequest,
        fee: FeeQuote,
        now: DateTime<Utc>,
    ) -> Order {
        let id = request.shop_order_id.clone();
        let earlier = self.orders.remove(&id);
        let (waybill_id, push_waybill_id) = if company.delivery_id == TEST_DELIVERY_ID {
            if self.test_waybill_quirk {
                (format!("{id}_waybillid"), format!("test_waybill_id_{id}"))
            } else {
                let w = format!("{id}_waybillid");
                (w.clone(), w)
            }
        } else {
            let w = format!(
                "{}{}{:08}",
                company.delivery_id,
                now.format("%Y%m%d"),
                self.next_waybill
            );
            self.next_waybill += 1;
            (w.clone(), w)
        };
        let mut code = || {
            let n = self.next_code;
            self.next_code = self.next_code.wrapping_add(1);
            // Four digits that do not simply count up.
            1000 + n.wrapping_mul(7919) % 9000
        };
        let finish_code = if request.order_info.finish_code_needed {
            code()
        } else {
            0
        };
        let pickup_code = if request.order_info.pickup_code_needed {
            code()
        } else {
            0
        };
        let dispatch_at = request.order_info.dispatch_at.map_or(now, |t| t.max(now));
        let (mut history, mut earlier_waybills, readds) = match earlier {
            Some(o) => {
                let mut waybills = o.earlier_waybills;
                waybills.push(o.waybill_id);
                waybills.push(o.push_waybill_id);
                (o.history, waybills, o.readds + 1)
            }
            None => (Vec::new(), Vec::new(), 0),
        };
        earlier_waybills.dedup();
        history.push(HistoryEntry {
            status: Status::Waiting,
            at: now,
            action_msg: Status::Waiting.msg().to_owned(),
            by: "merchant",
        });
        let order = Order {
            delivery_id: company.delivery_id.clone(),
            shopid: company.shopid.clone(),
            waybill_id,
            push_waybill_id,
            earlier_waybills,
            fee,
            status: Status::Waiting,
            rider: None,
            finish_code,
            pickup_code,
            dispatch_secs: company.dispatch_minutes.saturating_mul(60),
            created_at: now,
            dispatch_at,
            assigned_at: None,
            arrived_at: None,
            picked_at: None,
            returning_at: None,
            ended_at: None,
            deduct_fee_fen: 0,
            cancel_reason_id: None,
            cancel_reason: None,
            return_remark: None,
            readds,
            history,
            request,
            get_calls: 0,
        };
        self.orders.insert(id, order.clone());
        order
    }
}
