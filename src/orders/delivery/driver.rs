//! The dispatch plans' driver: each instance runs one; a plan falls due when one of its
//! attempts moves (the event bus wakes the driver, on every instance) or when a tip raise or
//! a network switch is due. A due plan is claimed by one `UPDATE … RETURNING` that leases it
//! to this instance (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so exactly one instance drives
//! a step; a crashed instance's lease runs out and another takes over. A step:
//!
//! * an attempt was accepted → one is kept and every other live attempt cancelled. A round
//!   holds at most one attempt whose network charges from the acceptance on (the others
//!   have a free window after it, `CourierNetwork::free_cancel_window`); that one is kept if
//!   it accepted (asked with its penalty preview when not yet heard), else the cheapest
//!   accepted. So a loser is cancelled unaccepted or inside its window; a penalty is paid
//!   only when the driver comes too late for a window or a courier accepts between the
//!   preview and the cancellation, and it is recorded on the plan;
//! * every attempt ended unaccepted → the next candidate (or the plan fails);
//! * a tip raise is due → every live attempt's tip goes up one step, up to the cap;
//! * the switch time passed → if cancelling every live attempt is free (the network's
//!   penalty preview), they are cancelled and the next candidate is dispatched; otherwise
//!   the plan stays where it is.

use std::time::Duration;

use futures::StreamExt;

use chrono::{DateTime, TimeDelta, Utc};
use entity::{dispatch_plan, orders};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr,
    EntityTrait, QueryFilter, Statement, sea_query::Expr,
};
use tokio_util::sync::CancellationToken;

use super::plan::{ACTIVE, Candidate, FAILED, WON, attempts, round_width};
use crate::domain::{EventKind, Money, OrderStatus};
use crate::orders::{OrderError, OrderService};

/// How long a claim lasts; a step takes a few platform calls.
const LEASE: TimeDelta = TimeDelta::seconds(60);

/// What must be left of an accepted attempt's free window to count on cancelling it free:
/// the step's own platform calls, and the seconds the recorded acceptance time rounds off.
const WINDOW_MARGIN: TimeDelta = TimeDelta::seconds(15);

fn taken(o: &orders::Model) -> bool {
    matches!(
        o.status.parse::<OrderStatus>(),
        Ok(OrderStatus::Accepted
            | OrderStatus::Arrived
            | OrderStatus::InProgress
            | OrderStatus::Completed)
    )
}

fn ended(o: &orders::Model) -> bool {
    o.status
        .parse::<OrderStatus>()
        .is_ok_and(|s| s.is_terminal())
}

/// Claims up to `limit` due plans for `me`.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    me: &str,
    limit: u64,
) -> Result<Vec<dispatch_plan::Model>, DbErr> {
    let now = Utc::now();
    let backend = db.get_database_backend();
    let (sql, values): (String, Vec<sea_orm::Value>) = match backend {
        DatabaseBackend::Postgres => (
            format!(
                "UPDATE dispatch_plan SET claimed_by = $1, claimed_until = $2 WHERE id IN \
                 (SELECT id FROM dispatch_plan WHERE state = '{ACTIVE}' AND next_step_at <= $3 \
                 AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY next_step_at \
                 LIMIT {limit} FOR UPDATE SKIP LOCKED) RETURNING *"
            ),
            vec![me.into(), (now + LEASE).into(), now.into()],
        ),
        _ => (
            format!(
                "UPDATE dispatch_plan SET claimed_by = ?1, claimed_until = ?2 WHERE id IN \
                 (SELECT id FROM dispatch_plan WHERE state = '{ACTIVE}' AND next_step_at <= ?3 \
                 AND (claimed_until IS NULL OR claimed_until < ?3) ORDER BY next_step_at \
                 LIMIT {limit}) RETURNING *"
            ),
            vec![me.into(), (now + LEASE).into(), now.into()],
        ),
    };
    dispatch_plan::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await
}

impl OrderService {
    /// Makes the plan of `order_id` (if it has one, still active) due now. Returns whether
    /// it did.
    pub async fn wake_plan_of(&self, order_id: i64) -> Result<bool, DbErr> {
        let Some(plan_id) = self.get(order_id).await?.and_then(|o| o.plan_id) else {
            return Ok(false);
        };
        let done = dispatch_plan::Entity::update_many()
            .col_expr(dispatch_plan::Column::NextStepAt, Expr::value(Utc::now()))
            .filter(dispatch_plan::Column::Id.eq(plan_id))
            .filter(dispatch_plan::Column::State.eq(ACTIVE))
            .exec(&self.db)
            .await?;
        Ok(done.rows_affected > 0)
    }

    /// A plan, by id.
    pub async fn plan(&self, id: i64) -> Result<Option<dispatch_plan::Model>, DbErr> {
        dispatch_plan::Entity::find_by_id(id)
            .one(&self.reader)
            .await
    }

    /// A plan's attempts, oldest first.
    pub async fn plan_attempts(&self, id: i64) -> Result<Vec<orders::Model>, DbErr> {
        attempts(&self.reader, id).await
    }

    /// One step of a claimed plan, then its claim is let go.
    pub async fn drive_plan(&self, plan: dispatch_plan::Model, me: &str) -> Result<(), OrderError> {
        let id = plan.id;
        let result = self.step(plan).await;
        dispatch_plan::Entity::update_many()
            .col_expr(
                dispatch_plan::Column::ClaimedBy,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                dispatch_plan::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(dispatch_plan::Column::Id.eq(id))
            .filter(dispatch_plan::Column::ClaimedBy.eq(me))
            .exec(&self.db)
            .await?;
        result
    }

    async fn step(&self, plan: dispatch_plan::Model) -> Result<(), OrderError> {
        let attempts = attempts(&self.db, plan.id).await?;
        let now = Utc::now();
        if attempts.iter().any(taken) {
            return self.settle_race(plan, &attempts, now).await;
        }
        let live: Vec<&orders::Model> = attempts.iter().filter(|o| !ended(o)).collect();
        let candidates: Vec<Candidate> = serde_json::from_str(&plan.candidates)
            .map_err(|e| DbErr::Custom(format!("plan {}: {e}", plan.id)))?;
        let left = usize::try_from(plan.next_candidate).is_ok_and(|n| n < candidates.len());
        let width = round_width(&plan);
        if live.is_empty() {
            if left {
                self.dispatch_next(
                    &plan,
                    width,
                    EventKind::NetworkSwitched,
                    "the network ended the delivery unaccepted",
                )
                .await?;
            } else {
                self.end_plan(plan, FAILED, |am| {
                    am.detail = Set(Some("every network ended the delivery unaccepted".into()));
                })
                .await?;
            }
            return Ok(());
        }
        let mut plan = plan;
        let tips_due = plan.tip_step_fen > 0
            && plan.tip_fen < plan.tip_cap_fen
            && now >= plan.last_tip_at + TimeDelta::seconds(plan.tip_interval_secs);
        if tips_due {
            plan = self.raise_tips(plan, &live, now).await?;
        }
        if let Some(after) = plan.switch_after_secs
            && left
            && now >= plan.step_started_at + TimeDelta::seconds(after)
        {
            let mut all_free = true;
            for o in &live {
                all_free &= self.free_to_cancel(o).await;
            }
            if all_free {
                for o in &live {
                    self.cancel_attempt(o.id, "moving to the next network")
                        .await?;
                }
                self.dispatch_next(
                    &plan,
                    width,
                    EventKind::NetworkSwitched,
                    &format!("nobody accepted within {after} s"),
                )
                .await?;
                return Ok(());
            }
            // Cancelling would cost a penalty: stay, and stop trying to switch.
            let mut am: dispatch_plan::ActiveModel = plan.clone().into();
            am.switch_after_secs = Set(None);
            am.detail = Set(Some(
                "cancelling is no longer free: staying with the network".into(),
            ));
            plan = am.update(&self.db).await?;
        }
        let mut am: dispatch_plan::ActiveModel = plan.clone().into();
        am.next_step_at = Set(next_due(&plan, left));
        am.updated_at = Set(Utc::now());
        am.update(&self.db).await?;
        Ok(())
    }

    /// Every live attempt's tip one step higher (networks without tips are skipped).
    async fn raise_tips(
        &self,
        plan: dispatch_plan::Model,
        live: &[&orders::Model],
        now: DateTime<Utc>,
    ) -> Result<dispatch_plan::Model, OrderError> {
        let raised = (plan.tip_fen + plan.tip_step_fen).min(plan.tip_cap_fen);
        let mut skipped = Vec::new();
        for o in live {
            let base = o.tips_fen.unwrap_or(0) - plan.tip_fen;
            let total = Money::from_fen(base.max(0) + raised);
            if let Err(OrderError::User(e)) = self
                .add_tip(o.id, total, Some("tip escalation".into()))
                .await
            {
                skipped.push(format!(
                    "order {}: {}",
                    o.id,
                    e.first().map_or("refused", |e| e.message.as_str())
                ));
            }
        }
        let mut am: dispatch_plan::ActiveModel = plan.into();
        am.tip_fen = Set(raised);
        am.last_tip_at = Set(now);
        if !skipped.is_empty() {
            am.detail = Set(Some(format!("tip not raised: {}", skipped.join("; "))));
        }
        Ok(am.update(&self.db).await?)
    }

    /// A courier accepted: one attempt is kept and every other live attempt cancelled at
    /// once. The one kept is the attempt that would cost to cancel, if one would (a round
    /// holds at most one, see `dispatch_next`), else the cheapest accepted; so the others
    /// are cancelled while still unaccepted or inside their free window. An attempt without
    /// a free window that has not been heard to accept is asked first (the penalty preview):
    /// if its courier has just accepted, it is the one kept.
    async fn settle_race(
        &self,
        plan: dispatch_plan::Model,
        attempts: &[orders::Model],
        now: DateTime<Utc>,
    ) -> Result<(), OrderError> {
        let mut accepted: Vec<&orders::Model> = attempts.iter().filter(|o| taken(o)).collect();
        let unheard = attempts
            .iter()
            .filter(|o| !taken(o) && !ended(o) && self.attempt_window(o).is_none());
        for o in unheard {
            if !self.free_to_cancel(o).await {
                accepted.push(o);
            }
        }
        let costly: Vec<&orders::Model> = accepted
            .iter()
            .copied()
            .filter(|o| !self.free_now(o, now))
            .collect();
        let keep_from = if costly.is_empty() {
            &accepted
        } else {
            &costly
        };
        let Some(winner) = keep_from.iter().min_by_key(|o| (o.fee_fen, o.id)) else {
            return Ok(());
        };
        let winner = winner.id;
        let mut penalty = 0;
        let mut lost = Vec::new();
        // Every loser at once: each moment one waits, its courier may accept.
        let losers: Vec<&orders::Model> = attempts
            .iter()
            .filter(|o| o.id != winner && !ended(o))
            .collect();
        let cancelled = futures::future::join_all(
            losers
                .iter()
                .map(|o| self.cancel_attempt(o.id, "another attempt of the plan was kept")),
        )
        .await;
        for (o, paid) in losers.into_iter().zip(cancelled) {
            let paid = paid?;
            penalty += paid.fen();
            self.note_event(
                o.id,
                EventKind::RaceCancelled,
                format!("lost to order {winner}; penalty {paid}"),
                |_, _| {},
            )
            .await?;
            lost.push(o.id);
        }
        if plan.race || !lost.is_empty() {
            self.note_event(
                winner,
                EventKind::RaceWon,
                if lost.is_empty() {
                    "accepted; kept".to_owned()
                } else {
                    format!("accepted; kept, cancelled {lost:?}")
                },
                |_, _| {},
            )
            .await?;
        }
        self.end_plan(plan, WON, |am| {
            am.winner_order_id = Set(Some(winner));
            am.penalty_fen = Set(penalty);
        })
        .await
    }

    /// Ends a plan in `state` (nothing more to look at), with what `set` records.
    async fn end_plan(
        &self,
        plan: dispatch_plan::Model,
        state: &str,
        set: impl FnOnce(&mut dispatch_plan::ActiveModel),
    ) -> Result<(), OrderError> {
        let mut am: dispatch_plan::ActiveModel = plan.into();
        am.state = Set(state.into());
        set(&mut am);
        am.next_step_at = Set(None);
        am.updated_at = Set(Utc::now());
        am.update(&self.db).await?;
        Ok(())
    }

    /// Whether cancelling `o` now costs nothing: the network's penalty preview, or, where
    /// it has none, whether nobody accepted yet.
    async fn free_to_cancel(&self, o: &orders::Model) -> bool {
        match self.preview_cancellation(o.id, None, None).await {
            Ok(p) => p.penalty.fen() == 0,
            Err(_) => !taken(o),
        }
    }

    /// How long after acceptance cancelling `c`'s network (or company) stays free.
    pub(super) fn cancel_window(&self, c: &Candidate) -> Option<Duration> {
        self.window_of(&c.network, c.company.as_deref())
    }

    fn attempt_window(&self, o: &orders::Model) -> Option<Duration> {
        self.window_of(&o.provider, o.courier_company.as_deref())
    }

    fn window_of(&self, network: &str, company: Option<&str>) -> Option<Duration> {
        let network = self.registry.courier(network.parse().ok()?)?;
        network.free_cancel_window(company)
    }

    /// Whether cancelling the accepted attempt `o` is still free at `now`: its network's
    /// window after acceptance has [`WINDOW_MARGIN`] left.
    fn free_now(&self, o: &orders::Model, now: DateTime<Utc>) -> bool {
        let (Some(window), Some(secs)) = (self.attempt_window(o), o.accept_secs) else {
            return false;
        };
        let window = TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX);
        now + WINDOW_MARGIN < o.created_at + TimeDelta::seconds(secs) + window
    }

    /// Cancels an attempt; the penalty it cost (an attempt already ended costs nothing).
    async fn cancel_attempt(&self, id: i64, why: &str) -> Result<Money, OrderError> {
        match self.cancel_delivery(id, None, Some(why.into())).await {
            Ok((_, penalty)) => Ok(penalty),
            Err(OrderError::User(e)) => {
                tracing::warn!(order_id = id, error = ?e, "dispatch plan: cancelling an attempt was refused");
                Ok(Money::from_fen(0))
            }
            Err(e) => Err(e),
        }
    }
}

/// When a plan with live attempts must be looked at again by itself.
pub(super) fn next_due(
    plan: &dispatch_plan::Model,
    candidates_left: bool,
) -> Option<DateTime<Utc>> {
    let tip = (plan.tip_step_fen > 0 && plan.tip_fen < plan.tip_cap_fen)
        .then(|| plan.last_tip_at + TimeDelta::seconds(plan.tip_interval_secs));
    let switch = plan
        .switch_after_secs
        .filter(|_| candidates_left)
        .map(|s| plan.step_started_at + TimeDelta::seconds(s));
    match (tip, switch) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The driver of this instance: claims due plans and steps them; woken by the plans'
/// attempts moving (on any instance, through the event bus) and by `wake`.
pub async fn run(orders: OrderService, tick: Duration, shutdown: CancellationToken) {
    let wake = orders.plans_wake();
    let me = orders.bus.instance().to_owned();
    let mut news = orders.bus.subscribe();
    loop {
        // A read first: claiming is a write, and most rounds find nothing due.
        let due = dispatch_plan::Entity::find()
            .filter(dispatch_plan::Column::State.eq(ACTIVE))
            .filter(dispatch_plan::Column::NextStepAt.lte(Utc::now()))
            .one(&orders.reader)
            .await;
        let claimed = match due {
            Ok(None) => Ok(Vec::new()),
            Ok(Some(_)) | Err(_) => claim_due(&orders.db, &me, 16).await,
        };
        match claimed {
            // Plans are independent: their steps (platform calls, mostly) run side by side,
            // so one plan's acceptance is not kept waiting behind another's switch.
            Ok(plans) => {
                futures::stream::iter(plans)
                    .for_each_concurrent(PLANS_AT_ONCE, |plan| {
                        let (orders, me) = (&orders, &me);
                        async move {
                            let id = plan.id;
                            if let Err(e) = orders.drive_plan(plan, me).await {
                                tracing::warn!(plan_id = id, error = ?e, "dispatch plan step failed");
                            }
                        }
                    })
                    .await;
            }
            Err(e) => tracing::warn!(error = %e, "dispatch plans: claiming failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(tick) => {}
            change = news.recv() => {
                // Every change that came meanwhile, at once.
                let mut changes = vec![change];
                while let Ok(more) = news.try_recv() {
                    changes.push(Ok(more));
                }
                for change in changes {
                    // Only a courier network's deliveries are attempts of a plan.
                    if let Ok(change) = change
                        && change.kind == EventKind::Status
                        && orders.registry.courier(change.provider).is_some()
                        && let Err(e) = orders.wake_plan_of(change.order_id).await
                    {
                        tracing::warn!(error = %e, "dispatch plans: waking a plan failed");
                    }
                }
            }
        }
    }
}

/// Plans one instance steps at once.
const PLANS_AT_ONCE: usize = 8;
