//! `orderhub seed`: a year (or any span) of synthetic order history for analytics and its
//! benchmarks, written straight to the database in batches: the four providers in realistic
//! shares, service appointments and courier deliveries through their unified statuses with a
//! timeline event for each step (accept, pick-up, completion, cancellation), amounts, fees,
//! tips and penalties, cities, courier companies, customers. Every seeded event carries
//! `detail = "seed"`, so seeded history is never mistaken for platform news. Deterministic
//! for a given `seed`.

use chrono::{DateTime, Duration, Utc};
use entity::{order_event, orders};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct SeedPlan {
    pub orders: u64,
    /// The span orders are created in, ending a day ago (so every timeline has ended).
    pub days: u32,
    pub seed: u64,
}

/// What was written.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seeded {
    pub orders: u64,
    pub events: u64,
}

const BATCH: usize = 400;
const CITIES: &[(&str, u32)] = &[("上海", 35), ("北京", 30), ("杭州", 20), ("广州", 15)];
const COMPANIES: &[&str] = &["SFTC", "MTPS", "SS"];
const SURNAMES: &[&str] = &["张", "王", "李", "赵", "刘", "陈", "杨", "黄"];
const GIVEN: &[&str] = &["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军"];
const CANCEL_REASONS: &[&str] = &["用户取消", "没有骑手接单", MERCHANT_CANCEL, "地址错误"];
/// The reason the merchant gives when it cancels (through the API) in the seeded history.
const MERCHANT_CANCEL: &str = "商家取消";
/// What each network or company charges per kilometre, about (fen).
const FEN_PER_KM: &[(&str, i64)] = &[("DADA", 180), ("SFTC", 240), ("MTPS", 200), ("SS", 220)];

fn weighted<'a>(rng: &mut StdRng, table: &'a [(&'a str, u32)]) -> &'a str {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (v, w) in table {
        if pick < *w {
            return v;
        }
        pick -= w;
    }
    table[0].0
}

/// A duration of about `median` minutes, skewed long (a log-normal-like spread).
fn minutes(rng: &mut StdRng, median: f64) -> Duration {
    let spread: f64 = rng.random_range(-1.0..1.0f64) + rng.random_range(-1.0..1.0f64);
    let m = (median * (spread * 0.6).exp()).max(0.2);
    Duration::seconds((m * 60.0) as i64)
}

/// One order's steps: (unified status, raw status, after how long since creation).
type Steps = Vec<(&'static str, &'static str, Duration)>;

struct Drawn {
    order: orders::ActiveModel,
    steps: Steps,
}

/// The platform's raw status for a unified one (each platform's own codes).
fn raw(provider: &str, status: &'static str) -> &'static str {
    match (provider, status) {
        ("DADA", "PENDING") => "1",
        ("DADA", "ACCEPTED") => "2",
        ("DADA", "IN_PROGRESS") => "3",
        ("DADA", "COMPLETED") => "4",
        ("DADA", "CANCELLED") => "5",
        ("WECHAT", "PENDING") => "101",
        ("WECHAT", "ACCEPTED") => "102",
        ("WECHAT", "IN_PROGRESS") => "202",
        ("WECHAT", "COMPLETED") => "302",
        ("WECHAT", "CANCELLED") => "401",
        ("DAOWAY", "PENDING") => "PENDING_CONFIRM",
        ("DAOWAY", "ACCEPTED") => "CONFIRMED",
        ("DAOWAY", "IN_PROGRESS") => "SERVICING",
        ("DAOWAY", "COMPLETED") => "COMPLETED",
        ("DAOWAY", "CANCELLED") => "CANCELLED",
        (_, s) => s,
    }
}

fn draw(rng: &mut StdRng, i: u64, created: DateTime<Utc>) -> Drawn {
    let provider = weighted(
        rng,
        &[
            ("DAOWAY", 25),
            ("DADA", 30),
            ("WECHAT", 25),
            ("DAOJIA58", 20),
        ],
    );
    let delivery = matches!(provider, "DADA" | "WECHAT");
    let mut steps: Steps = vec![("PENDING", raw(provider, "PENDING"), Duration::zero())];
    let roll: u32 = rng.random_range(0..100);
    let accepted = roll >= 5;
    let mut at = Duration::zero();
    let (mut status, mut cancel_reason, mut penalty) = ("PENDING", None, None);
    let mut cancelled_by = None;
    if accepted {
        at += minutes(rng, if delivery { 2.0 } else { 25.0 });
        steps.push(("ACCEPTED", raw(provider, "ACCEPTED"), at));
        status = "ACCEPTED";
    }
    if roll < 5 || (12..18).contains(&roll) {
        // Cancelled: before acceptance (nobody took it), or after (a penalty on deliveries).
        at += minutes(rng, 8.0);
        steps.push(("CANCELLED", raw(provider, "CANCELLED"), at));
        status = "CANCELLED";
        cancel_reason = Some(*CANCEL_REASONS.choose(rng).unwrap_or(&CANCEL_REASONS[0]));
        // The merchant's own cancellations went through our API; the others came from the
        // platform (its courier, the customer, or nobody accepting).
        if cancel_reason == Some(MERCHANT_CANCEL) {
            cancelled_by = Some("MERCHANT");
        } else {
            cancelled_by = Some("PLATFORM");
        }
        if delivery && accepted {
            penalty = Some(rng.random_range(2..8) * 100);
        }
    } else if accepted {
        at += minutes(rng, if delivery { 12.0 } else { 90.0 });
        steps.push(("IN_PROGRESS", raw(provider, "IN_PROGRESS"), at));
        at += minutes(rng, if delivery { 25.0 } else { 120.0 });
        steps.push(("COMPLETED", raw(provider, "COMPLETED"), at));
        status = "COMPLETED";
    }
    let company = (provider == "WECHAT").then(|| *COMPANIES.choose(rng).unwrap_or(&"SFTC"));
    let distance = delivery.then(|| rng.random_range(500..8000i64));
    let fee = distance.map(|d| {
        let rate = FEN_PER_KM
            .iter()
            .find(|(c, _)| *c == company.unwrap_or(provider))
            .map_or(200, |(_, r)| *r);
        500 + d * rate * rng.random_range(90..110) / 100_000
    });
    let tips = (delivery && rng.random_range(0..10) == 0).then(|| rng.random_range(1..6) * 100);
    let total = match fee {
        Some(f) => f + tips.unwrap_or(0),
        None => rng.random_range(80..400) * 100,
    };
    let name = format!(
        "{}{}",
        SURNAMES.choose(rng).unwrap_or(&"张"),
        GIVEN.choose(rng).unwrap_or(&"伟")
    );
    let phone = format!(
        "1{}{:09}",
        ["3", "5", "8"][rng.random_range(0..3)],
        rng.random_range(0..1_000_000_000u64)
    );
    let updated = created + at;
    let secs_to = |status: &str| {
        steps
            .iter()
            .find(|(s, ..)| *s == status)
            .map(|(.., after)| after.num_seconds())
    };
    let order = orders::ActiveModel {
        provider: Set(provider.into()),
        external_id: Set(Some(format!("SEED-{provider}-{i}"))),
        direction: Set(if provider == "DAOJIA58" {
            "INBOUND"
        } else {
            "OUTBOUND"
        }
        .into()),
        kind: Set(if delivery { "DELIVERY" } else { "SERVICE" }.into()),
        status: Set(status.into()),
        raw_status: Set(raw(provider, status).into()),
        contact_person: Set(name),
        phone: Set(phone),
        city: Set(weighted(rng, CITIES).into()),
        street: Set("南京东路100号".into()),
        house: Set(format!("{}室", rng.random_range(101..2000))),
        items_total_fen: Set(if delivery { 0 } else { total }),
        fee_fen: Set(fee.unwrap_or(0)),
        total_fen: Set(total),
        delivery_fee_fen: Set(fee),
        tips_fen: Set(tips),
        penalty_fen: Set(penalty),
        cancel_reason: Set(cancel_reason.map(Into::into)),
        courier_company: Set(company.map(Into::into)),
        distance_m: Set(distance),
        accept_secs: Set(secs_to("ACCEPTED")),
        pick_up_secs: Set(secs_to("IN_PROGRESS")),
        complete_secs: Set(secs_to("COMPLETED")),
        cancelled_by: Set(cancelled_by.map(Into::into)),
        status_at: Set(Some(updated)),
        created_at: Set(created),
        updated_at: Set(updated),
        dispatch_round: Set(i32::from(delivery)),
        ..Default::default()
    };
    Drawn { order, steps }
}

/// The next id of `table` (explicit ids let events name their orders without a read back).
async fn next_id<E: EntityTrait>(db: &DatabaseConnection, id: E::Column) -> Result<i64, DbErr>
where
    E::Model: sea_orm::ModelTrait,
{
    let last: Option<i64> = E::find()
        .select_only()
        .column(id)
        .order_by_desc(id)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(last.unwrap_or(0) + 1)
}

/// How many orders of the database were not written by the seed (real or test orders):
/// seeding mixes synthetic history into them, so the command refuses unless forced.
pub async fn foreign_orders(db: &DatabaseConnection) -> Result<u64, DbErr> {
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    orders::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(orders::Column::ExternalId.is_null())
                .add(orders::Column::ExternalId.not_like("SEED-%")),
        )
        .count(db)
        .await
}

/// Writes the plan's history; on PostgreSQL the id sequences are moved past it after.
pub async fn seed_history(db: &DatabaseConnection, plan: SeedPlan) -> Result<Seeded, DbErr> {
    let mut rng = StdRng::seed_from_u64(plan.seed);
    // Every timeline ends in the past: orders start at least a day before now.
    let now = Utc::now() - Duration::days(1);
    let span_secs = i64::from(plan.days.max(1)) * 86_400;
    let mut order_id = next_id::<orders::Entity>(db, orders::Column::Id).await?;
    let mut event_id = next_id::<order_event::Entity>(db, order_event::Column::Id).await?;
    let mut done = Seeded::default();
    let mut i = 0u64;
    while i < plan.orders {
        let n = (plan.orders - i).min(BATCH as u64);
        let mut rows = Vec::with_capacity(n as usize);
        let mut events = Vec::new();
        for _ in 0..n {
            // Busier in the day than at night (China time).
            let mut created = now - Duration::seconds(rng.random_range(0..span_secs));
            let hour = (created + Duration::hours(8)).format("%H").to_string();
            if matches!(hour.as_str(), "00" | "01" | "02" | "03" | "04" | "05")
                && rng.random_range(0..3) > 0
            {
                created += Duration::hours(9);
            }
            let mut drawn = draw(&mut rng, i, created.min(now));
            drawn.order.id = Set(order_id);
            let provider = match &drawn.order.provider {
                sea_orm::ActiveValue::Set(p) => p.clone(),
                _ => String::new(),
            };
            let merchant_cancelled = matches!(
                &drawn.order.cancelled_by,
                sea_orm::ActiveValue::Set(Some(by)) if by == "MERCHANT"
            );
            let mut from: Option<&str> = None;
            for (status, raw_status, after) in &drawn.steps {
                events.push(order_event::ActiveModel {
                    id: Set(event_id),
                    order_id: Set(order_id),
                    provider: Set(provider.clone()),
                    from_status: Set(from.map(Into::into)),
                    to_status: Set((*status).into()),
                    raw_status: Set((*raw_status).into()),
                    source: Set(match (from, *status) {
                        (None, _) => "CREATE",
                        (_, "CANCELLED") if merchant_cancelled => "API",
                        _ => "CALLBACK",
                    }
                    .into()),
                    applied: Set(true),
                    detail: Set(Some("seed".into())),
                    occurred_at: Set(created + *after),
                    recorded_at: Set(created + *after),
                    kind: Set("STATUS".into()),
                    origin: Set(None),
                });
                from = Some(status);
                event_id += 1;
            }
            rows.push(drawn.order);
            order_id += 1;
            i += 1;
        }
        let txn = db.begin().await?;
        done.events += events.len() as u64;
        orders::Entity::insert_many(rows).exec(&txn).await?;
        for chunk in events.chunks(BATCH) {
            order_event::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        done.orders += n;
    }
    if db.get_database_backend() == DatabaseBackend::Postgres {
        for table in ["orders", "order_event"] {
            db.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .await?;
        }
    }
    Ok(done)
}
