//! WeChat instant delivery's two tables, in one place: what each `order_status` code means
//! ([`STATUS_TABLE`]) and how each error code is treated ([`classify_error`]), with tests
//! covering every code WeChat documents.

use crate::{
    domain::OrderStatus,
    providers::{RejectKind, codes},
};

// ------------------------------------------------------------------------------ statuses

/// Every `order_status` WeChat documents, what it means to us, and its label (WeChat's words,
/// then ours). Ends: 302 (success), 103, 203, 204, 205, 401, 501, 502. There is no 402/403.
pub const STATUS_TABLE: &[(i64, OrderStatus, &str)] = &[
    (
        101,
        OrderStatus::Pending,
        "等待分配骑手 waiting for a rider",
    ),
    (102, OrderStatus::Accepted, "分配骑手成功 rider assigned"),
    (
        103,
        OrderStatus::Cancelled,
        "商家取消订单 cancelled by the merchant",
    ),
    (
        201,
        OrderStatus::Arrived,
        "骑手到店开始取货 rider at the store",
    ),
    (202, OrderStatus::InProgress, "取货成功 picked up"),
    (
        203,
        OrderStatus::Cancelled,
        "取货失败，商家取消订单 pickup failed, cancelled by the merchant",
    ),
    (
        204,
        OrderStatus::Cancelled,
        "取货失败，骑手因自身原因取消订单 pickup failed, cancelled by the rider",
    ),
    (
        205,
        OrderStatus::Cancelled,
        "取货失败，骑手因商家原因取消订单 pickup failed, rider cancelled because of the merchant",
    ),
    (301, OrderStatus::InProgress, "配送中 delivering"),
    (302, OrderStatus::Completed, "配送成功 delivered"),
    (
        303,
        OrderStatus::Returning,
        "商家取消订单，物品返还中 cancelled by the merchant, goods returning",
    ),
    (
        304,
        OrderStatus::Returning,
        "无法联系收货人，物品返还中 receiver unreachable, goods returning",
    ),
    (
        305,
        OrderStatus::Returning,
        "收货人拒收，物品返还中 receiver refused, goods returning",
    ),
    (
        401,
        OrderStatus::Returned,
        "货品返还商户成功 goods returned",
    ),
    (
        501,
        OrderStatus::Cancelled,
        "因运力系统原因取消 cancelled by the delivery system",
    ),
    (
        502,
        OrderStatus::Cancelled,
        "因不可抗拒因素取消 cancelled by force majeure",
    ),
];

/// Raw status of a published order waiting for a rider.
pub const PUBLISHED: &str = "101";
/// Raw status of an order the merchant cancelled.
pub const CANCELLED: &str = "103";

/// Within one unified status, WeChat's codes only go forward (202 picked up → 301
/// delivering; the returning codes 303/304/305 are alternatives, not steps): a move to a
/// lower or equal code is stale news.
pub fn moves_forward(from: &str, to: &str) -> bool {
    match (from.parse::<i64>(), to.parse::<i64>()) {
        (Ok(a), Ok(b)) => b > a && !(matches!(a, 303..=305) && matches!(b, 303..=305)),
        _ => false,
    }
}

/// The unified status of a WeChat status code; `None` for a code WeChat has not documented.
pub fn status(code: i64) -> Option<OrderStatus> {
    codes::status_of(STATUS_TABLE, code)
}

/// A human label for a WeChat status code.
pub fn describe(code: i64) -> &'static str {
    codes::label_of(STATUS_TABLE, code)
}

// -------------------------------------------------------------------------------- errors

pub use crate::providers::codes::ErrorClass;

/// `errcode`s that mean our access_token is invalid or expired: the client refreshes it once
/// and retries. 40014 ("invalid access_token") is the same news in other words.
pub const TOKEN_REJECTED: &[i64] = &[40001, 40014, 42001];

pub fn is_token_rejected(code: i64) -> bool {
    TOKEN_REJECTED.contains(&code)
}

/// The error-code table, for both result layers (`errcode` and `resultcode`); codes not named
/// are `Other` and keep their code and message.
///
/// Transient: -1 (WeChat busy), 930555 (WeChat platform error), 930556 (company timeout),
/// 930557 (company system error). Each may come after the company acted, so the outcome is
/// unknown. The token codes reach here only after the one retry failed.
pub fn classify_error(code: i64) -> ErrorClass {
    use RejectKind::*;
    let kind = match code {
        -1 | 930_555..=930_557 => {
            return ErrorClass::Transient {
                outcome_unknown: true,
            };
        }
        930_563 => NotFound,
        // 930560: the company account is not bound; the rest: our credentials, the token, the
        // appid/secret pair, or an IP not on the allow-list.
        930_560 | 40001 | 40014 | 42001 | 40013 | 40125 | 40164 | 41001 | 41002 | 41004 => {
            Unauthorized
        }
        // openid, arguments, shop object, cargo class, body format.
        930_559 | 930_561 | 930_567 | 930_570 | 9_300_535 | 47001 | 40003 => InvalidRequest,
        // 930558 company logic error, 930562 order exists, 930564 no quota, 930565 order
        // finished, and every company code.
        _ => Other,
    };
    ErrorClass::Refused(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_one_status_only_go_forward() {
        assert!(moves_forward("202", "301"));
        assert!(!moves_forward("301", "202"));
        assert!(!moves_forward("301", "301"));
        assert!(!moves_forward("303", "304"));
        assert!(!moves_forward("SUBMITTING", "101"));
    }

    #[test]
    fn every_documented_status_code_maps() {
        let expected = [
            (101, OrderStatus::Pending),
            (102, OrderStatus::Accepted),
            (103, OrderStatus::Cancelled),
            (201, OrderStatus::Arrived),
            (202, OrderStatus::InProgress),
            (203, OrderStatus::Cancelled),
            (204, OrderStatus::Cancelled),
            (205, OrderStatus::Cancelled),
            (301, OrderStatus::InProgress),
            (302, OrderStatus::Completed),
            (303, OrderStatus::Returning),
            (304, OrderStatus::Returning),
            (305, OrderStatus::Returning),
            (401, OrderStatus::Returned),
            (501, OrderStatus::Cancelled),
            (502, OrderStatus::Cancelled),
        ];
        for (code, s) in expected {
            assert_eq!(status(code), Some(s), "code {code}");
            assert_ne!(describe(code), describe(-42), "code {code} has a label");
        }
        assert_eq!(STATUS_TABLE.len(), expected.len());
        for unknown in [0, 1, 100, 104, 206, 306, 402, 403, 500, 503, -1] {
            assert_eq!(status(unknown), None, "code {unknown}");
        }
        assert_eq!(
            status(PUBLISHED.parse().unwrap()),
            Some(OrderStatus::Pending)
        );
        assert_eq!(
            status(CANCELLED.parse().unwrap()),
            Some(OrderStatus::Cancelled)
        );
    }

    #[test]
    fn error_codes_are_classified() {
        let refused = ErrorClass::Refused;
        for c in [930_559, 930_561, 9_300_535, 47001, 930_567, 930_570] {
            assert_eq!(
                classify_error(c),
                refused(RejectKind::InvalidRequest),
                "{c}"
            );
        }
        for c in [930_560, 40001, 42001, 40014, 40013, 40125] {
            assert_eq!(classify_error(c), refused(RejectKind::Unauthorized), "{c}");
        }
        assert_eq!(classify_error(930_563), refused(RejectKind::NotFound));
        for c in [930_558, 930_562, 930_564, 930_565, 12345, 1] {
            assert_eq!(classify_error(c), refused(RejectKind::Other), "{c}");
        }
        for c in [930_555, 930_556, 930_557, -1] {
            assert_eq!(
                classify_error(c),
                ErrorClass::Transient {
                    outcome_unknown: true
                },
                "{c}"
            );
        }
        assert!(is_token_rejected(40001) && is_token_rejected(42001));
        assert!(!is_token_rejected(930_563));
    }
}
