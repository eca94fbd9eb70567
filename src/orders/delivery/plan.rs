//! Automatic dispatch (`dispatchDelivery(strategy: AUTO)`): the shop's policy decides. Every
//! network and company it allows is quoted at once, the quotes are ranked by its strategy,
//! and a persisted plan keeps the ranking, the next candidate, the tip raised so far and when
//! to look again. The first candidate (the first few when racing) is dispatched at once; the
//! driver (`driver.rs`) takes it from there. Each attempt is a delivery order of its own,
//! linked to the plan; attempt n > 1 carries the plan's reference with `-n`. An attempt is
//! priced again by its network right before it goes out and dispatched from that quote, so
//! what it costs is what was checked against the policy's fee cap.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{delivery_quote, dispatch_plan, orders};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};

use super::{
    DeliveryInput, DispatchDelivery, DispatchSource,
    policy::{Policy, Strategy},
};
use crate::domain::{EventKind, GeoPoint, Money, OrderKind, PhoneNumber, ProviderId};
use crate::orders::{OrderError, OrderFilter, OrderService, UserError, UserErrorCode};

pub const ACTIVE: &str = "ACTIVE";
pub const WON: &str = "WON";
pub const FAILED: &str = "FAILED";

/// One network (or company) the plan may dispatch to, as quoted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub network: String,
    pub company: Option<String>,
    /// The store on that network.
    pub shop_id: i64,
    pub fee_fen: i64,
    pub dispatch_minutes: Option<i64>,
    pub quote_id: i64,
}

impl Candidate {
    /// How it reads in a timeline line.
    pub fn label(&self) -> String {
        match &self.company {
            Some(c) => format!("{}/{c}", self.network),
            None => self.network.clone(),
        }
    }
}

/// The delivery as the plan keeps it (plain fields; the shop and company are each
/// candidate's).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct PlanRequest {
    receiver_name: String,
    receiver_phone: String,
    receiver_address: String,
    receiver_location: Option<(f64, f64)>,
    city_code: Option<String>,
    cargo_price_fen: i64,
    cargo_weight_kg: String,
    prepaid: bool,
    tips_fen: i64,
    note: Option<String>,
    publish_at: Option<DateTime<Utc>>,
    /// The policy's fee cap when the plan was made: every attempt is priced again right
    /// before it goes out and must still be under it (tips the plan raised aside).
    #[serde(default)]
    fee_cap_fen: Option<i64>,
}

impl PlanRequest {
    fn of(input: &DeliveryInput, fee_cap: Option<Money>) -> Self {
        Self {
            receiver_name: input.receiver_name.clone(),
            receiver_phone: input.receiver_phone.to_string(),
            receiver_address: input.receiver_address.clone(),
            receiver_location: input.receiver_location.map(|p| (p.lng, p.lat)),
            city_code: input.city_code.clone(),
            cargo_price_fen: input.cargo_price.fen(),
            cargo_weight_kg: input.cargo_weight_kg.to_string(),
            prepaid: input.prepaid,
            tips_fen: input.tips.fen(),
            note: input.note.clone(),
            publish_at: input.publish_at,
            fee_cap_fen: fee_cap.map(|m| m.fen()),
        }
    }

    fn input(&self, c: &Candidate, origin_id: String) -> Result<DeliveryInput, DbErr> {
        let bad = |what: &str| DbErr::Custom(format!("plan request: {what}"));
        Ok(DeliveryInput {
            shop_id: c.shop_id,
            receiver_name: self.receiver_name.clone(),
            receiver_phone: PhoneNumber::parse(&self.receiver_phone).map_err(|_| bad("phone"))?,
            receiver_address: self.receiver_address.clone(),
            receiver_location: self
                .receiver_location
                .map(|(lng, lat)| GeoPoint { lng, lat }),
            // The other network's store has its own city code.
            city_code: None,
            cargo_price: Money::from_fen(self.cargo_price_fen),
            cargo_weight_kg: self
                .cargo_weight_kg
                .parse::<Decimal>()
                .map_err(|_| bad("weight"))?,
            prepaid: self.prepaid,
            tips: Money::from_fen(self.tips_fen),
            note: self.note.clone(),
            publish_at: self.publish_at,
            origin_id: Some(origin_id),
            company: c.company.clone(),
        })
    }
}

/// The candidates of a plan, ranked by `strategy`.
pub fn rank(
    mut candidates: Vec<Candidate>,
    policy: &Policy,
    scores: &[(String, Option<String>, f64, Option<i64>)],
) -> Vec<Candidate> {
    let minutes = |c: &Candidate| c.dispatch_minutes.unwrap_or(i64::MAX);
    match policy.strategy {
        Strategy::Cheapest => candidates.sort_by_key(|c| (c.fee_fen, minutes(c), c.quote_id)),
        Strategy::Fastest => candidates.sort_by_key(|c| (minutes(c), c.fee_fen, c.quote_id)),
        Strategy::Preferred => candidates.sort_by_key(|c| {
            let network = c.network.parse().unwrap_or(ProviderId::Dada);
            (
                policy.preference(network, c.company.as_deref()),
                c.fee_fen,
                c.quote_id,
            )
        }),
        Strategy::Scorecard => {
            // Best acceptance rate first (in thousandths), then the median time to accept;
            // networks without history after those with, then the fee.
            let score = |c: &Candidate| {
                scores
                    .iter()
                    .find(|(n, co, ..)| *n == c.network && *co == c.company)
                    .map_or((1, 0, i64::MAX), |(_, _, rate, median)| {
                        (
                            0,
                            -((rate * 1000.0).round() as i64),
                            median.unwrap_or(i64::MAX),
                        )
                    })
            };
            candidates.sort_by_key(|c| (score(c), c.fee_fen, c.quote_id));
        }
    }
    candidates
}

/// The plan's attempt orders, oldest first.
pub async fn attempts(
    db: &impl sea_orm::ConnectionTrait,
    plan_id: i64,
) -> Result<Vec<orders::Model>, DbErr> {
    orders::Entity::find()
        .filter(orders::Column::PlanId.eq(plan_id))
        .order_by_asc(orders::Column::Id)
        .all(db)
        .await
}

impl OrderService {
    /// Dispatches by the shop's policy: quotes everywhere it allows, ranks, keeps the plan,
    /// dispatches the first candidate (the first `race_width` when racing). Returns the
    /// first attempt. Idempotent by `originId`: the same reference at the same shop returns
    /// the plan's first attempt.
    #[tracing::instrument(skip_all, fields(shop_id = input.shop_id))]
    pub async fn dispatch_auto(
        &self,
        mut input: DeliveryInput,
    ) -> Result<orders::Model, OrderError> {
        let policy = self.policy(input.shop_id).await?.ok_or_else(|| {
            UserError::new(
                &["delivery", "shopId"],
                UserErrorCode::InvalidInput,
                "this shop has no dispatch policy: set one with setDispatchPolicy",
            )
        })?;
        if let Some(origin) = &input.origin_id
            && let Some(plan) = dispatch_plan::Entity::find()
                .filter(dispatch_plan::Column::ShopId.eq(input.shop_id))
                .filter(dispatch_plan::Column::OriginId.eq(origin.as_str()))
                .one(&self.db)
                .await?
            && let Some(first) = attempts(&self.db, plan.id).await?.into_iter().next()
        {
            return Ok(first);
        }
        input.company = None;
        let origin_id = input
            .origin_id
            .clone()
            .unwrap_or_else(|| self.new_origin_id());
        input.origin_id = Some(origin_id.clone());
        let quoted = self.quote_delivery(input.clone()).await?;
        let candidates: Vec<Candidate> = quoted.quotes.iter().map(candidate).collect();
        let scores = if policy.strategy == Strategy::Scorecard {
            self.recent_scores(&candidates).await?
        } else {
            Vec::new()
        };
        let candidates = rank(candidates, &policy, &scores);
        let now = Utc::now();
        let plan = dispatch_plan::ActiveModel {
            shop_id: Set(input.shop_id),
            state: Set(ACTIVE.into()),
            strategy: Set(policy.strategy.as_str().into()),
            origin_id: Set(origin_id),
            request: Set(
                serde_json::to_string(&PlanRequest::of(&input, policy.fee_cap))
                    .map_err(|e| DbErr::Custom(e.to_string()))?,
            ),
            candidates: Set(
                serde_json::to_string(&candidates).map_err(|e| DbErr::Custom(e.to_string()))?
            ),
            next_candidate: Set(0),
            race: Set(policy.race),
            race_width: Set(policy.race_width),
            tip_step_fen: Set(policy.tips.map_or(0, |t| t.step.fen())),
            tip_interval_secs: Set(policy.tips.map_or(0, |t| t.interval_secs)),
            tip_cap_fen: Set(policy.tips.map_or(0, |t| t.cap.fen())),
            tip_fen: Set(0),
            switch_after_secs: Set(policy.switch_after_secs),
            winner_order_id: Set(None),
            step_started_at: Set(now),
            last_tip_at: Set(now),
            next_step_at: Set(None),
            claimed_by: Set(None),
            claimed_until: Set(None),
            detail: Set(None),
            penalty_fen: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        let width = round_width(&plan);
        let summary = candidates
            .iter()
            .map(|c| format!("{} {}", c.label(), Money::from_fen(c.fee_fen)))
            .collect::<Vec<_>>()
            .join(", ");
        let (first, plan) = self
            .dispatch_next(
                &plan,
                width,
                EventKind::DispatchPlanned,
                &format!(
                    "{} plan: {summary}",
                    policy.strategy.as_str().to_lowercase()
                ),
            )
            .await?;
        first.ok_or_else(|| {
            UserError::new(
                &["delivery"],
                UserErrorCode::PlatformRejected,
                format!(
                    "no network of the policy took the delivery: {}",
                    plan.detail.as_deref().unwrap_or("no candidate")
                ),
            )
            .into()
        })
    }

    /// Dispatches up to `width` further candidates of `plan` (skipping any that refuse),
    /// marks each attempt with a `kind` event, and moves the plan on. Returns the first
    /// attempt dispatched and the plan as written.
    pub(in crate::orders) async fn dispatch_next(
        &self,
        plan: &dispatch_plan::Model,
        width: usize,
        kind: EventKind,
        detail: &str,
    ) -> Result<(Option<orders::Model>, dispatch_plan::Model), OrderError> {
        let candidates: Vec<Candidate> = serde_json::from_str(&plan.candidates)
            .map_err(|e| DbErr::Custom(format!("plan {}: {e}", plan.id)))?;
        let request: PlanRequest = serde_json::from_str(&plan.request)
            .map_err(|e| DbErr::Custom(format!("plan {}: {e}", plan.id)))?;
        let start = usize::try_from(plan.next_candidate)
            .unwrap_or(usize::MAX)
            .min(candidates.len());
        let mut first = None;
        let mut dispatched = 0;
        let mut refusals = Vec::new();
        let (mut consumed, mut deferred) = (Vec::new(), Vec::new());
        let mut rest = candidates[start..].iter().cloned();
        // Until an attempt is out (a candidate that refuses gives way to the next).
        while dispatched == 0 {
            let round = self.pick_round(&mut rest, &mut deferred, width);
            if round.is_empty() {
                break;
            }
            // The round's attempts go out at once: each one's courier starts looking at the
            // same moment.
            let base = start + consumed.len();
            let sent = futures::future::join_all(round.iter().enumerate().map(|(i, c)| {
                let n = base + i + 1;
                let origin = if n == 1 {
                    plan.origin_id.clone()
                } else {
                    format!("{}-{n}", plan.origin_id)
                };
                let request = &request;
                async move {
                    let mut input = request.input(c, origin)?;
                    input.tips = Money::from_fen(request.tips_fen + plan.tip_fen);
                    self.dispatch_attempt(input, request, plan.tip_fen).await
                }
            }))
            .await;
            // Every attempt that went out is linked to the plan before any error is
            // returned: an attempt left unlinked would never be cancelled.
            let mut failure = None;
            for (c, outcome) in round.iter().zip(sent) {
                match outcome {
                    Ok(order) => {
                        let linked = self
                            .note_event(
                                order.id,
                                kind,
                                format!("{detail} → {}", c.label()),
                                |am, _| {
                                    am.plan_id = Set(Some(plan.id));
                                },
                            )
                            .await;
                        match linked {
                            Ok(order) => {
                                dispatched += 1;
                                first.get_or_insert(order);
                            }
                            Err(e) => failure = Some(e),
                        }
                    }
                    Err(OrderError::User(e)) => refusals.push(format!(
                        "{}: {}",
                        c.label(),
                        e.first().map_or("refused", |e| e.message.as_str())
                    )),
                    Err(e) => failure = Some(e),
                }
            }
            consumed.extend(round);
            if let Some(e) = failure {
                return Err(e);
            }
        }
        let next = start + consumed.len();
        let reordered: Vec<Candidate> = candidates[..start]
            .iter()
            .cloned()
            .chain(consumed)
            .chain(deferred)
            .chain(rest)
            .collect();
        let now = Utc::now();
        let mut am: dispatch_plan::ActiveModel = plan.clone().into();
        am.next_candidate = Set(i32::try_from(next).unwrap_or(i32::MAX));
        if reordered != candidates {
            am.candidates = Set(serde_json::to_string(&reordered)
                .map_err(|e| DbErr::Custom(format!("plan {}: {e}", plan.id)))?);
        }
        am.step_started_at = Set(now);
        am.updated_at = Set(now);
        if !refusals.is_empty() {
            am.detail = Set(Some(refusals.join("; ")));
        }
        if dispatched == 0 {
            am.state = Set(FAILED.into());
            am.next_step_at = Set(None);
        } else {
            let moved = dispatch_plan::Model {
                next_candidate: i32::try_from(next).unwrap_or(i32::MAX),
                step_started_at: now,
                ..plan.clone()
            };
            am.next_step_at = Set(super::driver::next_due(&moved, next < candidates.len()));
        }
        let plan = am.update(&self.db).await?;
        Ok((first, plan))
    }

    /// The next round's candidates from `rest`: up to `width`, of which at most one would
    /// cost to cancel once accepted, so whichever accepts, every other attempt can be
    /// cancelled free. A candidate that would be a second such one goes to `deferred`, to
    /// wait for a later round in its order.
    fn pick_round(
        &self,
        rest: &mut impl Iterator<Item = Candidate>,
        deferred: &mut Vec<Candidate>,
        width: usize,
    ) -> Vec<Candidate> {
        let mut round = Vec::new();
        // Candidates put off by an earlier round come first, in their order.
        let mut waiting = std::mem::take(deferred).into_iter();
        let mut bound = false;
        while round.len() < width {
            let Some(c) = waiting.next().or_else(|| rest.next()) else {
                break;
            };
            let free = self.cancel_window(&c).is_some();
            if !free && bound {
                deferred.push(c);
                continue;
            }
            bound |= !free;
            round.push(c);
        }
        deferred.extend(waiting);
        round
    }

    /// Sends one attempt out: priced again by its network now (the plan's quote may have
    /// expired, and prices move), refused when that price is over the plan's fee cap, and
    /// dispatched from that fresh quote, so the fee paid is the fee just checked.
    async fn dispatch_attempt(
        &self,
        input: DeliveryInput,
        request: &PlanRequest,
        tips_raised_fen: i64,
    ) -> Result<orders::Model, OrderError> {
        let company = input.company.clone();
        let quoted = self.quote_here(input).await?;
        let quote = quoted
            .quotes
            .iter()
            .find(|q| q.company == company)
            .ok_or_else(|| {
                UserError::new(
                    &["delivery"],
                    UserErrorCode::PlatformRejected,
                    "the network gave no price",
                )
            })?;
        if let Some(cap) = request.fee_cap_fen
            && quote.fee_fen - tips_raised_fen > cap
        {
            return Err(UserError::new(
                &["delivery", "feeCap"],
                UserErrorCode::InvalidInput,
                format!(
                    "now priced {}, above the policy's fee cap {}",
                    Money::from_fen(quote.fee_fen - tips_raised_fen),
                    Money::from_fen(cap)
                ),
            )
            .into());
        }
        self.dispatch_delivery(DispatchDelivery {
            source: DispatchSource::Quote(quote.id),
            idempotency_key: None,
        })
        .await
    }

    /// Acceptance rate and median time to accept per network and company over the last
    /// 30 days of deliveries in the candidates' cities.
    async fn recent_scores(
        &self,
        _candidates: &[Candidate],
    ) -> Result<Vec<(String, Option<String>, f64, Option<i64>)>, DbErr> {
        let filter = OrderFilter {
            kind: Some(OrderKind::Delivery),
            created_from: Some(Utc::now() - TimeDelta::days(30)),
            ..Default::default()
        };
        Ok(self
            .scorecard(&filter)
            .await?
            .into_iter()
            .map(|s| {
                let rate = if s.deliveries > 0 {
                    s.accepted as f64 / s.deliveries as f64
                } else {
                    0.0
                };
                (s.network, s.company, rate, s.median_accept_secs)
            })
            .collect())
    }
}

/// How many attempts a round of `plan` sends at once.
pub(super) fn round_width(plan: &dispatch_plan::Model) -> usize {
    if plan.race {
        usize::try_from(plan.race_width).unwrap_or(1).max(1)
    } else {
        1
    }
}

/// A quote as a plan candidate.
fn candidate(q: &delivery_quote::Model) -> Candidate {
    Candidate {
        network: q.provider.clone(),
        company: q.company.clone(),
        shop_id: q.shop_id,
        fee_fen: q.fee_fen,
        dispatch_minutes: q.dispatch_minutes,
        quote_id: q.id,
    }
}
