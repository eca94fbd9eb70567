//! Merchants, shops, recharges and the housekeeping of lookups and stale quotes.

use super::*;

impl State {
    /// merchant/add: a new merchant with an empty balance.
    pub fn add_merchant(
        &mut self,
        mobile: String,
        city_name: String,
        enterprise_name: String,
        contact_name: String,
    ) -> u64 {
        let id = self.next_source_id;
        self.next_source_id += 1;
        let source_id = id.to_string();
        self.merchants.insert(
            source_id.clone(),
            Merchant {
                source_id,
                mobile,
                city_name,
                enterprise_name,
                contact_name,
                balance_fen: 0,
                red_packet_fen: 0,
            },
        );
        id
    }

    /// A shop number for a shop added without one.
    pub fn generate_shop_no(&mut self, source_id: &str) -> String {
        loop {
            let no = format!("{source_id}-{:04}", self.next_shop);
            self.next_shop += 1;
            if !self.shops.contains_key(&no) {
                return no;
            }
        }
    }

    /// Records a recharge link and returns its token.
    pub fn add_recharge(
        &mut self,
        source_id: &str,
        amount_fen: i64,
        category: String,
        notify_url: Option<String>,
    ) -> String {
        let token = format!("{:016x}", rand::random::<u64>());
        self.recharges.insert(
            token.clone(),
            Recharge {
                token: token.clone(),
                source_id: source_id.to_owned(),
                amount_fen,
                category,
                notify_url,
                paid_at: None,
            },
        );
        token
    }

    /// Pays a recharge link once; paying again changes nothing.
    pub fn pay_recharge(&mut self, token: &str, now: DateTime<Utc>) -> Option<Recharge> {
        let recharge = self.recharges.get_mut(token)?;
        if recharge.paid_at.is_none() {
            recharge.paid_at = Some(now);
            let (source_id, amount) = (recharge.source_id.clone(), recharge.amount_fen);
            if let Some(m) = self.merchants.get_mut(&source_id) {
                // Saturating: a balance set through the control route may already be near the limit.
                m.balance_fen = m.balance_fen.saturating_add(amount);
            }
        }
        self.recharges.get(token).cloned()
    }

    pub fn find_order_key(
        &self,
        origin_id: &str,
        source_id: Option<&str>,
        default_source: &str,
    ) -> Option<OrderKey> {
        let wanted = source_id.unwrap_or(default_source);
        let exact = (wanted.to_owned(), origin_id.to_owned());
        if self.orders.contains_key(&exact) {
            return Some(exact);
        }
        // Without an explicit source, any merchant's order of that number will do.
        if source_id.is_none() {
            return self.orders.keys().find(|(_, o)| o == origin_id).cloned();
        }
        None
    }

    /// Quotes are only looked at by control routes and addAfterQuery; old ones can go.
    pub fn purge_quotes(&mut self, now: DateTime<Utc>) {
        self.quotes
            .retain(|_, q| now - q.created_at <= TimeDelta::hours(1));
    }
}
