//! The unified model every platform maps into. Nothing here knows a platform's spelling:
//! adapters translate their wire types into these, and the GraphQL layer presents them.

pub mod catalog;
pub mod delivery;
mod money;
pub mod provider;
mod status;
mod values;

use std::{fmt, str::FromStr};

pub use money::{Money, MoneyError};
pub use status::OrderStatus;
pub use values::{IdempotencyKey, InvalidValue, PhoneNumber};

/// The platforms orderhub speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProviderId {
    Daoway,
    Dada,
    Wechat,
    Daojia58,
}

impl ProviderId {
    pub const ALL: [ProviderId; 4] = [Self::Daoway, Self::Dada, Self::Wechat, Self::Daojia58];

    /// The stable spelling used in the database and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daoway => "DAOWAY",
            Self::Dada => "DADA",
            Self::Wechat => "WECHAT",
            Self::Daojia58 => "DAOJIA58",
        }
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderId {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_owned()))
    }
}

/// A stored value that is not one of the enum's spellings (a corrupt row or a newer writer).
#[derive(Debug, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

/// Who placed the order: we placed it on the platform, or the platform pushed it to us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Outbound,
    Inbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outbound => "OUTBOUND",
            Self::Inbound => "INBOUND",
        }
    }
}

/// What the order is for: a home service appointment or a courier delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderKind {
    Service,
    Delivery,
}

impl OrderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Service => "SERVICE",
            Self::Delivery => "DELIVERY",
        }
    }
}

/// A point in BD-09 (Baidu) coordinates, the system Chinese platforms use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoPoint {
    pub lng: f64,
    pub lat: f64,
}

impl GeoPoint {
    /// Validates the ranges: a swapped or out-of-range pair is refused, not silently used.
    pub fn new(lng: f64, lat: f64) -> Option<Self> {
        ((-180.0..=180.0).contains(&lng) && (-90.0..=90.0).contains(&lat) && lng.is_finite())
            .then_some(Self { lng, lat })
    }

    /// Great-circle distance in metres (haversine); good enough for ordering shops.
    pub fn distance_m(&self, other: &GeoPoint) -> f64 {
        const R: f64 = 6_371_000.0;
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lng - self.lng).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * R * a.sqrt().asin()
    }
}

/// Where the event that moved an order came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventSource {
    /// We created the order.
    Create,
    /// We asked the platform for the status.
    Poll,
    /// The platform called us.
    Callback,
    /// A mutation of ours changed it.
    Api,
}

impl EventSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Poll => "POLL",
            Self::Callback => "CALLBACK",
            Self::Api => "API",
        }
    }
}

impl FromStr for EventSource {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Create, Self::Poll, Self::Callback, Self::Api]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_owned()))
    }
}

/// Declares an enum with the event kinds: the domain's `EventKind` and its GraphQL mirror
/// are both declared from this one list (with the descriptions clients read), so they
/// cannot drift apart.
macro_rules! event_kind_enum {
    ($(#[$attr:meta])* $vis:vis enum $name:ident) => {
        $(#[$attr])*
        $vis enum $name {
        /// A status report: the status the platform (or we) said the order is in.
        Status,
        /// A courier asked to cancel; the order waits for our answer
        /// (`respondToCourierCancellation`, or the automatic policy).
        CourierCancelRequested,
        /// We answered a courier's request to cancel.
        CourierCancelAnswered,
        /// The courier's tip was raised (`addTip`).
        TipAdded,
        /// The delivery was appointed to a chosen courier (`assignCourier`).
        CourierAppointed,
        /// An appointment the courier had not accepted was withdrawn (`unassignCourier`).
        CourierAppointmentCancelled,
        /// The order's courier was first assigned or changed.
        CourierUpdated,
        /// We confirmed the store got back the goods of an undeliverable order
        /// (`confirmReturnedGoods`).
        ReturnedGoodsConfirmed,
        /// We complained about the courier (`complainAboutCourier`).
        ComplaintFiled,
        /// A technician was put on an order pushed to us (`assignTechnician`).
        TechnicianAssigned,
        /// An automatic dispatch (`dispatchDelivery(strategy: AUTO)`) ranked the networks and
        /// sent the delivery here (`detail` lists the ranking).
        DispatchPlanned,
        /// An automatic dispatch moved on to this network (nobody accepted in time, or the
        /// previous network ended the delivery).
        NetworkSwitched,
        /// This attempt's courier accepted and the plan kept it (the first to accept, unless
        /// another that would cost to cancel accepted in the same instant); the plan's other
        /// attempts are cancelled.
        RaceWon,
        /// Another attempt of the plan was kept: this one was cancelled (free unless a penalty
        /// was unavoidable; the plan's `penalties` records it).
        RaceCancelled,
        }
    };
}
pub(crate) use event_kind_enum;

event_kind_enum! {
    /// What an event of an order's timeline records: a status change, or something around
    /// the order that leaves its status alone but that its watchers need to see.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum EventKind
}

impl EventKind {
    pub const ALL: [EventKind; 14] = [
        Self::Status,
        Self::CourierCancelRequested,
        Self::CourierCancelAnswered,
        Self::TipAdded,
        Self::CourierAppointed,
        Self::CourierAppointmentCancelled,
        Self::CourierUpdated,
        Self::ReturnedGoodsConfirmed,
        Self::ComplaintFiled,
        Self::TechnicianAssigned,
        Self::DispatchPlanned,
        Self::NetworkSwitched,
        Self::RaceWon,
        Self::RaceCancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Status => "STATUS",
            Self::CourierCancelRequested => "COURIER_CANCEL_REQUESTED",
            Self::CourierCancelAnswered => "COURIER_CANCEL_ANSWERED",
            Self::TipAdded => "TIP_ADDED",
            Self::CourierAppointed => "COURIER_APPOINTED",
            Self::CourierAppointmentCancelled => "COURIER_APPOINTMENT_CANCELLED",
            Self::CourierUpdated => "COURIER_UPDATED",
            Self::ReturnedGoodsConfirmed => "RETURNED_GOODS_CONFIRMED",
            Self::ComplaintFiled => "COMPLAINT_FILED",
            Self::TechnicianAssigned => "TECHNICIAN_ASSIGNED",
            Self::DispatchPlanned => "DISPATCH_PLANNED",
            Self::NetworkSwitched => "NETWORK_SWITCHED",
            Self::RaceWon => "RACE_WON",
            Self::RaceCancelled => "RACE_CANCELLED",
        }
    }
}

impl FromStr for EventKind {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_owned()))
    }
}

/// China Standard Time: appointment times on the platforms are local wall-clock times.
pub fn china_offset() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_round_trips() {
        for p in ProviderId::ALL {
            assert_eq!(p.as_str().parse::<ProviderId>().ok(), Some(p));
        }
        assert!("NOPE".parse::<ProviderId>().is_err());
    }

    #[test]
    fn geo_point_rejects_out_of_range() {
        assert!(GeoPoint::new(116.4, 39.9).is_some());
        assert!(GeoPoint::new(39.9, 116.4).is_none());
        assert!(GeoPoint::new(f64::NAN, 1.0).is_none());
    }

    #[test]
    fn distance_is_plausible() {
        let tiananmen = GeoPoint {
            lng: 116.404,
            lat: 39.915,
        };
        let shanghai = GeoPoint {
            lng: 121.48,
            lat: 31.24,
        };
        let d = tiananmen.distance_m(&shanghai);
        assert!((1_000_000.0..1_150_000.0).contains(&d), "{d}");
    }
}
