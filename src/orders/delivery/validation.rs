//! Checks on a delivery request before anything is written or sent.

use rust_decimal::Decimal;

use super::DeliveryInput;
use crate::orders::{OrderError, UserError, UserErrorCode};

/// Field checks that need no platform; every problem is reported at once.
pub(in crate::orders) fn validate_delivery(d: &DeliveryInput) -> Result<(), OrderError> {
    let mut errors = Vec::new();
    let mut text = |path: &[&str], value: &str, max: usize| {
        if value.trim().is_empty() {
            errors.push(UserError::new(
                path,
                UserErrorCode::InvalidInput,
                format!("{} is required", path.join(".")),
            ));
        } else if value.chars().count() > max {
            errors.push(UserError::new(
                path,
                UserErrorCode::InvalidInput,
                format!("{} is too long ({max} characters at most)", path.join(".")),
            ));
        }
    };
    text(&["receiver", "name"], &d.receiver_name, 50);
    text(&["receiver", "address"], &d.receiver_address, 200);
    if d.cargo_price.fen() < 0 || d.cargo_price.fen() > 100_000_000 {
        errors.push(UserError::new(
            &["cargoPrice"],
            UserErrorCode::InvalidInput,
            "cargoPrice must be between 0 and 1,000,000 yuan",
        ));
    }
    if d.cargo_weight_kg <= Decimal::ZERO || d.cargo_weight_kg > Decimal::from(1000) {
        errors.push(UserError::new(
            &["cargoWeightKg"],
            UserErrorCode::InvalidInput,
            "cargoWeightKg must be more than 0 and at most 1000",
        ));
    }
    if d.tips.fen() < 0 {
        errors.push(UserError::new(
            &["tip"],
            UserErrorCode::InvalidInput,
            "tip cannot be negative",
        ));
    }
    if d.note.as_ref().is_some_and(|n| n.chars().count() > 200) {
        errors.push(UserError::new(
            &["note"],
            UserErrorCode::InvalidInput,
            "note is too long (200 characters at most)",
        ));
    }
    if let Some(o) = &d.origin_id
        && (o.is_empty()
            || o.len() > 64
            || !o
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        errors.push(UserError::new(
            &["originId"],
            UserErrorCode::InvalidInput,
            "originId must be 1–64 letters, digits, '-' or '_'",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(OrderError::User(errors))
    }
}
