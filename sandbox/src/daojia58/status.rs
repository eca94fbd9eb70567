//! 58's order status codes and the moves between them, from the platform's table.
//!
//! 10 booking · 20 accepted · 30 awaiting payment · 40 paid · 50 in service · 60 completed ·
//! 70 cancelled. An order walks one of two sequences, 10→20→30→40→50→60 (pay, then serve) or
//! 10→20→50→30→40→60 (serve, then pay); which one is decided by the move after 20, and from
//! then on only that sequence's next step is allowed. 70 is allowed from every status but 60 and
//! 70. Nothing is skipped and nothing goes back. Repeating the current status is not a move (the
//! caller decides what that means; `updateOrderDetail` treats it as an idempotent success).

use serde::Serialize;

/// One of 58's order statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(into = "i32")]
pub enum Status {
    Booking,
    Accepted,
    AwaitingPayment,
    Paid,
    InService,
    Completed,
    Cancelled,
}

impl From<Status> for i32 {
    fn from(status: Status) -> i32 {
        status.code()
    }
}

/// Pay first.
const PAY_FIRST: [Status; 6] = [
    Status::Booking,
    Status::Accepted,
    Status::AwaitingPayment,
    Status::Paid,
    Status::InService,
    Status::Completed,
];

/// Serve first.
const SERVE_FIRST: [Status; 6] = [
    Status::Booking,
    Status::Accepted,
    Status::InService,
    Status::AwaitingPayment,
    Status::Paid,
    Status::Completed,
];

impl Status {
    pub fn code(self) -> i32 {
        match self {
            Status::Booking => 10,
            Status::Accepted => 20,
            Status::AwaitingPayment => 30,
            Status::Paid => 40,
            Status::InService => 50,
            Status::Completed => 60,
            Status::Cancelled => 70,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            10 => Status::Booking,
            20 => Status::Accepted,
            30 => Status::AwaitingPayment,
            40 => Status::Paid,
            50 => Status::InService,
            60 => Status::Completed,
            70 => Status::Cancelled,
            _ => return None,
        })
    }

    pub fn msg(self) -> &'static str {
        match self {
            Status::Booking => "已预约",
            Status::Accepted => "已接单",
            Status::AwaitingPayment => "待支付",
            Status::Paid => "已支付",
            Status::InService => "服务中",
            Status::Completed => "已完成",
            Status::Cancelled => "已取消",
        }
    }

    /// Nothing moves an order out of these.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Completed | Status::Cancelled)
    }
}

/// What a requested status means for an order that has walked `path` (its statuses in order,
/// starting with 10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The order is already there.
    Repeat,
    /// A move one of the sequences allows.
    Move,
    /// Not allowed; the reason names what would have been.
    Refuse(String),
}

/// The statuses that may follow `path` (cancellation aside).
pub fn next_steps(path: &[Status]) -> Vec<Status> {
    let mut next: Vec<Status> = [PAY_FIRST, SERVE_FIRST]
        .iter()
        .filter(|seq| seq.starts_with(path))
        .filter_map(|seq| seq.get(path.len()).copied())
        .collect();
    next.dedup();
    next
}

/// Judges a move to `target` for an order that has walked `path`.
pub fn judge(path: &[Status], target: Status) -> Transition {
    let Some(&current) = path.last() else {
        return Transition::Refuse("订单没有状态".to_owned());
    };
    if target == current {
        return Transition::Repeat;
    }
    if current.is_final() {
        return Transition::Refuse(format!(
            "订单已{},不能变更为{}",
            current.msg(),
            target.code()
        ));
    }
    if target == Status::Cancelled {
        return Transition::Move;
    }
    let next = next_steps(path);
    if next.contains(&target) {
        return Transition::Move;
    }
    let allowed: Vec<String> = next
        .iter()
        .chain(std::iter::once(&Status::Cancelled))
        .map(|s| s.code().to_string())
        .collect();
    Transition::Refuse(format!(
        "订单当前状态{},不能变更为{},允许{}",
        current.code(),
        target.code(),
        allowed.join("/")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(codes: &[i64]) -> Vec<Status> {
        codes.iter().filter_map(|c| Status::from_code(*c)).collect()
    }

    #[test]
    fn every_code_round_trips() {
        for code in [10, 20, 30, 40, 50, 60, 70] {
            assert_eq!(
                Status::from_code(code).map(|s| i64::from(s.code())),
                Some(code)
            );
        }
        assert_eq!(Status::from_code(0), None);
        assert_eq!(Status::from_code(25), None);
    }

    #[test]
    fn both_sequences_walk_to_the_end() {
        for seq in [PAY_FIRST, SERVE_FIRST] {
            for i in 1..seq.len() {
                assert_eq!(judge(&seq[..i], seq[i]), Transition::Move, "{seq:?} at {i}");
            }
        }
    }

    #[test]
    fn the_step_after_20_picks_the_sequence() {
        assert_eq!(
            next_steps(&walk(&[10, 20])),
            vec![Status::AwaitingPayment, Status::InService]
        );
        assert_eq!(next_steps(&walk(&[10, 20, 30])), vec![Status::Paid]);
        assert_eq!(
            next_steps(&walk(&[10, 20, 50])),
            vec![Status::AwaitingPayment]
        );
        assert_eq!(
            next_steps(&walk(&[10, 20, 30, 40])),
            vec![Status::InService]
        );
        assert_eq!(
            next_steps(&walk(&[10, 20, 50, 30, 40])),
            vec![Status::Completed]
        );
        // 40 after pay-first may not complete; 50 after serve-first may not be repeated later.
        assert!(matches!(
            judge(&walk(&[10, 20, 30, 40]), Status::Completed),
            Transition::Refuse(_)
        ));
        assert!(matches!(
            judge(&walk(&[10, 20, 50, 30, 40]), Status::InService),
            Transition::Refuse(_)
        ));
    }

    #[test]
    fn repeats_skips_and_going_back() {
        assert_eq!(judge(&walk(&[10]), Status::Booking), Transition::Repeat);
        assert_eq!(
            judge(&walk(&[10, 20, 30]), Status::AwaitingPayment),
            Transition::Repeat
        );
        assert!(matches!(
            judge(&walk(&[10]), Status::AwaitingPayment),
            Transition::Refuse(_)
        ));
        assert!(matches!(
            judge(&walk(&[10, 20]), Status::Paid),
            Transition::Refuse(_)
        ));
        assert!(matches!(
            judge(&walk(&[10, 20, 30]), Status::Accepted),
            Transition::Refuse(_)
        ));
        assert!(matches!(
            judge(&walk(&[10, 20]), Status::Booking),
            Transition::Refuse(_)
        ));
    }

    #[test]
    fn cancel_from_any_non_final_status() {
        for path in [
            walk(&[10]),
            walk(&[10, 20]),
            walk(&[10, 20, 30, 40]),
            walk(&[10, 20, 50]),
        ] {
            assert_eq!(
                judge(&path, Status::Cancelled),
                Transition::Move,
                "{path:?}"
            );
        }
        let done = walk(&[10, 20, 30, 40, 50, 60]);
        assert!(matches!(
            judge(&done, Status::Cancelled),
            Transition::Refuse(_)
        ));
        let cancelled = walk(&[10, 20, 70]);
        assert_eq!(judge(&cancelled, Status::Cancelled), Transition::Repeat);
        assert!(matches!(
            judge(&cancelled, Status::AwaitingPayment),
            Transition::Refuse(_)
        ));
    }

    #[test]
    fn refusal_names_what_is_allowed() {
        let Transition::Refuse(reason) = judge(&walk(&[10, 20]), Status::Paid) else {
            panic!("20 → 40 must be refused");
        };
        assert!(reason.contains("30/50/70"), "{reason}");
    }
}
