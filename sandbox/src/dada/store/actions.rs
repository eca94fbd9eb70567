//! The merchant's actions on a published order: tips, cancellation, appointment, complaints,
//! confirming returned goods and courier cancellation requests.

use super::*;

impl State {
    /// addTip: checks in the order 2055, 2059, 2057, 2077, 2155.
    pub fn add_tip(
        &mut self,
        source_id: &str,
        origin_id: &str,
        tips_fen: i64,
    ) -> Result<(), Reject> {
        let order = self.order(source_id, origin_id)?;
        if tips_fen < 100 {
            return Err(Reject::of(code::TIP_TOO_SMALL));
        }
        if order.status != Status::Waiting {
            return Err(Reject::of(code::TIP_NOT_WAITING));
        }
        if tips_fen <= order.tips_fen {
            return Err(Reject::of(code::TIP_NOT_HIGHER));
        }
        if tips_fen > order.request.cargo_price_fen {
            return Err(Reject::of(code::TIP_ABOVE_AMOUNT));
        }
        // The tip is the latest amount, not a sum: only the increase is debited.
        let increase = tips_fen - order.tips_fen;
        let merchant = self.merchant_mut(source_id)?;
        if merchant.balance_fen < increase {
            return Err(Reject::of(code::INSUFFICIENT_BALANCE));
        }
        merchant.balance_fen -= increase;
        if let Some(order) = self
            .orders
            .get_mut(&(source_id.to_owned(), origin_id.to_owned()))
        {
            order.tips_fen = tips_fen;
            order.paid_fen += increase;
        }
        Ok(())
    }

    /// formalCancel; returns the penalty in fen.
    pub fn merchant_cancel(
        &mut self,
        source_id: &str,
        origin_id: &str,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<i64, Reject> {
        let key = (source_id.to_owned(), origin_id.to_owned());
        let late = self
            .schedule
            .acceptance
            .as_ref()
            .is_some_and(|a| a.accepts_late(origin_id));
        if late && self.order(source_id, origin_id)?.status == Status::Waiting {
            // The courier took it as the cancellation came in.
            let _ = self.apply(&key, Move::Accept, None, now);
        }
        let order = self.order(source_id, origin_id)?;
        let penalty = match order.status {
            Status::Waiting | Status::Appointed => 0,
            Status::Accepted | Status::Arrived => {
                let accepted_at = order.accepted_at.unwrap_or(now);
                fee::penalty_fen(
                    CancelTiming {
                        accepted_at,
                        arrived_at: order.arrived_at,
                        now,
                    },
                    order.paid_fen,
                )
            }
            other => return Err(cannot_cancel(other)),
        };
        self.cancel(&key, CancelFrom::Merchant, reason, penalty, now);
        Ok(penalty)
    }

    /// Cancels, refunds what was paid minus `penalty`, and records the callback.
    pub(super) fn cancel(
        &mut self,
        key: &OrderKey,
        from: CancelFrom,
        reason: String,
        penalty: i64,
        at: DateTime<Utc>,
    ) {
        let Some(order) = self.orders.get_mut(key) else {
            return;
        };
        let refund = (order.paid_fen - penalty).max(0);
        order.paid_fen -= refund;
        order.deduct_fee_fen = penalty;
        order.status = Status::Cancelled;
        order.cancelled_at = Some(at);
        order.cancel_from = from as i32;
        order.cancel_reason = reason;
        let source_id = order.source_id.clone();
        if let Some(m) = self.merchants.get_mut(&source_id) {
            m.balance_fen = m.balance_fen.saturating_add(refund);
        }
        self.record_status(key, at);
    }

    /// Ends an order without service (expired, failed): everything paid goes back.
    pub(super) fn end_with_refund(&mut self, key: &OrderKey, status: Status, at: DateTime<Utc>) {
        let Some(order) = self.orders.get_mut(key) else {
            return;
        };
        let refund = order.paid_fen;
        order.paid_fen = 0;
        order.status = status;
        order.cancelled_at = Some(at);
        let source_id = order.source_id.clone();
        if let Some(m) = self.merchants.get_mut(&source_id) {
            m.balance_fen = m.balance_fen.saturating_add(refund);
        }
        self.record_status(key, at);
    }

    /// Couriers the shop may appoint to: the seeded regulars, plus whoever accepted one of its
    /// orders within the hour and has not finished it.
    pub fn appointable(
        &self,
        source_id: &str,
        shop_no: &str,
        now: DateTime<Utc>,
    ) -> Vec<&'static Courier> {
        let mut ids: Vec<i64> = seed::RECENT_COURIERS
            .iter()
            .filter(|(shop, _)| *shop == shop_no)
            .map(|(_, id)| *id)
            .collect();
        for order in self.orders.values() {
            let recent = order.accepted_at.is_some_and(|t| now - t <= APPOINT_WINDOW);
            let unfinished = matches!(
                order.status,
                Status::Accepted | Status::Arrived | Status::Delivering
            );
            if order.source_id == source_id
                && order.request.shop_no == shop_no
                && recent
                && unfinished
            {
                ids.extend(order.courier);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().filter_map(seed::courier).collect()
    }

    /// appoint/exist.
    pub fn appoint(
        &mut self,
        source_id: &str,
        origin_id: &str,
        courier_id: i64,
        shop_no: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        self.shops
            .get(shop_no)
            .filter(|s| s.source_id == source_id)
            .ok_or_else(|| Reject::of(code::INVALID_SHOP))?;
        let order = self.order(source_id, origin_id)?;
        if order.request.shop_no != shop_no {
            return Err(Reject::with(code::INVALID_SHOP, "订单不属于该门店"));
        }
        if order.status != Status::Waiting {
            return Err(Reject::of(code::APPOINT_ACCEPTED));
        }
        if !self
            .appointable(source_id, shop_no, now)
            .iter()
            .any(|c| c.id == courier_id)
        {
            return Err(Reject::with(code::BAD_FORMAT, "该配送员不满足追加条件"));
        }
        let key = (source_id.to_owned(), origin_id.to_owned());
        if let Some(order) = self.orders.get_mut(&key) {
            order.status = Status::Appointed;
            order.appointed = Some(courier_id);
        }
        self.record_status(&key, now);
        Ok(())
    }

    /// appoint/cancel: back to waiting, visible to every courier.
    pub fn cancel_appointment(
        &mut self,
        source_id: &str,
        origin_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let order = self.order(source_id, origin_id)?;
        if order.status != Status::Appointed {
            return Err(Reject::with(
                code::APPOINT_ACCEPTED,
                "订单不是指派单或已被接单",
            ));
        }
        let key = (source_id.to_owned(), origin_id.to_owned());
        if let Some(order) = self.orders.get_mut(&key) {
            order.status = Status::Waiting;
            order.appointed = None;
        }
        self.record_status(&key, now);
        Ok(())
    }

    /// complaint/dada.
    pub fn complain(
        &mut self,
        source_id: &str,
        origin_id: &str,
        reason_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let reason =
            seed::complaint_reason(reason_id).ok_or_else(|| Reject::format("reason_id"))?;
        let order = self.order(source_id, origin_id)?;
        let Some(accepted_at) = order.accepted_at else {
            return Err(Reject::with(
                code::COMPLAINT_INVALID,
                "订单未被接单,投诉无效",
            ));
        };
        if seed::LATE_COMPLAINTS.contains(&reason_id) && order.status == Status::Delivered {
            // "On time" in the sandbox: delivered within an hour of acceptance.
            let on_time = order
                .finished_at
                .is_some_and(|f| f - accepted_at <= TimeDelta::hours(1));
            if on_time {
                return Err(Reject::of(code::COMPLAINT_INVALID));
            }
        }
        if let Some(order) = self
            .orders
            .get_mut(&(source_id.to_owned(), origin_id.to_owned()))
        {
            order.complaints.push(Complaint {
                reason_id,
                reason,
                at: now,
            });
        }
        Ok(())
    }

    /// confirm/goods: 9 → 10.
    pub fn confirm_goods(
        &mut self,
        source_id: &str,
        origin_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        if self.order(source_id, origin_id)?.status != Status::Returning {
            return Err(Reject::of(code::NOT_RETURNING));
        }
        let key = (source_id.to_owned(), origin_id.to_owned());
        if let Some(order) = self.orders.get_mut(&key) {
            order.status = Status::Returned;
            order.finished_at = Some(now);
        }
        self.record_status(&key, now);
        Ok(())
    }

    /// A courier asks to cancel: message type 1 to the merchant's message URL.
    pub fn courier_cancel_request(
        &mut self,
        key: &OrderKey,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<usize, Reject> {
        let order = self
            .orders
            .get(key)
            .ok_or_else(|| Reject::of(code::ORDER_NOT_FOUND))?;
        let courier_id = match (order.status.to_pick_up(), order.courier) {
            (true, Some(id)) => id,
            _ => {
                return Err(Reject::with(
                    code::ORDER_STATE,
                    "只有待取货的订单骑士才能申请取消",
                ));
            }
        };
        let body = CourierCancelBody {
            order_id: order.origin_id.clone(),
            dada_order_id: order.client_id,
            cancel_reason: reason.clone(),
        };
        let message_body =
            serde_json::to_string(&body).map_err(|_| Reject::of(code::SYSTEM_ERROR))?;
        let id = self.messages.len();
        self.messages.push(Message {
            id,
            key: key.clone(),
            payload: MessagePush {
                message_type: 1,
                message_body,
            },
            created_at: now,
            attempts: 0,
            delivered: false,
            in_flight: false,
            gave_up: false,
            next_attempt_at: now,
            last_error: None,
        });
        if let Some(order) = self.orders.get_mut(key) {
            order.courier_cancel = Some(CourierCancel {
                message_id: id,
                courier_id,
                reason,
                confirmed: None,
            });
        }
        Ok(id)
    }

    /// message/confirm for type 1: agreeing cancels the order (no penalty, full refund, from the
    /// courier); declining keeps it with its courier.
    pub fn answer_courier_cancel(
        &mut self,
        source_id: &str,
        origin_id: &str,
        confirm: bool,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let order = self.order(source_id, origin_id)?;
        let pending = order
            .courier_cancel
            .as_ref()
            .filter(|c| c.confirmed.is_none())
            .ok_or_else(|| Reject::with(code::ORDER_STATE, "没有待确认的骑士取消消息"))?;
        let reason = pending.reason.clone();
        if confirm && !order.status.to_pick_up() {
            return Err(cannot_cancel(order.status));
        }
        let key = (source_id.to_owned(), origin_id.to_owned());
        if let Some(c) = self
            .orders
            .get_mut(&key)
            .and_then(|o| o.courier_cancel.as_mut())
        {
            c.confirmed = Some(confirm);
        }
        if confirm {
            self.cancel(&key, CancelFrom::Courier, reason, 0, now);
        }
        Ok(())
    }
}
