//! The `daojiaJson` of updateOrderDetail, validated: what an update may change and the lines
//! it carries, in a canonical order.

use super::*;

/// A validated `daojiaJson` of updateOrderDetail.
#[derive(Clone, Debug)]
pub struct UpdateRequest {
    pub order_id: i64,
    pub third_order_id: String,
    pub status: Status,
    pub service_user_name: Option<String>,
    pub service_user_phone: Option<String>,
    pub total_fen: Option<i64>,
    /// Sorted, so a resend in another order compares equal.
    pub lines: Option<Vec<OrderLine>>,
}

impl UpdateRequest {
    /// Parses and checks the business fields; every problem is a 1006 naming the field.
    pub fn parse(daojia_json: &str) -> Result<Self, Reject> {
        let f = params::Fields::parse(daojia_json)?;
        let order_id = f
            .int("orderId")?
            .ok_or_else(|| Reject::missing("orderId"))?;
        let third_order_id = f.required_text("thirdOrderId", 64)?;
        let code = f
            .int("orderStatus")?
            .ok_or_else(|| Reject::missing("orderStatus"))?;
        let status = Status::from_code(code).ok_or_else(|| {
            Reject::with(
                code::BAD_PARAMS,
                format!("orderStatus {code} 不是58的订单状态"),
            )
        })?;
        let service_user_name = f.optional_text("serviceUserName", 32)?;
        let service_user_phone = f.optional_text("serviceUserPhone", 11)?;
        if let Some(phone) = &service_user_phone
            && !params::is_mobile(phone)
        {
            return Err(Reject::format("serviceUserPhone"));
        }
        let mut total_fen = f.yuan("totalPrice")?;
        let lines = match f.value("orderDetails") {
            None => None,
            Some(value) => Some(parse_lines(value)?),
        };
        if let Some(lines) = &lines {
            let sum = lines_total(lines).ok_or_else(|| Reject::format("orderDetails"))?;
            match total_fen {
                Some(total) if total != sum => {
                    return Err(Reject::with(
                        code::BAD_PARAMS,
                        "totalPrice与orderDetails合计不符",
                    ));
                }
                _ => total_fen = Some(sum),
            }
        }
        Ok(UpdateRequest {
            order_id,
            third_order_id,
            status,
            service_user_name,
            service_user_phone,
            total_fen,
            lines,
        })
    }
}

pub(super) fn parse_lines(value: &Value) -> Result<Vec<OrderLine>, Reject> {
    let Value::Array(items) = value else {
        return Err(Reject::format("orderDetails"));
    };
    if items.is_empty() {
        return Err(Reject::format("orderDetails"));
    }
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(map) = item else {
            return Err(Reject::format("orderDetails"));
        };
        let f = params::Fields::from_map(map.clone());
        let goods_id = f
            .int("goodsId")?
            .ok_or_else(|| Reject::missing("goodsId"))?;
        let goods_number = f
            .int("goodsNumber")?
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| Reject::format("goodsNumber"))?;
        let goods_price = f
            .yuan("goodsPrice")?
            .ok_or_else(|| Reject::missing("goodsPrice"))?;
        lines.push(OrderLine {
            goods_id,
            goods_number,
            goods_price: Yuan(goods_price),
        });
    }
    sort_lines(&mut lines);
    Ok(lines)
}

pub(super) fn sort_lines(lines: &mut [OrderLine]) {
    lines.sort_by_key(|l| (l.goods_id, l.goods_number, l.goods_price));
}
