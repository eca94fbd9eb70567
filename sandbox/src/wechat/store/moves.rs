//! Status moves: applying one, the schedule that drives them, and ageing orders for tests.

use super::*;
use crate::kit::clock;

impl State {
    /// A move by schedule or control route; `Err` says why it does not apply now.
    pub fn apply(
        &mut self,
        shop_order_id: &str,
        step: Move,
        at: DateTime<Utc>,
        by: &'static str,
    ) -> Result<(), String> {
        let status = self
            .orders
            .get(shop_order_id)
            .map(|o| o.status)
            .ok_or_else(|| format!("no order {shop_order_id}"))?;
        let allowed = match step {
            Move::Assign => status == Status::Waiting,
            Move::Arrive => status == Status::Assigned,
            Move::Pickup => matches!(status, Status::Waiting | Status::Assigned | Status::AtShop),
            Move::Depart => status == Status::PickedUp,
            Move::Deliver => status == Status::Delivering,
            Move::Return(to) => {
                to.is_returning() && matches!(status, Status::PickedUp | Status::Delivering)
            }
            Move::Returned => status.is_returning(),
            Move::SystemCancel(to) => {
                matches!(to, Status::SystemCancelled | Status::ForceMajeure) && !status.is_end()
            }
            Move::RiderCancel(to) => {
                matches!(
                    to,
                    Status::RiderCancelled | Status::RiderCancelledForMerchant
                ) && matches!(status, Status::Assigned | Status::AtShop)
            }
        };
        if !allowed {
            return Err(format!(
                "{step:?} does not apply to an order in status {} ({})",
                status.code(),
                status.msg()
            ));
        }
        let steps: &[Status] = match step {
            Move::Assign => &[Status::Assigned],
            Move::Arrive => &[Status::AtShop],
            Move::Pickup if status == Status::Waiting => &[
                Status::Assigned,
                Status::AtShop,
                Status::PickedUp,
                Status::Delivering,
            ],
            Move::Pickup if status == Status::Assigned => {
                &[Status::AtShop, Status::PickedUp, Status::Delivering]
            }
            Move::Pickup => &[Status::PickedUp, Status::Delivering],
            Move::Depart => &[Status::Delivering],
            Move::Deliver => &[Status::Delivered],
            Move::Returned => &[Status::Returned],
            Move::Return(to) | Move::SystemCancel(to) | Move::RiderCancel(to) => &[to],
        };
        for &next in steps {
            self.record(shop_order_id, next, at, next.msg().to_owned(), by, true);
        }
        Ok(())
    }

    /// Sets a status, stamps the order, appends to its timeline and queues the push.
    /// `stamp_forward` is false for mocks, which may move anywhere, even backwards, and must
    /// not rewrite the times of steps the order really made.
    pub(super) fn record(
        &mut self,
        shop_order_id: &str,
        status: Status,
        at: DateTime<Utc>,
        action_msg: String,
        by: &'static str,
        stamp_forward: bool,
    ) {
        let needs_rider = status.has_rider()
            && self
                .orders
                .get(shop_order_id)
                .is_some_and(|o| o.rider.is_none());
        let rider = if needs_rider {
            self.rider_turn = self.rider_turn.wrapping_add(1);
            Some(seed::rider(self.rider_turn))
        } else {
            None
        };
        let Some(order) = self.orders.get_mut(shop_order_id) else {
            return;
        };
        if rider.is_some() {
            order.rider = rider;
        }
        order.status = status;
        let stamp = |slot: &mut Option<DateTime<Utc>>| {
            if stamp_forward || slot.is_none() {
                *slot = Some(at);
            }
        };
        match status {
            Status::Assigned => stamp(&mut order.assigned_at),
            Status::AtShop => stamp(&mut order.arrived_at),
            Status::PickedUp => stamp(&mut order.picked_at),
            Status::Delivering if order.picked_at.is_none() => stamp(&mut order.picked_at),
            s if s.is_returning() => stamp(&mut order.returning_at),
            _ => {}
        }
        if status.is_end() {
            order.ended_at = Some(at);
        }
        order.history.push(HistoryEntry {
            status,
            at,
            action_msg: action_msg.clone(),
            by,
        });
        let payload = WaybillPush::new(&self.original_id, order, at, action_msg);
        self.enqueue_push(shop_order_id.to_owned(), payload, Utc::now());
    }

    /// Runs every scheduled move that is due by `now`, dated when it fell due, so an order aged
    /// past several steps walks through each of them with its pushes.
    pub fn advance(&mut self, now: DateTime<Utc>) {
        self.quota.roll(now);
        let ids: Vec<String> = self.orders.keys().cloned().collect();
        for id in ids {
            while let Some((step, at)) = self.next_due(&id).filter(|(_, at)| *at <= now) {
                if self.apply(&id, step, at, "schedule").is_err() {
                    break;
                }
            }
        }
    }

    /// The next scheduled move of an order and when it falls due.
    pub fn next_due(&self, shop_order_id: &str) -> Option<(Move, DateTime<Utc>)> {
        let order = self.orders.get(shop_order_id)?;
        let company = self.company(&order.delivery_id)?;
        if !company.config.scheduled && company.acceptance.is_none() {
            return None;
        }
        let c = &company.config;
        let s = &self.schedule;
        let step = |own: Option<u64>, global: Option<u64>, from: Option<DateTime<Utc>>| {
            own.or(global)
                .zip(from)
                .and_then(|(secs, t)| after(t, secs))
        };
        match order.status {
            Status::Waiting => {
                let assign = match &company.acceptance {
                    Some(a) => a.accepted_at(shop_order_id, order.dispatch_at),
                    None => step(
                        c.accept_after_secs,
                        s.accept_after_secs,
                        Some(order.dispatch_at),
                    ),
                }
                .map(|t| (Move::Assign, t));
                let cancel = s
                    .system_cancel_after_secs
                    .and_then(|secs| after(order.dispatch_at, secs))
                    .map(|t| (Move::SystemCancel(Status::SystemCancelled), t));
                match (assign, cancel) {
                    (Some(a), Some(c)) => Some(if a.1 <= c.1 { a } else { c }),
                    (a, c) => a.or(c),
                }
            }
            Status::Assigned => step(c.arrive_after_secs, s.arrive_after_secs, order.assigned_at)
                .map(|t| (Move::Arrive, t)),
            Status::AtShop => step(c.pickup_after_secs, s.pickup_after_secs, order.arrived_at)
                .map(|t| (Move::Pickup, t)),
            Status::PickedUp => order.picked_at.map(|t| (Move::Depart, t)),
            Status::Delivering => step(c.deliver_after_secs, s.deliver_after_secs, order.picked_at)
                .map(|t| (Move::Deliver, t)),
            _ => None,
        }
    }

    /// The earliest scheduled move of any order, for the background task's sleep.
    pub fn earliest_due(&self) -> Option<DateTime<Utc>> {
        self.orders
            .keys()
            .filter_map(|k| self.next_due(k).map(|(_, t)| t))
            .min()
    }

    /// Pretends the order was created `secs` earlier: every timestamp moves back.
    pub fn age_order(&mut self, shop_order_id: &str, secs: u64) -> Result<(), String> {
        let order = self
            .orders
            .get_mut(shop_order_id)
            .ok_or_else(|| format!("no order {shop_order_id}"))?;
        let earliest = order
            .history
            .first()
            .map_or(order.created_at, |h| h.at.min(order.created_at))
            .min(order.dispatch_at);
        let delta = clock::back_by(secs, earliest).ok_or("secs out of range")?;
        let stamps = [
            &mut order.assigned_at,
            &mut order.arrived_at,
            &mut order.picked_at,
            &mut order.returning_at,
            &mut order.ended_at,
        ];
        clock::shift_back(
            delta,
            [&mut order.created_at, &mut order.dispatch_at]
                .into_iter()
                .chain(stamps.into_iter().flatten())
                .chain(order.history.iter_mut().map(|h| &mut h.at)),
        );
        Ok(())
    }

    /// Quotes are only looked at by add and control routes; old ones can go.
    pub fn purge_quotes(&mut self, now: DateTime<Utc>) {
        self.quotes
            .retain(|_, q| now - q.created_at <= TimeDelta::hours(1));
    }
}
