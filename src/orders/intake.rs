//! Taking in orders a platform pushes to us (58 Daojia), with group commit: a push is handed
//! to one intake worker, which stores every push waiting at that moment in one transaction
//! and answers each only after that transaction has committed. There is no batching window:
//! the worker takes what queued up while the previous transaction was committing, so under
//! load a commit (and its fsync) serves many pushes, and when quiet a push is stored at once.
//!
//! Each push is stored once however often it arrives (`ON CONFLICT DO NOTHING` on the
//! platform's id, then the order that won). If a batch fails, each of its pushes is tried on
//! its own, so one bad push never fails the others.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use entity::{order_item, orders, technician};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, TransactionTrait,
    TryInsertResult,
};
use tokio::sync::{mpsc, oneshot};

use super::OrderService;
use crate::{
    domain::{Direction, EventKind, EventSource, OrderKind, OrderStatus, ProviderId},
    events::StatusChange,
    providers::PushedOrder,
};

/// What the intake did with a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intake {
    pub order_id: i64,
    /// False for a repeat of an order we already have.
    pub created: bool,
}

/// Pushes one transaction takes at most.
const MAX_BATCH: usize = 256;
/// Pushes waiting for the worker at most; a push beyond it waits for room.
const QUEUE: usize = 4096;

/// One push waiting to be stored, and where its outcome goes.
pub(super) struct Job {
    pushed: PushedOrder,
    payload: String,
    reply: oneshot::Sender<Result<Intake, DbErr>>,
}

/// The intake worker's queue, started with the first push (shared by the service's clones).
pub(super) type IntakeQueue = Arc<OnceLock<mpsc::Sender<Job>>>;

impl OrderService {
    /// Stores a pushed order once: a repeat (sequential or concurrent) finds the first and
    /// changes nothing. Returns when the order is committed — the moment 58 may be told.
    #[tracing::instrument(skip_all, fields(daojia_order_id = pushed.order_id))]
    pub async fn take_in(&self, pushed: &PushedOrder, payload: &str) -> Result<Intake, DbErr> {
        let queue = self.intake.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(self.clone().intake_worker(rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        let job = Job {
            pushed: pushed.clone(),
            payload: payload.to_owned(),
            reply,
        };
        let stopped = || DbErr::Custom("the intake worker stopped".into());
        queue.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Takes every push waiting, stores them in one transaction, answers each.
    async fn intake_worker(self, mut rx: mpsc::Receiver<Job>) {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            metrics::histogram!("orderhub_intake_batch_size").record(batch.len() as f64);
            match self.store_all(&batch).await {
                Ok(stored) => {
                    for (job, outcome) in batch.into_iter().zip(stored) {
                        self.answer(job, Ok(outcome));
                    }
                }
                Err(e) if batch.len() == 1 => {
                    if let Some(job) = batch.pop() {
                        self.answer(job, Err(e));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, pushes = batch.len(), "intake batch failed; storing its pushes one by one");
                    for job in batch {
                        let outcome = self
                            .store_all(std::slice::from_ref(&job))
                            .await
                            .map(|mut one| one.remove(0));
                        self.answer(job, outcome);
                    }
                }
            }
        }
    }

    /// Publishes a stored push's change and answers its caller (all after the commit).
    fn answer(&self, job: Job, outcome: Result<(Intake, Option<StatusChange>), DbErr>) {
        let outcome = outcome.map(|(intake, change)| {
            let label = if intake.created {
                "accepted"
            } else {
                "duplicate"
            };
            metrics::counter!("orderhub_callbacks_total", "provider" => "DAOJIA58", "outcome" => label)
                .increment(1);
            if let Some(change) = change {
                self.bus.publish(change);
            }
            intake
        });
        // A caller that went away still had its push stored; 58 will push it again and be
        // told it is ours.
        let _ = job.reply.send(outcome);
    }

    /// Stores `jobs` in one transaction, a statement per kind of row for the whole batch:
    /// the technicians named, the new orders (`ON CONFLICT DO NOTHING ... RETURNING`, so what
    /// was inserted is known exactly, even beside another instance), the orders of repeats,
    /// the items, the first events and their notifications.
    async fn store_all(&self, jobs: &[Job]) -> Result<Vec<(Intake, Option<StatusChange>)>, DbErr> {
        let txn = self.db.begin().await?;
        let now = Utc::now();
        let provider = ProviderId::Daojia58.as_str();
        let external = |j: &Job| j.pushed.order_id.to_string();
        let uids: Vec<&str> = jobs
            .iter()
            .filter_map(|j| j.pushed.service_user_id.as_deref())
            .collect();
        let technicians: HashMap<String, technician::Model> = if uids.is_empty() {
            HashMap::new()
        } else {
            technician::Entity::find()
                .filter(technician::Column::Provider.eq(provider))
                .filter(technician::Column::ExternalId.is_in(uids))
                .all(&txn)
                .await?
                .into_iter()
                .map(|t| (t.external_id.clone(), t))
                .collect()
        };
        // One row per platform id (a push repeated within the batch is a repeat).
        let mut seen = HashSet::new();
        let rows: Vec<orders::ActiveModel> = jobs
            .iter()
            .filter(|j| seen.insert(j.pushed.order_id))
            .map(|j| {
                let tech = j
                    .pushed
                    .service_user_id
                    .as_ref()
                    .and_then(|u| technicians.get(u));
                order_row(&j.pushed, tech, now)
            })
            .collect();
        let inserted = match orders::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([orders::Column::Provider, orders::Column::ExternalId])
            .exec_with_returning_many(&txn)
            .await?
        {
            TryInsertResult::Inserted(rows) => rows,
            TryInsertResult::Conflicted | TryInsertResult::Empty => Vec::new(),
        };
        let mut by_external: HashMap<String, orders::Model> = inserted
            .into_iter()
            .filter_map(|o| Some((o.external_id.clone()?, o)))
            .collect();
        let created: HashSet<String> = by_external.keys().cloned().collect();
        let repeats: Vec<String> = jobs
            .iter()
            .map(external)
            .filter(|e| !created.contains(e))
            .collect();
        if !repeats.is_empty() {
            let found = orders::Entity::find()
                .filter(orders::Column::Provider.eq(provider))
                .filter(orders::Column::ExternalId.is_in(repeats))
                .all(&txn)
                .await?;
            for o in found {
                if let Some(e) = o.external_id.clone() {
                    by_external.entry(e).or_insert(o);
                }
            }
        }
        // Items and first events of the orders this batch created, each once.
        let mut first = HashSet::new();
        let mut items = Vec::new();
        let mut changes = Vec::new();
        for job in jobs {
            let e = external(job);
            if !created.contains(&e) || !first.insert(e.clone()) {
                continue;
            }
            let order = by_external
                .get(&e)
                .ok_or_else(|| DbErr::RecordNotFound(format!("58 order {e}")))?;
            items.extend(job.pushed.lines.iter().map(|l| order_item::ActiveModel {
                order_id: Set(order.id),
                price_id: Set(None),
                external_price_id: Set(l.goods_id.clone()),
                name: Set(format!("goods {}", l.goods_id)),
                unit: Set(None),
                unit_price_fen: Set(l.unit_price.fen()),
                quantity: Set(l.quantity),
                amount_fen: Set(l.unit_price.fen().saturating_mul(i64::from(l.quantity))),
                ..Default::default()
            }));
            changes.push(StatusChange {
                event_id: 0,
                order_id: order.id,
                provider: ProviderId::Daojia58,
                from: None,
                to: OrderStatus::Pending,
                raw_status: job.pushed.status_code.to_string(),
                source: EventSource::Callback,
                occurred_at: now,
                detail: Some(format!("pushed by 58 ({} bytes)", job.payload.len())),
                kind: EventKind::Status,
            });
        }
        if !items.is_empty() {
            order_item::Entity::insert_many(items)
                .exec_without_returning(&txn)
                .await?;
        }
        let mut changes: HashMap<i64, StatusChange> = self
            .record_applied_events(&txn, changes)
            .await?
            .into_iter()
            .map(|c| (c.order_id, c))
            .collect();
        txn.commit().await?;
        // Each job's outcome; the change goes with the first push of a new order.
        jobs.iter()
            .map(|job| {
                let e = external(job);
                let order = by_external
                    .get(&e)
                    .ok_or_else(|| DbErr::RecordNotFound(format!("58 order {e}")))?;
                let change = changes.remove(&order.id);
                let intake = Intake {
                    order_id: order.id,
                    created: change.is_some(),
                };
                Ok((intake, change))
            })
            .collect()
    }
}

/// The order row of a push.
fn order_row(
    pushed: &PushedOrder,
    technician: Option<&technician::Model>,
    now: DateTime<Utc>,
) -> orders::ActiveModel {
    orders::ActiveModel {
        provider: Set(ProviderId::Daojia58.as_str().to_owned()),
        external_id: Set(Some(pushed.order_id.to_string())),
        direction: Set(Direction::Inbound.as_str().to_owned()),
        kind: Set(OrderKind::Service.as_str().to_owned()),
        status: Set(OrderStatus::Pending.as_str().to_owned()),
        raw_status: Set(pushed.status_code.to_string()),
        shop_id: Set(None),
        contact_person: Set(String::new()),
        phone: Set(pushed.user_mobile.clone()),
        city: Set(pushed.city_name.clone()),
        street: Set(pushed.service_address.clone()),
        house: Set(String::new()),
        note: Set(pushed.remark.clone()),
        appoint_time: Set(Some(pushed.service_begin)),
        items_total_fen: Set(pushed.total.fen()),
        fee_fen: Set(0),
        total_fen: Set(pushed.total.fen()),
        balance_after_fen: Set(None),
        cancel_reason: Set(None),
        status_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        receiver_lng: Set(pushed.location.map(|p| p.lng)),
        receiver_lat: Set(pushed.location.map(|p| p.lat)),
        dispatch_round: Set(1),
        technician_id: Set(technician.map(|t| t.id)),
        courier_name: Set(technician.map(|t| t.name.clone())),
        courier_phone: Set(technician.map(|t| t.phone.clone())),
        service_end: Set(pushed.service_end),
        ..Default::default()
    }
}
