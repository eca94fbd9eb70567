//! Status moves: applying one, the schedule that drives them, and the history they leave.

use super::*;
use crate::kit::clock;

impl State {
    /// Applies a simulated or scheduled move, with Dada's test-environment refusals.
    pub fn apply(
        &mut self,
        key: &OrderKey,
        step: Move,
        reason: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let status = self
            .orders
            .get(key)
            .map(|o| o.status)
            .ok_or_else(|| Reject::of(code::ORDER_NOT_FOUND))?;
        let not_now = || {
            Reject::with(
                code::ORDER_STATE,
                format!(
                    "订单当前状态为{}({}),不能执行该操作",
                    status.msg(),
                    status.code()
                ),
            )
        };
        let allowed = match step {
            Move::Accept | Move::Expire | Move::Fail | Move::AutoCancel => status.unaccepted(),
            Move::Arrive => status == Status::Accepted,
            Move::Fetch => status.to_pick_up(),
            Move::Finish | Move::AbnormalBack => status == Status::Delivering,
            Move::Cancel => {
                status.unaccepted() || status.to_pick_up() || status == Status::Delivering
            }
        };
        if !allowed {
            let needs_courier = matches!(
                step,
                Move::Arrive | Move::Fetch | Move::Finish | Move::AbnormalBack
            );
            return Err(if needs_courier && status.unaccepted() {
                Reject::of(code::SIMULATE_NOT_ACCEPTED)
            } else {
                not_now()
            });
        }
        match step {
            Move::Accept => {
                let courier = self.pick_courier(key);
                if let Some(order) = self.orders.get_mut(key) {
                    order.status = Status::Accepted;
                    order.courier = Some(courier);
                    order.accepted_at = Some(at);
                }
            }
            Move::Arrive => self.set(key, Status::Arrived, |o| o.arrived_at = Some(at)),
            Move::Fetch => self.set(key, Status::Delivering, |o| o.fetched_at = Some(at)),
            Move::Finish => self.set(key, Status::Delivered, |o| o.finished_at = Some(at)),
            Move::AbnormalBack => self.set(key, Status::Returning, |_| {}),
            Move::Cancel => {
                let reason = reason.unwrap_or_else(|| "达达客服取消".to_owned());
                self.cancel(key, CancelFrom::System, reason, 0, at);
                return Ok(());
            }
            Move::AutoCancel => {
                self.cancel(
                    key,
                    CancelFrom::System,
                    "超过72小时未接单,系统自动取消".to_owned(),
                    0,
                    at,
                );
                return Ok(());
            }
            Move::Expire => {
                self.end_with_refund(key, Status::Expired, at);
                return Ok(());
            }
            Move::Fail => {
                self.end_with_refund(key, Status::CreateFailed, at);
                return Ok(());
            }
        }
        self.record_status(key, at);
        Ok(())
    }

    pub(super) fn set(&mut self, key: &OrderKey, status: Status, stamp: impl FnOnce(&mut Order)) {
        if let Some(order) = self.orders.get_mut(key) {
            order.status = status;
            stamp(order);
        }
    }

    /// The appointed courier, else the next courier of the order's city in turn.
    pub(super) fn pick_courier(&mut self, key: &OrderKey) -> i64 {
        let (appointed, city_id) = self
            .orders
            .get(key)
            .map_or((None, 0), |o| (o.appointed, o.city_id));
        if let Some(id) = appointed {
            return id;
        }
        let local: Vec<&Courier> = seed::COURIERS
            .iter()
            .filter(|c| c.city_id == city_id)
            .collect();
        let pool: Vec<&Courier> = if local.is_empty() {
            seed::COURIERS.iter().collect()
        } else {
            local
        };
        self.courier_turn = self.courier_turn.wrapping_add(1);
        pool.get(self.courier_turn % pool.len().max(1))
            .map_or(666, |c| c.id)
    }

    /// Runs every scheduled move that is due by `now`, dated when it fell due, so an order aged
    /// past several steps walks through each of them with its callbacks.
    pub fn advance(&mut self, now: DateTime<Utc>) {
        let keys: Vec<OrderKey> = self.orders.keys().cloned().collect();
        for key in keys {
            while let Some((step, at)) = self.next_due(&key).filter(|(_, at)| *at <= now) {
                if self.apply(&key, step, None, at).is_err() {
                    break;
                }
            }
        }
    }

    /// The next scheduled move of an order and when it falls due.
    pub fn next_due(&self, key: &OrderKey) -> Option<(Move, DateTime<Utc>)> {
        let order = self.orders.get(key)?;
        let s = &self.schedule;
        match order.status {
            Status::Waiting | Status::Appointed => {
                let accept = match &s.acceptance {
                    Some(a) => a.accepted_at(&key.1, order.published_at),
                    None => s
                        .accept_after_secs
                        .and_then(|x| after(order.published_at, x)),
                }
                .map(|t| (Move::Accept, t));
                let cancel = after(order.published_at, s.auto_cancel_after_secs)
                    .map(|t| (Move::AutoCancel, t));
                match (accept, cancel) {
                    (Some(a), Some(c)) => Some(if a.1 <= c.1 { a } else { c }),
                    (a, c) => a.or(c),
                }
            }
            Status::Accepted | Status::Arrived => s
                .fetch_after_secs
                .zip(order.accepted_at)
                .and_then(|(x, t)| after(t, x))
                .map(|t| (Move::Fetch, t)),
            Status::Delivering => s
                .finish_after_secs
                .zip(order.fetched_at)
                .and_then(|(x, t)| after(t, x))
                .map(|t| (Move::Finish, t)),
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
    pub fn age_order(&mut self, key: &OrderKey, secs: u64) -> Result<(), Reject> {
        let order = self
            .orders
            .get_mut(key)
            .ok_or_else(|| Reject::of(code::ORDER_NOT_FOUND))?;
        // The first timeline entry is the oldest moment the order knows (a re-published order
        // keeps its earlier history); if that can move, everything can.
        let earliest = order
            .history
            .first()
            .map_or(order.created_at, |h| h.at.min(order.created_at));
        let delta = clock::back_by(secs, earliest).ok_or_else(|| Reject::format("secs"))?;
        let stamps = [
            &mut order.accepted_at,
            &mut order.arrived_at,
            &mut order.fetched_at,
            &mut order.finished_at,
            &mut order.cancelled_at,
        ];
        clock::shift_back(
            delta,
            [&mut order.created_at, &mut order.published_at]
                .into_iter()
                .chain(stamps.into_iter().flatten())
                .chain(order.history.iter_mut().map(|h| &mut h.at))
                .chain(order.complaints.iter_mut().map(|c| &mut c.at)),
        );
        Ok(())
    }

    /// Appends the order's current status to its timeline and queues the callback.
    pub(super) fn record_status(&mut self, key: &OrderKey, at: DateTime<Utc>) {
        let Some(order) = self.orders.get_mut(key) else {
            return;
        };
        order.history.push(HistoryEntry {
            status: order.status,
            at,
        });
        let payload = order.callback_payload(at);
        let url = order.request.callback.clone();
        self.enqueue_callback(key.clone(), url, payload, at);
    }
}
