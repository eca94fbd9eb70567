//! What 58 sends and expects, spelled as the platform spells it.
//!
//! [`CreateOrder`] is the `daojiaJson` of a `createOrder` push (field names from open.daojia.com);
//! [`check_ack`] is the one judge of the acknowledgement our intake must answer with.

use serde::Serialize;
use serde_json::Value;

use super::money::Yuan;

/// `funId` of an order push.
pub const FUN_CREATE_ORDER: &str = "createOrder";

/// The `daojiaJson` of a `createOrder` push.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrder {
    /// 58's id: a long above 2^53, like the document's `31421593368511488`.
    pub order_id: i64,
    pub user_mobile: String,
    pub city_id: i64,
    pub city_name: String,
    pub lng: f64,
    pub lat: f64,
    pub service_address: String,
    /// `yyyy-MM-dd HH:mm:ss`, GMT+8.
    pub service_begin_time: String,
    pub service_end_time: String,
    /// Hours.
    pub service_duration: u32,
    /// Σ goodsNumber × goodsPrice, yuan.
    pub total_price: Yuan,
    pub remark: String,
    /// The technician the customer chose (a `userId` saved through saveServiceUser), `""` for
    /// none.
    pub service_user_id: String,
    pub order_details: Vec<OrderLine>,
}

/// One entry of `orderDetails`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub goods_id: i64,
    pub goods_number: u32,
    /// Unit price, yuan.
    pub goods_price: Yuan,
}

/// Σ goodsNumber × goodsPrice in fen; `None` on overflow.
pub fn lines_total(lines: &[OrderLine]) -> Option<i64> {
    lines.iter().try_fold(0i64, |sum, line| {
        line.goods_price
            .0
            .checked_mul(i64::from(line.goods_number))
            .and_then(|amount| sum.checked_add(amount))
    })
}

/// Judges our intake's answer body to the push of `order_id` (the HTTP status was already 200):
/// `{"code":200,"msg":"success","data":{"order_id":<same id>,"status":"received"}}`. The id may
/// come back as a JSON integer or as a string of its digits; a float is refused because it can
/// no longer hold the id. `Err` says what was wrong.
pub fn check_ack(body: &str, order_id: i64) -> Result<(), String> {
    let short = || body.chars().take(200).collect::<String>();
    let reply: Value =
        serde_json::from_str(body).map_err(|_| format!("answer is not JSON: {}", short()))?;
    if reply.get("code").and_then(Value::as_i64) != Some(200) {
        return Err(format!("code is not 200: {}", short()));
    }
    if reply.get("msg").and_then(Value::as_str) != Some("success") {
        return Err(format!("msg is not \"success\": {}", short()));
    }
    let data = reply
        .get("data")
        .filter(|d| d.is_object())
        .ok_or_else(|| format!("data is not an object: {}", short()))?;
    let echoed = match data.get("order_id") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse::<i64>().ok().filter(|_| !s.starts_with('+')),
        _ => None,
    };
    if echoed != Some(order_id) {
        return Err(format!("data.order_id is not {order_id}: {}", short()));
    }
    if data.get("status").and_then(Value::as_str) != Some("received") {
        return Err(format!("data.status is not \"received\": {}", short()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: i64 = 31_421_593_368_511_489;

    #[test]
    fn the_acknowledgement() {
        let good = format!(
            r#"{{"code":200,"msg":"success","data":{{"order_id":{ID},"status":"received"}}}}"#
        );
        assert!(check_ack(&good, ID).is_ok());
        let as_string = format!(
            r#"{{"code":200,"msg":"success","data":{{"order_id":"{ID}","status":"received"}}}}"#
        );
        assert!(check_ack(&as_string, ID).is_ok());
        for bad in [
            String::new(),
            "ok".to_owned(),
            r#"{"code":0,"msg":"success","data":{}}"#.to_owned(),
            format!(r#"{{"code":200,"msg":"ok","data":{{"order_id":{ID},"status":"received"}}}}"#),
            format!(
                r#"{{"code":200,"msg":"success","data":{{"order_id":{},"status":"received"}}}}"#,
                ID + 1
            ),
            r#"{"code":200,"msg":"success","data":{"order_id":3.1421593368511489e16,"status":"received"}}"#.to_owned(),
            format!(r#"{{"code":200,"msg":"success","data":{{"order_id":{ID},"status":"ok"}}}}"#),
            format!(
                r#"{{"code":"200","msg":"success","data":{{"order_id":{ID},"status":"received"}}}}"#
            ),
        ] {
            assert!(check_ack(&bad, ID).is_err(), "{bad}");
        }
    }

    #[test]
    fn total_of_lines() {
        let lines = [
            OrderLine {
                goods_id: 1,
                goods_number: 3,
                goods_price: Yuan(3_500),
            },
            OrderLine {
                goods_id: 2,
                goods_number: 1,
                goods_price: Yuan(9_990),
            },
        ];
        assert_eq!(lines_total(&lines), Some(20_490));
        assert_eq!(lines_total(&[]), Some(0));
    }
}
