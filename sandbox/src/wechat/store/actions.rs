//! The merchant's actions on a published order: tips, cancellation, confirming a return and
//! the test-only status update.

use super::*;

impl State {
    /// addtips: only while waiting for a rider, and only upwards.
    pub fn add_tips(&mut self, shop_order_id: &str, tips_fen: i64) -> Result<(), Reject> {
        let order = self.order_mut(shop_order_id)?;
        if order.status != Status::Waiting {
            return Err(Reject::company(result::TIPS_NOT_WAITING));
        }
        if tips_fen <= order.fee.tips_fen {
            return Err(Reject::company(result::TIPS_NOT_HIGHER));
        }
        order.fee.tips_fen = tips_fen;
        Ok(())
    }

    /// What cancelling would cost now and what it would say: 930565 once over, a company refusal
    /// while returning or (Dada) after pick-up.
    pub fn cancel_terms(
        &self,
        company: &CompanyConfig,
        shop_order_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(i64, String), Reject> {
        let order = self.order_of(&company.delivery_id, shop_order_id)?;
        if order.status.is_end() {
            return Err(Reject::platform(code::ORDER_FINISHED));
        }
        if order.status.is_returning() {
            return Err(Reject::company(result::CANCEL_RETURNING));
        }
        let since_assign = order.assigned_at.map(|at| now - at);
        let penalty = fee::penalty_fen(
            &company.cancel_rule,
            order.status,
            since_assign,
            order.fee.charged_fen(),
        )
        .ok_or_else(|| Reject::company(result::CANCEL_AFTER_PICKUP))?;
        let desc = match (order.status, penalty) {
            (Status::Waiting, _) => "骑手未接单,免费取消".to_owned(),
            (_, 0) => "本次取消不扣费".to_owned(),
            (Status::Assigned, fen) => format!("骑手已接单,取消将扣除{}", yuan_text(fen)),
            (Status::AtShop, fen) => format!("骑手已到店,取消将扣除{}", yuan_text(fen)),
            (_, fen) => format!("骑手已取货,取消将扣除{},物品将返还商家", yuan_text(fen)),
        };
        Ok((penalty, desc))
    }

    /// order/cancel: 103 before the store, 203 at it, 303 (goods come back) after pick-up.
    pub fn merchant_cancel(
        &mut self,
        company: &CompanyConfig,
        shop_order_id: &str,
        reason_id: u64,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<(i64, String), Reject> {
        let late = self
            .company(&company.delivery_id)
            .and_then(|c| c.acceptance.as_ref())
            .is_some_and(|a| a.accepts_late(shop_order_id));
        if late
            && self
                .order_of(&company.delivery_id, shop_order_id)
                .is_ok_and(|o| o.status == Status::Waiting)
        {
            // The rider took it as the cancellation came in.
            let _ = self.apply(shop_order_id, Move::Assign, now, "late acceptance");
        }
        let (penalty, desc) = self.cancel_terms(company, shop_order_id, now)?;
        let order = self.order_mut(shop_order_id)?;
        let next = match order.status {
            Status::Waiting | Status::Assigned => Status::MerchantCancelled,
            Status::AtShop => Status::PickupFailedMerchantCancelled,
            _ => Status::ReturningMerchantCancelled,
        };
        order.deduct_fee_fen = penalty;
        order.cancel_reason_id = Some(reason_id);
        order.cancel_reason = Some(reason);
        self.record(
            shop_order_id,
            next,
            now,
            next.msg().to_owned(),
            "merchant",
            true,
        );
        Ok((penalty, desc))
    }

    /// order/confirm_return: 303–305 → 401.
    pub fn confirm_return(
        &mut self,
        shop_order_id: &str,
        remark: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let order = self.order_mut(shop_order_id)?;
        if !order.status.is_returning() {
            return Err(Reject::company(result::NOT_RETURNING));
        }
        order.return_remark = remark;
        self.record(
            shop_order_id,
            Status::Returned,
            now,
            Status::Returned.msg().to_owned(),
            "merchant",
            true,
        );
        Ok(())
    }

    /// test_update_order: any documented status, pushed like a real change and dated
    /// `action_time`.
    pub fn mock_update(
        &mut self,
        shop_order_id: &str,
        status: Status,
        action_time: DateTime<Utc>,
        action_msg: Option<String>,
    ) -> Result<(), Reject> {
        self.order_mut(shop_order_id)?;
        let msg = action_msg.unwrap_or_else(|| status.msg().to_owned());
        self.record(shop_order_id, status, action_time, msg, "mock", false);
        Ok(())
    }
}
