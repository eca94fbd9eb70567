//! Dispatch policies: per shop, how an automatic dispatch chooses among courier networks.
//! The strategy ranks the quotes (cheapest, fastest, the shop's preferred order, best
//! scorecard); the networks and companies listed are the only ones used (in that order for
//! `PREFERRED`); the linked shops are the same store on other networks, so one request can
//! be quoted everywhere; a fee cap drops dearer quotes; tips escalate by a step every
//! interval up to a cap; after `switch_after_secs` an unaccepted delivery moves to the next
//! network; `race` lets several networks be asked at once (`race_width` of them).

use chrono::Utc;
use entity::dispatch_policy;
use sea_orm::{ActiveValue::Set, DbErr, EntityTrait, sea_query::OnConflict};
use serde::{Deserialize, Serialize};

use crate::domain::{Money, ProviderId};
use crate::orders::{OrderError, OrderService, UserError, UserErrorCode};

/// How an automatic dispatch ranks the networks it can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// The lowest total fee first.
    Cheapest,
    /// The shortest expected time to a courier first (then the fee).
    Fastest,
    /// The policy's order of networks and companies.
    Preferred,
    /// The best acceptance rate over the last 30 days in the store's city first (then the
    /// median time to accept, then the fee).
    Scorecard,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cheapest => "CHEAPEST",
            Self::Fastest => "FASTEST",
            Self::Preferred => "PREFERRED",
            Self::Scorecard => "SCORECARD",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "CHEAPEST" => Self::Cheapest,
            "FASTEST" => Self::Fastest,
            "PREFERRED" => Self::Preferred,
            "SCORECARD" => Self::Scorecard,
            _ => return None,
        })
    }
}

/// A network, or one company on a network of several.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkChoice {
    pub network: ProviderId,
    /// None: every company of the network.
    pub company: Option<String>,
}

impl NetworkChoice {
    /// Whether a quote of `network` by `company` is this choice.
    pub fn covers(&self, network: ProviderId, company: Option<&str>) -> bool {
        self.network == network && self.company.as_deref().is_none_or(|c| Some(c) == company)
    }
}

/// A choice as stored (the network by its name).
#[derive(Serialize, Deserialize)]
struct StoredChoice {
    network: String,
    company: Option<String>,
}

/// Raise the tip by `step` every `interval_secs` while nobody accepts, up to `cap` in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TipEscalation {
    pub step: Money,
    pub interval_secs: i64,
    pub cap: Money,
}

/// A shop's policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub shop_id: i64,
    pub strategy: Strategy,
    /// Allowed networks and companies, in preferred order; empty = every one reachable.
    pub networks: Vec<NetworkChoice>,
    /// The same store on other networks.
    pub linked_shops: Vec<i64>,
    pub fee_cap: Option<Money>,
    pub tips: Option<TipEscalation>,
    pub switch_after_secs: Option<i64>,
    pub race: bool,
    /// Attempts a race sends at once ([`RACE_WIDTHS`]).
    pub race_width: i32,
    pub updated_at: chrono::DateTime<Utc>,
}

/// The widths a race may have; 3 unless the policy says otherwise.
pub const RACE_WIDTHS: std::ops::RangeInclusive<i32> = 2..=5;
pub const DEFAULT_RACE_WIDTH: i32 = 3;

impl Policy {
    /// Whether a quote of `network` by `company` may be used.
    pub fn allows(&self, network: ProviderId, company: Option<&str>) -> bool {
        self.networks.is_empty() || self.networks.iter().any(|c| c.covers(network, company))
    }

    /// Where a quote of `network` by `company` stands in the preferred order (unlisted last).
    pub fn preference(&self, network: ProviderId, company: Option<&str>) -> usize {
        self.networks
            .iter()
            .position(|c| c.covers(network, company))
            .unwrap_or(self.networks.len())
    }

    fn from_row(row: dispatch_policy::Model) -> Result<Self, DbErr> {
        let bad = |what: &str| DbErr::Custom(format!("dispatch policy {}: {what}", row.shop_id));
        let tips = (row.tip_step_fen > 0).then_some(TipEscalation {
            step: Money::from_fen(row.tip_step_fen),
            interval_secs: row.tip_interval_secs,
            cap: Money::from_fen(row.tip_cap_fen),
        });
        Ok(Self {
            shop_id: row.shop_id,
            strategy: Strategy::parse(&row.strategy).ok_or_else(|| bad("strategy"))?,
            networks: serde_json::from_str::<Vec<StoredChoice>>(&row.networks)
                .map_err(|_| bad("networks"))?
                .into_iter()
                .map(|c| {
                    Ok(NetworkChoice {
                        network: c.network.parse().map_err(|_| bad("network"))?,
                        company: c.company,
                    })
                })
                .collect::<Result<_, DbErr>>()?,
            linked_shops: serde_json::from_str(&row.linked_shops)
                .map_err(|_| bad("linked shops"))?,
            fee_cap: row.fee_cap_fen.map(Money::from_fen),
            tips,
            switch_after_secs: row.switch_after_secs,
            race: row.race,
            race_width: row.race_width,
            updated_at: row.updated_at,
        })
    }
}

fn refuse(field: &[&str], message: impl Into<String>) -> OrderError {
    UserError::new(field, UserErrorCode::InvalidInput, message).into()
}

impl OrderService {
    /// The policy of `shop_id`, if it has one.
    pub async fn policy(&self, shop_id: i64) -> Result<Option<Policy>, DbErr> {
        dispatch_policy::Entity::find_by_id(shop_id)
            .one(&self.db)
            .await?
            .map(Policy::from_row)
            .transpose()
    }

    /// Sets (creates or replaces) a shop's policy after checking it: the shop and the linked
    /// shops are stores of courier networks, one per network; every network listed has one of
    /// them; tip escalation and the switch time are positive.
    pub async fn set_policy(&self, mut policy: Policy) -> Result<Policy, OrderError> {
        let (_, home) = self.store_of(policy.shop_id).await?;
        self.courier_or_refuse(home, &["shopId"])?;
        let mut networks = vec![home];
        for (i, id) in policy.linked_shops.iter().enumerate() {
            let field = ["linkedShopIds".to_owned(), i.to_string()];
            let field: Vec<&str> = field.iter().map(String::as_str).collect();
            let (_, network) = self
                .store_of(*id)
                .await
                .map_err(|_| refuse(&field, "no such shop"))?;
            self.courier_or_refuse(network, &field)?;
            if networks.contains(&network) {
                return Err(refuse(
                    &field,
                    format!(
                        "a store on {network} is already in this policy: one store per network"
                    ),
                ));
            }
            networks.push(network);
        }
        for (i, choice) in policy.networks.iter_mut().enumerate() {
            choice.company = choice
                .company
                .take()
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty());
            if !networks.contains(&choice.network) {
                let i = i.to_string();
                return Err(refuse(
                    &["networks", &i, "network"],
                    format!(
                        "no store of this policy is on {}: link one with linkedShopIds",
                        choice.network
                    ),
                ));
            }
        }
        if let Some(t) = policy.tips
            && (t.step.fen() <= 0 || t.interval_secs <= 0 || t.cap.fen() < t.step.fen())
        {
            return Err(refuse(
                &["tipEscalation"],
                "a tip step and interval above zero, and a cap of at least one step",
            ));
        }
        if policy.switch_after_secs.is_some_and(|s| s <= 0) {
            return Err(refuse(&["switchAfterSeconds"], "must be above zero"));
        }
        if policy.fee_cap.is_some_and(|c| c.fen() <= 0) {
            return Err(refuse(&["feeCap"], "must be above zero"));
        }
        if !RACE_WIDTHS.contains(&policy.race_width) {
            return Err(refuse(
                &["raceWidth"],
                format!(
                    "a race sends {} to {} attempts at once",
                    RACE_WIDTHS.start(),
                    RACE_WIDTHS.end()
                ),
            ));
        }
        policy.updated_at = Utc::now();
        let row = dispatch_policy::ActiveModel {
            shop_id: Set(policy.shop_id),
            strategy: Set(policy.strategy.as_str().to_owned()),
            networks: Set(json(
                &policy
                    .networks
                    .iter()
                    .map(|c| StoredChoice {
                        network: c.network.as_str().to_owned(),
                        company: c.company.clone(),
                    })
                    .collect::<Vec<_>>(),
            )),
            linked_shops: Set(json(&policy.linked_shops)),
            fee_cap_fen: Set(policy.fee_cap.map(|m| m.fen())),
            tip_step_fen: Set(policy.tips.map_or(0, |t| t.step.fen())),
            tip_interval_secs: Set(policy.tips.map_or(0, |t| t.interval_secs)),
            tip_cap_fen: Set(policy.tips.map_or(0, |t| t.cap.fen())),
            switch_after_secs: Set(policy.switch_after_secs),
            race: Set(policy.race),
            race_width: Set(policy.race_width),
            updated_at: Set(policy.updated_at),
        };
        dispatch_policy::Entity::insert(row)
            .on_conflict(
                OnConflict::column(dispatch_policy::Column::ShopId)
                    .update_columns([
                        dispatch_policy::Column::Strategy,
                        dispatch_policy::Column::Networks,
                        dispatch_policy::Column::LinkedShops,
                        dispatch_policy::Column::FeeCapFen,
                        dispatch_policy::Column::TipStepFen,
                        dispatch_policy::Column::TipIntervalSecs,
                        dispatch_policy::Column::TipCapFen,
                        dispatch_policy::Column::SwitchAfterSecs,
                        dispatch_policy::Column::Race,
                        dispatch_policy::Column::RaceWidth,
                        dispatch_policy::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(policy)
    }

    /// Removes a shop's policy; refused when it has none.
    pub async fn delete_policy(&self, shop_id: i64) -> Result<(), OrderError> {
        let done = dispatch_policy::Entity::delete_by_id(shop_id)
            .exec(&self.db)
            .await?;
        if done.rows_affected == 0 {
            return Err(UserError::new(
                &["shopId"],
                UserErrorCode::NotFound,
                "this shop has no dispatch policy",
            )
            .into());
        }
        Ok(())
    }
}

/// JSON text of one of the policy's lists (plain data: serializing cannot fail).
fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}
