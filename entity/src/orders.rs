//! An order of any platform and kind: unified and raw status, amounts in fen, contact,
//! address, delivery and courier fields.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider: String,
    /// The platform's order id; empty only while the order is being submitted.
    pub external_id: Option<String>,
    pub direction: String,
    pub kind: String,
    /// Unified status (`PENDING`, `ACCEPTED`, …).
    pub status: String,
    /// The platform's own status code or name.
    pub raw_status: String,
    pub shop_id: Option<i64>,
    pub contact_person: String,
    pub phone: String,
    pub city: String,
    pub street: String,
    pub house: String,
    pub note: Option<String>,
    pub appoint_time: Option<DateTimeUtc>,
    pub items_total_fen: i64,
    pub fee_fen: i64,
    pub total_fen: i64,
    pub balance_after_fen: Option<i64>,
    pub cancel_reason: Option<String>,
    /// Platform time of the newest applied status event; older events never regress the order.
    pub status_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The platform's own number for the order when it differs from `external_id` (Dada's
    /// waybill number; `external_id` is then our `origin_id`).
    pub platform_ref: Option<String>,
    pub city_code: Option<String>,
    pub receiver_lng: Option<f64>,
    pub receiver_lat: Option<f64>,
    pub cargo_price_fen: Option<i64>,
    pub cargo_weight_g: Option<i64>,
    pub delivery_fee_fen: Option<i64>,
    pub coupon_fen: Option<i64>,
    pub tips_fen: Option<i64>,
    pub insurance_fen: Option<i64>,
    /// What the platform kept when the order was cancelled.
    pub penalty_fen: Option<i64>,
    pub distance_m: Option<i64>,
    pub courier_id: Option<String>,
    pub courier_name: Option<String>,
    pub courier_phone: Option<String>,
    pub courier_lng: Option<f64>,
    pub courier_lat: Option<f64>,
    pub courier_seen_at: Option<DateTimeUtc>,
    pub finish_code: Option<String>,
    /// A courier asked to cancel (Dada message type 1): their reason, the platform's
    /// reference to answer with, when, and our answer (`PENDING`, `ACCEPTED`, `REJECTED`).
    pub courier_cancel_reason: Option<String>,
    pub courier_cancel_ref: Option<String>,
    pub courier_cancel_at: Option<DateTimeUtc>,
    pub courier_cancel_answer: Option<String>,
    /// 1 for the first dispatch, +1 per re-dispatch of the same order.
    pub dispatch_round: i32,
    /// The courier company carrying it, on a network of several (WeChat `delivery_id`).
    pub courier_company: Option<String>,
    /// The technician working an order pushed to us (a `technician` row); their name and
    /// phone are in `courier_name` / `courier_phone` like a courier's.
    pub technician_id: Option<i64>,
    /// End of the service window of an order pushed to us (`appoint_time` is its start).
    pub service_end: Option<DateTimeUtc>,
    /// When the courier expects to arrive, as the company last said.
    pub courier_eta: Option<DateTimeUtc>,
    /// Seconds from creation to the first status event into `ACCEPTED`, `IN_PROGRESS` and
    /// `COMPLETED` (null until it happens): the timeline in numbers, for analytics.
    pub accept_secs: Option<i64>,
    pub pick_up_secs: Option<i64>,
    pub complete_secs: Option<i64>,
    /// Who cancelled: `MERCHANT` (through our API) or `PLATFORM` (the platform told us:
    /// its courier, its customer or itself).
    pub cancelled_by: Option<String>,
    /// The automatic dispatch this delivery is an attempt of.
    pub plan_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
