//! The order rules: creating orders on a marketplace (validated first, idempotent by key,
//! never lost between the platform's answer and our write), and applying status news from
//! any source through one state machine that de-duplicates callbacks and never moves an
//! order backwards. Changes are published only after they are committed.

mod create;
mod delivery;
mod idempotency;
mod inbound;
mod intake;
mod perform;
pub mod poller;
pub mod repo;
pub mod scorecard;
pub mod search;
pub mod seed;
pub mod stats;
mod status;
pub mod steps;

pub use crate::refusal::{OrderError, UserError, UserErrorCode, provider_user_error};
pub use create::{CreateServiceOrder, LineInput};
pub use delivery::{
    CourierAction, CourierCancelPolicy, CourierCancelRequest, DeliveryInput, DispatchDelivery,
    DispatchSource, Quoted, driver::run as run_dispatch_plans, plan, policy,
};
pub use inbound::{InboundAction, NewTechnician, UPDATE_ORDER_DETAIL};
pub use intake::Intake;
pub use search::{OrderFilter, Position, Search, Slice, Sort, SortKey, Window};
pub use status::{ApplyOutcome, DeliveryNews, InboundRecord, StatusUpdate};

use std::{collections::HashMap, sync::Arc, time::Duration};

use entity::{order_event, order_item, orders};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::{
    catalog::CatalogService,
    domain::{OrderStatus, ProviderId},
    events::EventBus,
    providers::Registry,
};

impl From<crate::catalog::CatalogError> for OrderError {
    fn from(e: crate::catalog::CatalogError) -> Self {
        match e {
            crate::catalog::CatalogError::Db(e) => Self::Db(e),
            crate::catalog::CatalogError::Provider(e) => Self::User(vec![provider_user_error(&e)]),
        }
    }
}

#[derive(Clone)]
pub struct OrderService {
    db: DatabaseConnection,
    /// What the API's reads go through (on SQLite, read-only connections beside the writer;
    /// see `db::connect_readers`). Writes and the reads inside them use `db`.
    reader: DatabaseConnection,
    registry: Registry,
    catalog: CatalogService,
    bus: EventBus,
    delivery: Arc<DeliverySettings>,
    /// Wakes the outbox worker when a row was queued.
    outbox_wake: Arc<tokio::sync::Notify>,
    /// Wakes the dispatch plans' driver when a plan was started.
    plans_wake: Arc<tokio::sync::Notify>,
    /// The platform that pushes orders to us (58 Daojia), when enabled: where status changes
    /// of pushed orders are synced, and whose status codes they follow.
    order_source: Option<Arc<dyn crate::providers::OrderSource>>,
    /// The worker that stores pushed orders, a batch per transaction (see `intake`).
    intake: intake::IntakeQueue,
}

/// How deliveries are dispatched here.
#[derive(Clone, Debug)]
pub struct DeliverySettings {
    /// Where each courier network posts its status callbacks.
    pub callback_urls: HashMap<ProviderId, String>,
    /// Prefix of the `origin_id`s we generate.
    pub origin_prefix: String,
    /// How long a courier network's answer is awaited.
    pub timeout: Duration,
    /// Per network, when it has its own (quotes across networks wait for each its own time).
    pub timeouts: HashMap<ProviderId, Duration>,
    pub courier_cancel_policy: CourierCancelPolicy,
}

impl DeliverySettings {
    /// How long `network`'s answer is awaited.
    pub fn timeout_of(&self, network: ProviderId) -> Duration {
        self.timeouts.get(&network).copied().unwrap_or(self.timeout)
    }
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            callback_urls: HashMap::new(),
            origin_prefix: "OH".into(),
            timeout: Duration::from_secs(10),
            timeouts: HashMap::new(),
            courier_cancel_policy: CourierCancelPolicy::Manual,
        }
    }
}

impl OrderService {
    pub fn new(
        db: DatabaseConnection,
        registry: Registry,
        catalog: CatalogService,
        bus: EventBus,
    ) -> Self {
        Self {
            reader: db.clone(),
            db,
            registry,
            catalog,
            bus,
            delivery: Arc::new(DeliverySettings::default()),
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            plans_wake: Arc::new(tokio::sync::Notify::new()),
            order_source: None,
            intake: Arc::default(),
        }
    }

    /// Takes pushed orders from `source` and syncs their changes back to it.
    pub fn with_order_source(mut self, source: Arc<dyn crate::providers::OrderSource>) -> Self {
        self.order_source = Some(source);
        self
    }

    pub fn with_delivery(mut self, settings: DeliverySettings) -> Self {
        self.delivery = Arc::new(settings);
        self
    }

    pub fn outbox_wake(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_wake.clone()
    }

    /// What wakes the dispatch plans' driver.
    pub fn plans_wake(&self) -> Arc<tokio::sync::Notify> {
        self.plans_wake.clone()
    }

    /// Reads the API's pages and lookups through `reader` instead of the writer.
    pub fn with_reader(mut self, reader: DatabaseConnection) -> Self {
        self.reader = reader;
        self
    }

    /// The connection reads go through (the repository functions and DataLoaders use it).
    pub fn reader(&self) -> &DatabaseConnection {
        &self.reader
    }

    /// What a marketplace itself says of one of its orders now, for news that must not be
    /// taken on the word of an unsigned notification.
    pub async fn marketplace_status(
        &self,
        provider: ProviderId,
        external_id: &str,
    ) -> Result<OrderStatus, OrderError> {
        let Some(market) = self.registry.marketplace(provider) else {
            return Err(crate::refusal::UserError::new(
                &["provider"],
                crate::refusal::UserErrorCode::UnsupportedByProvider,
                format!("{provider} is not a marketplace here"),
            )
            .into());
        };
        let seen = crate::providers::with_timeout(
            provider,
            market.timeout(),
            market.order_status(external_id),
        )
        .await
        .map_err(|e| provider_user_error(&e))?;
        Ok(seen.status)
    }

    pub async fn get(&self, id: i64) -> Result<Option<orders::Model>, DbErr> {
        orders::Entity::find_by_id(id).one(&self.reader).await
    }

    pub async fn by_external_id(
        &self,
        provider: ProviderId,
        external_id: &str,
    ) -> Result<Option<orders::Model>, DbErr> {
        orders::Entity::find()
            .filter(orders::Column::Provider.eq(provider.as_str()))
            .filter(orders::Column::ExternalId.eq(external_id))
            .one(&self.db)
            .await
    }

    /// A page of the newest-first list: ids strictly between the window's bounds, `n` of
    /// them from its newest end (Relay's `first`) or its oldest end (`last`), returned
    /// newest first, and whether more lie beyond the end taken from.
    pub async fn items(&self, order_id: i64) -> Result<Vec<order_item::Model>, DbErr> {
        order_item::Entity::find()
            .filter(order_item::Column::OrderId.eq(order_id))
            .order_by_asc(order_item::Column::Id)
            .all(&self.db)
            .await
    }

    /// Applied events after `after_id`, oldest first: the replay of a resuming subscriber.
    pub async fn events_after(
        &self,
        after_id: i64,
        limit: u64,
    ) -> Result<Vec<order_event::Model>, DbErr> {
        order_event::Entity::find()
            .filter(order_event::Column::Id.gt(after_id))
            .filter(order_event::Column::Applied.eq(true))
            .order_by_asc(order_event::Column::Id)
            .limit(limit)
            .all(&self.reader)
            .await
    }

    /// Orders of `provider` the platform may still move, for the status poller.
    pub async fn in_flight(&self, provider: ProviderId) -> Result<Vec<orders::Model>, DbErr> {
        let open: Vec<&str> = OrderStatus::ALL
            .into_iter()
            .filter(|s| !s.is_terminal())
            .map(|s| s.as_str())
            .collect();
        orders::Entity::find()
            .filter(orders::Column::Provider.eq(provider.as_str()))
            .filter(orders::Column::Status.is_in(open))
            .filter(orders::Column::ExternalId.is_not_null())
            .order_by_asc(orders::Column::Id)
            .all(&self.db)
            .await
    }

    /// Cancels on the platform where it has a cancel API (courier networks, with the penalty
    /// they keep); otherwise a user error says how cancellation works there.
    pub async fn cancel(
        &self,
        id: i64,
        reason_id: Option<i64>,
        reason: Option<String>,
    ) -> Result<(orders::Model, Option<crate::domain::Money>), OrderError> {
        let order = self.get(id).await?.ok_or_else(|| {
            UserError::new(&["orderId"], UserErrorCode::NotFound, "no such order")
        })?;
        if order.kind == crate::domain::OrderKind::Delivery.as_str() {
            let (order, penalty) = self.cancel_delivery(id, reason_id, reason).await?;
            return Ok((order, Some(penalty)));
        }
        if order.direction == crate::domain::Direction::Inbound.as_str() {
            let order = self.work_inbound(id, InboundAction::Cancel, reason).await?;
            return Ok((order, None));
        }
        let provider = order.provider.parse::<ProviderId>().ok();
        let name = provider
            .and_then(|p| self.registry.info(p))
            .map(|i| i.name)
            .unwrap_or("this provider");
        Err(UserError::new(
            &["orderId"],
            UserErrorCode::UnsupportedByProvider,
            format!(
                "{name} has no cancel API for channel orders: cancel on the platform; the cancellation reaches this order through the platform's notification"
            ),
        )
        .into())
    }
}

impl OrderService {
    /// Whether an event with this id was ever recorded (a resume point must be one).
    pub async fn event_exists(&self, id: i64) -> Result<bool, DbErr> {
        Ok(order_event::Entity::find_by_id(id)
            .one(&self.reader)
            .await?
            .is_some())
    }

    /// The newest event id (0 with none): where a fresh subscription starts.
    pub async fn last_event_id(&self) -> Result<i64, DbErr> {
        Ok(order_event::Entity::find()
            .order_by_desc(order_event::Column::Id)
            .limit(1)
            .one(&self.reader)
            .await?
            .map_or(0, |e| e.id))
    }
}

impl OrderService {
    /// The `order_event` row recording `change`, written by this instance.
    fn event_row(
        &self,
        change: &crate::events::StatusChange,
        applied: bool,
        recorded_at: chrono::DateTime<chrono::Utc>,
    ) -> order_event::ActiveModel {
        use sea_orm::ActiveValue::Set;
        order_event::ActiveModel {
            order_id: Set(change.order_id),
            provider: Set(change.provider.as_str().to_owned()),
            from_status: Set(change.from.map(|s| s.as_str().to_owned())),
            to_status: Set(change.to.as_str().to_owned()),
            raw_status: Set(change.raw_status.clone()),
            source: Set(change.source.as_str().to_owned()),
            applied: Set(applied),
            detail: Set(change.detail.clone()),
            occurred_at: Set(change.occurred_at),
            recorded_at: Set(recorded_at),
            kind: Set(change.kind.as_str().to_owned()),
            origin: Set(Some(self.bus.instance().to_owned())),
            ..Default::default()
        }
    }

    /// Writes `change` as an `order_event` row in the caller's transaction and, when it
    /// moved the order, queues its cross-instance notification. The caller commits right
    /// after (an applied event holds the event-order lock until then). Returns the change with its
    /// event id, to publish once the transaction has committed.
    async fn record_event(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        mut change: crate::events::StatusChange,
        applied: bool,
    ) -> Result<crate::events::StatusChange, DbErr> {
        use sea_orm::ActiveModelTrait;
        if applied {
            // Before the id is drawn: applied ids must commit in id order (resume points).
            crate::events::pg::order_event_commit(txn).await?;
        }
        let row = self
            .event_row(&change, applied, chrono::Utc::now())
            .insert(txn)
            .await?;
        change.event_id = row.id;
        steps::mark(txn, &change, applied).await?;
        if applied {
            crate::events::pg::notify(txn, &self.bus, row.id).await?;
        }
        Ok(change)
    }

    /// [`Self::record_event`] for several applied changes of different orders at once: one
    /// insert, one notification statement. Returns the changes with their event ids.
    async fn record_applied_events(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        changes: Vec<crate::events::StatusChange>,
    ) -> Result<Vec<crate::events::StatusChange>, DbErr> {
        if changes.is_empty() {
            return Ok(changes);
        }
        crate::events::pg::order_event_commit(txn).await?;
        let now = chrono::Utc::now();
        let rows = changes.iter().map(|c| self.event_row(c, true, now));
        let inserted = order_event::Entity::insert_many(rows)
            .exec_with_returning(txn)
            .await?;
        // One event per order here: match the rows back by order.
        let ids: std::collections::HashMap<i64, i64> =
            inserted.iter().map(|e| (e.order_id, e.id)).collect();
        let mut out = Vec::with_capacity(changes.len());
        for mut change in changes {
            change.event_id = *ids.get(&change.order_id).ok_or_else(|| {
                DbErr::RecordNotFound(format!("event of order {}", change.order_id))
            })?;
            steps::mark(txn, &change, true).await?;
            out.push(change);
        }
        let mut event_ids: Vec<i64> = out.iter().map(|c| c.event_id).collect();
        event_ids.sort_unstable();
        crate::events::pg::notify_many(txn, &self.bus, &event_ids).await?;
        Ok(out)
    }
}
