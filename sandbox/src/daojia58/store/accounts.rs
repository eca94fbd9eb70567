//! Technicians (service users) and goods types the partner saves.

use super::*;

impl State {
    /// Saves a technician; `true` when it is new.
    pub fn save_service_user(&mut self, mut user: ServiceUser, now: DateTime<Utc>) -> bool {
        match self.service_users.get(&user.user_id) {
            Some(old) => {
                user.created_at = old.created_at;
                user.saves = old.saves + 1;
                user.updated_at = now;
                self.service_users.insert(user.user_id.clone(), user);
                false
            }
            None => {
                user.created_at = now;
                user.updated_at = now;
                user.saves = 1;
                self.service_users.insert(user.user_id.clone(), user);
                true
            }
        }
    }

    /// Saves a goods type; its parent must have been saved before. `true` when it is new.
    pub fn save_goods_type(
        &mut self,
        mut t: GoodsType,
        now: DateTime<Utc>,
    ) -> Result<bool, Reject> {
        if let Some(parent) = &t.type_parent_id
            && (!self.goods_types.contains_key(parent) || *parent == t.type_id)
        {
            return Err(Reject::with(
                code::UNKNOWN_PARENT_TYPE,
                format!("父级服务类型{parent}不存在"),
            ));
        }
        t.updated_at = now;
        let saves = self.goods_types.get(&t.type_id).map_or(0, |old| old.saves);
        t.saves = saves + 1;
        self.goods_types.insert(t.type_id.clone(), t);
        Ok(saves == 0)
    }
}
