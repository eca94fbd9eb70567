//! 58 Daojia's order status codes, in one table, and the two sequences 58 allows. 58 publishes
//! no table of error codes: any non-zero `code` in an answer is a refusal (see
//! [`super::ASSUMPTIONS`]), so there is no error table to keep here.
//!
//! The codes are 58's (10 booking … 70 cancelled). Payment (30 awaiting payment, 40 paid) is
//! a step beside the service, not along it: it may come before the service (10→20→30→40→50→60)
//! or after it (10→20→50→30→40→60), so it leaves the unified status where it is.

use crate::domain::OrderStatus;

pub const BOOKING: i64 = 10;
pub const ACCEPTED: i64 = 20;
pub const AWAITING_PAYMENT: i64 = 30;
pub const PAID: i64 = 40;
pub const IN_SERVICE: i64 = 50;
pub const COMPLETED: i64 = 60;
pub const CANCELLED: i64 = 70;

/// Code, its label, and the unified status it moves an order to (None: unchanged).
const STATUS_TABLE: &[(i64, &str, Option<OrderStatus>)] = &[
    (BOOKING, "预约中 booking", Some(OrderStatus::Pending)),
    (ACCEPTED, "已接单 accepted", Some(OrderStatus::Accepted)),
    (AWAITING_PAYMENT, "待支付 awaiting payment", None),
    (PAID, "已支付 paid", None),
    (
        IN_SERVICE,
        "服务中 in service",
        Some(OrderStatus::InProgress),
    ),
    (COMPLETED, "已完成 completed", Some(OrderStatus::Completed)),
    (CANCELLED, "已取消 cancelled", Some(OrderStatus::Cancelled)),
];

/// The two sequences 58 accepts, as successor lists.
const SEQUENCES: [&[i64]; 2] = [
    &[
        BOOKING,
        ACCEPTED,
        AWAITING_PAYMENT,
        PAID,
        IN_SERVICE,
        COMPLETED,
    ],
    &[
        BOOKING,
        ACCEPTED,
        IN_SERVICE,
        AWAITING_PAYMENT,
        PAID,
        COMPLETED,
    ],
];

pub fn is_known(code: i64) -> bool {
    STATUS_TABLE.iter().any(|(c, _, _)| *c == code)
}

/// The unified status after `code`, given the current one (payment steps keep it).
pub fn unified(code: i64, current: OrderStatus) -> Option<OrderStatus> {
    STATUS_TABLE
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, _, s)| s.unwrap_or(current))
}

pub fn describe(code: i64) -> &'static str {
    STATUS_TABLE
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or("unknown", |(_, label, _)| label)
}

/// Whether 58 allows moving from `history`'s last code to `next`, given every code the order
/// went through (the sequence is chosen by whether service came before payment). Cancelling
/// is allowed from any state that is not final.
pub fn allowed(history: &[i64], next: i64) -> bool {
    let Some(&last) = history.last() else {
        return next == BOOKING;
    };
    if last == COMPLETED || last == CANCELLED {
        return false;
    }
    if next == CANCELLED {
        return true;
    }
    SEQUENCES.iter().any(|seq| {
        // The history must be a prefix of this sequence, and `next` its next element.
        history.len() < seq.len() && seq[..history.len()] == *history && seq[history.len()] == next
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_maps() {
        for code in [10, 20, 30, 40, 50, 60, 70] {
            assert!(is_known(code), "{code}");
            assert_ne!(describe(code), "unknown");
        }
        assert!(!is_known(35));
        assert_eq!(
            unified(10, OrderStatus::Pending),
            Some(OrderStatus::Pending)
        );
        assert_eq!(
            unified(20, OrderStatus::Pending),
            Some(OrderStatus::Accepted)
        );
        assert_eq!(
            unified(30, OrderStatus::Accepted),
            Some(OrderStatus::Accepted)
        );
        assert_eq!(
            unified(40, OrderStatus::InProgress),
            Some(OrderStatus::InProgress)
        );
        assert_eq!(
            unified(50, OrderStatus::Accepted),
            Some(OrderStatus::InProgress)
        );
        assert_eq!(
            unified(60, OrderStatus::InProgress),
            Some(OrderStatus::Completed)
        );
        assert_eq!(
            unified(70, OrderStatus::Accepted),
            Some(OrderStatus::Cancelled)
        );
        assert_eq!(unified(99, OrderStatus::Accepted), None);
    }

    #[test]
    fn both_sequences_and_nothing_else() {
        assert!(allowed(&[], 10));
        assert!(allowed(&[10], 20));
        assert!(allowed(&[10, 20], 30));
        assert!(allowed(&[10, 20], 50));
        assert!(allowed(&[10, 20, 30, 40], 50));
        assert!(allowed(&[10, 20, 30, 40, 50], 60));
        assert!(allowed(&[10, 20, 50, 30, 40], 60));
        assert!(allowed(&[10, 20, 50], 30));
        assert!(!allowed(&[10], 50));
        assert!(!allowed(&[10, 20], 60));
        assert!(!allowed(&[10, 20, 30], 50));
        assert!(!allowed(&[10, 20, 50], 60));
        assert!(!allowed(&[10, 20, 50, 30, 40], 50));
        assert!(allowed(&[10, 20, 50], 70));
        assert!(!allowed(&[10, 20, 50, 30, 40, 60], 70));
        assert!(!allowed(&[10, 70], 20));
    }
}
