//! Dada's two tables, in one place: what each order status code means ([`STATUS_TABLE`]) and
//! how each error code is treated ([`classify_error`]), with tests covering every code Dada
//! documents.

use crate::{
    domain::OrderStatus,
    providers::{RejectKind, codes},
};

// ------------------------------------------------------------------------------ statuses

/// Dada's cancellation rule (its document's prose): cancelling within one minute of the
/// courier's acceptance costs nothing; from then until 15 minutes, 2 yuan goes to the courier.
pub const FREE_CANCEL_AFTER_ACCEPT: std::time::Duration = std::time::Duration::from_secs(60);

/// Every order status Dada documents, what it means to us, and its label (Dada's words, then
/// ours). 8 (appointed to one courier) is still waiting for acceptance, so it is `Pending`; 6
/// (after-sale pickup delivered, newer documents) ends the order like 4.
pub const STATUS_TABLE: &[(i64, OrderStatus, &str)] = &[
    (1, OrderStatus::Pending, "待接单 waiting for a courier"),
    (
        8,
        OrderStatus::Pending,
        "指派单 appointed, waiting for the courier to accept",
    ),
    (2, OrderStatus::Accepted, "待取货 accepted, to be picked up"),
    (100, OrderStatus::Arrived, "骑士到店 courier at the store"),
    (3, OrderStatus::InProgress, "配送中 delivering"),
    (4, OrderStatus::Completed, "已完成 delivered"),
    (
        6,
        OrderStatus::Completed,
        "售后取件已送达 after-sale pickup delivered",
    ),
    (5, OrderStatus::Cancelled, "已取消 cancelled"),
    (7, OrderStatus::Expired, "已过期 expired"),
    (
        9,
        OrderStatus::Returning,
        "妥投异常之物品返回中 undeliverable, goods returning",
    ),
    (
        10,
        OrderStatus::Returned,
        "妥投异常之物品返回完成 goods returned",
    ),
    (
        1000,
        OrderStatus::Failed,
        "创建达达运单失败 waybill creation failed",
    ),
];

/// Raw status of a published order waiting for a courier.
pub const WAITING: &str = "1";
/// Raw status of a cancelled order.
pub const CANCELLED: &str = "5";
/// The cancel reason "other", which needs the free text.
pub const OTHER_CANCEL_REASON: i64 = 10000;

/// The unified status of a Dada status code; `None` for a code Dada has not documented.
pub fn status(code: i64) -> Option<OrderStatus> {
    codes::status_of(STATUS_TABLE, code)
}

/// A human label for a Dada status code.
pub fn describe(code: i64) -> &'static str {
    codes::label_of(STATUS_TABLE, code)
}

// -------------------------------------------------------------------------------- errors

pub use crate::providers::codes::ErrorClass;

/// The error-code table. Transient: -1 system error and 1000 network timeout (inside Dada,
/// possibly after it acted, so the outcome is unknown) and 999 maintenance (nothing done).
/// Everything else is a refusal, classified for the API's user errors; codes not named are
/// `Other` and keep their code and message.
pub fn classify_error(code: i64) -> ErrorClass {
    use RejectKind::*;
    let kind = match code {
        -1 | 1000 => {
            return ErrorClass::Transient {
                outcome_unknown: true,
            };
        }
        999 => {
            return ErrorClass::Transient {
                outcome_unknown: false,
            };
        }
        2155 => InsufficientBalance,
        // Order, shop or merchant unknown.
        2004 | 2005 | 2401 | 2402 => NotFound,
        // Our credentials or merchant binding.
        2001 | 2002 | 2003 | 2131 => Unauthorized,
        // Something in the business body is missing or malformed.
        1993
        | 1994
        | 1995
        | 2048
        | 2049
        | 2055
        | 2077
        | 2078
        | 2103
        | 2104
        | 2113
        | 2120..=2123
        | 2126
        | 2419
        | 2457
        | 2468 => InvalidRequest,
        _ => Other,
    };
    ErrorClass::Refused(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_code_maps() {
        let expected = [
            (1, OrderStatus::Pending),
            (8, OrderStatus::Pending),
            (2, OrderStatus::Accepted),
            (100, OrderStatus::Arrived),
            (3, OrderStatus::InProgress),
            (4, OrderStatus::Completed),
            (6, OrderStatus::Completed),
            (5, OrderStatus::Cancelled),
            (7, OrderStatus::Expired),
            (9, OrderStatus::Returning),
            (10, OrderStatus::Returned),
            (1000, OrderStatus::Failed),
        ];
        for (code, s) in expected {
            assert_eq!(status(code), Some(s), "code {code}");
            assert_ne!(describe(code), describe(-42), "code {code} has a label");
        }
        assert_eq!(STATUS_TABLE.len(), expected.len());
        for unknown in [0, 11, 99, 101, 999, -1] {
            assert_eq!(status(unknown), None, "code {unknown}");
        }
    }

    #[test]
    fn error_codes_are_classified() {
        let refused = |k| ErrorClass::Refused(k);
        assert_eq!(
            classify_error(2155),
            refused(RejectKind::InsufficientBalance)
        );
        for c in [2004, 2005, 2401, 2402] {
            assert_eq!(classify_error(c), refused(RejectKind::NotFound), "{c}");
        }
        for c in [2001, 2002, 2003, 2131] {
            assert_eq!(classify_error(c), refused(RejectKind::Unauthorized), "{c}");
        }
        for c in [
            1993, 1994, 1995, 2103, 2104, 2113, 2120, 2121, 2122, 2123, 2126, 2419, 2468, 2048,
            2049, 2457, 2055, 2077,
        ] {
            assert_eq!(
                classify_error(c),
                refused(RejectKind::InvalidRequest),
                "{c}"
            );
        }
        for c in [2105, 2070, 2062, 2134, 2012, 2403] {
            assert_eq!(classify_error(c), refused(RejectKind::Other), "{c}");
        }
        assert_eq!(
            classify_error(999),
            ErrorClass::Transient {
                outcome_unknown: false
            }
        );
        assert!(matches!(classify_error(-1), ErrorClass::Transient { .. }));
        assert!(matches!(classify_error(1000), ErrorClass::Transient { .. }));
    }
}
