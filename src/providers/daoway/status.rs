//! Daoway's two tables, in one place: what each order status means ([`STATUS_TABLE`]) and
//! which refusals we tell apart ([`classify_refusal`]; Daoway refuses with a message only, no
//! code), with their tests.

use crate::{
    domain::{OrderStatus, ProviderId},
    providers::{ProviderError, ProviderResult, RejectKind},
};

/// Every status the channel API documents, and what it means in the unified model.
pub const STATUS_TABLE: &[(&str, OrderStatus)] = &[
    ("PENDING_CONFIRM", OrderStatus::Pending),
    ("CONFIRMED", OrderStatus::Accepted),
    ("COMPLETED", OrderStatus::Completed),
    ("CANCELLED", OrderStatus::Cancelled),
];

pub fn map_status(raw: &str) -> ProviderResult<OrderStatus> {
    STATUS_TABLE
        .iter()
        .find(|(code, _)| *code == raw)
        .map(|(_, s)| *s)
        .ok_or_else(|| ProviderError::Protocol {
            provider: ProviderId::Daoway,
            detail: format!("unknown order status {raw:?}"),
        })
}

/// Daoway refuses with a message only; these are the refusals we tell apart. The texts are
/// those the platform answers (and the sandbox reproduces).
pub fn classify_refusal(msg: &str) -> RejectKind {
    if msg.contains("余额") {
        RejectKind::InsufficientBalance
    } else if msg.contains("不存在") {
        RejectKind::NotFound
    } else if msg.contains("用户名或密码") {
        RejectKind::Unauthorized
    } else if msg.contains("缺少参数")
        || msg.contains("格式错误")
        || msg.contains("起购")
        || msg.contains("预约时间")
    {
        RejectKind::InvalidRequest
    } else {
        RejectKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_maps() {
        // The four values the channel API page lists.
        assert_eq!(
            map_status("PENDING_CONFIRM").ok(),
            Some(OrderStatus::Pending)
        );
        assert_eq!(map_status("CONFIRMED").ok(), Some(OrderStatus::Accepted));
        assert_eq!(map_status("COMPLETED").ok(), Some(OrderStatus::Completed));
        assert_eq!(map_status("CANCELLED").ok(), Some(OrderStatus::Cancelled));
        assert!(map_status("SHIPPED").is_err());
    }

    #[test]
    fn refusals_are_told_apart() {
        assert_eq!(
            classify_refusal("余额不足"),
            RejectKind::InsufficientBalance
        );
        assert_eq!(classify_refusal("店铺不存在"), RejectKind::NotFound);
        assert_eq!(
            classify_refusal("用户名或密码错误"),
            RejectKind::Unauthorized
        );
        assert_eq!(classify_refusal("系统繁忙"), RejectKind::Other);
    }
}
