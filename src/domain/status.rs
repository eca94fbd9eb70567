//! The unified order status and the rule that it never moves backwards.

use std::{fmt, str::FromStr};

use super::UnknownValue;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Pending,
    Accepted,
    Arrived,
    InProgress,
    Completed,
    Cancelled,
    Returning,
    Returned,
    Failed,
    Expired,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 10] = [
        Self::Pending,
        Self::Accepted,
        Self::Arrived,
        Self::InProgress,
        Self::Completed,
        Self::Cancelled,
        Self::Returning,
        Self::Returned,
        Self::Failed,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Accepted => "ACCEPTED",
            Self::Arrived => "ARRIVED",
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
            Self::Returning => "RETURNING",
            Self::Returned => "RETURNED",
            Self::Failed => "FAILED",
            Self::Expired => "EXPIRED",
        }
    }

    /// Final states: nothing moves an order out of them.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Cancelled | Self::Returned | Self::Failed | Self::Expired
        )
    }

    /// Position along the normal path; terminal states are handled separately.
    fn progress(self) -> u8 {
        match self {
            Self::Pending => 0,
            Self::Accepted => 1,
            Self::Arrived => 2,
            Self::InProgress => 3,
            Self::Returning => 4,
            Self::Completed | Self::Cancelled | Self::Returned | Self::Failed | Self::Expired => 5,
        }
    }

    /// Whether an order in `self` may move to `next`. Late or repeated news never regresses an
    /// order: a move is allowed only forward along the path, or into a final state.
    pub fn can_move_to(self, next: OrderStatus) -> bool {
        if self.is_terminal() || self == next {
            return false;
        }
        next.is_terminal() || next.progress() > self.progress()
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn never_moves_backwards() {
        assert!(Pending.can_move_to(Accepted));
        assert!(Pending.can_move_to(Completed));
        assert!(Accepted.can_move_to(Cancelled));
        assert!(!Accepted.can_move_to(Pending));
        assert!(!Accepted.can_move_to(Accepted));
        assert!(!Completed.can_move_to(Cancelled));
        assert!(!Cancelled.can_move_to(Accepted));
        assert!(Returning.can_move_to(Returned));
        assert!(!Returning.can_move_to(InProgress));
    }

    #[test]
    fn round_trips() {
        for s in OrderStatus::ALL {
            assert_eq!(s.as_str().parse::<OrderStatus>().ok(), Some(s));
        }
    }
}
