//! Subscriptions executed once for many subscribers. Subscribers that send the same document,
//! operation and variables as the same caller, live (no resume point), see the same answers:
//! so one execution runs for all of them and each answer is written as JSON once, then sent
//! to each subscriber with its own operation id.
//!
//! Every subscriber is still checked on its own first: its request runs through the whole
//! schema (limits, validation, cost, scope, arguments) as an admission run whose stream ends
//! at once (`graphql::Admission`); only an admitted subscriber joins. A subscriber that falls
//! more than `websocket.shared_backlog` answers behind is not cut off: it continues on an execution of its
//! own that resumes after the last event it was sent.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak, atomic::Ordering},
};

use async_graphql::{Request, Response};
use futures::{FutureExt, StreamExt};
use tokio::{sync::broadcast, task::JoinHandle};

use crate::graphql::{AppSchema, Marks, Yielded};

/// What makes two subscriptions the same: who asks, and exactly what.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(super) struct Key {
    /// The caller (key, scopes, shops), as its debug text.
    pub caller: String,
    pub query: String,
    pub operation: Option<String>,
    /// The variables as JSON text (object keys sorted).
    pub variables: String,
}

/// One answer of a shared execution, written once.
#[derive(Clone, Debug)]
pub(super) enum Answer {
    /// A `next` payload, for the event with this id.
    Next(i64, Arc<str>),
    /// The execution was refused: the `error` payload.
    Refused(Arc<str>),
    /// The execution ended.
    End,
}

/// A running shared execution.
pub(super) struct Group {
    tx: broadcast::Sender<Answer>,
    /// Where its stream started, and the last event it yielded.
    marks: Arc<Marks>,
    /// The event of the last answer sent (0: none yet). Sent under the group's lock, so a
    /// subscriber joining gets every answer after this one.
    sent: i64,
    ended: bool,
    task: Option<JoinHandle<()>>,
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// A subscriber's place in a group: the answers from the moment it joined.
pub(super) struct Membership {
    pub answers: broadcast::Receiver<Answer>,
    /// The event of the last answer sent before it joined (0: none).
    joined_after: i64,
    marks: Arc<Marks>,
    _group: Arc<Mutex<Group>>,
}

impl Membership {
    /// Where a subscriber that fell behind resumes, given the last event it was sent (0:
    /// none): after that event, or after the last one sent before it joined, or after the
    /// point the execution started from. None before the execution has a starting point
    /// (an empty event log).
    pub fn resume_after(&self, last_sent: i64) -> Option<i64> {
        let start = self.marks.start.load(Ordering::Acquire);
        Some(last_sent.max(self.joined_after).max(start)).filter(|&id| id > 0)
    }
}

/// The shared executions of this instance.
pub(super) struct Groups {
    running: Mutex<HashMap<Key, Weak<Mutex<Group>>>>,
    backlog: usize,
}

/// A response as `next` or `error` payload text.
fn written(response: &Response) -> Answer {
    let refused = crate::graphql::not_run(response);
    let text = if refused {
        serde_json::to_string(&response.errors)
    } else {
        serde_json::to_string(response)
    };
    let text: Arc<str> = match text {
        Ok(t) => t.into(),
        Err(e) => {
            tracing::error!(error = %e, "a shared subscription answer could not be written as JSON");
            r#"[{"message":"the answer could not be written","extensions":{"code":"INTERNAL"}}]"#
                .into()
        }
    };
    if refused {
        Answer::Refused(text)
    } else {
        Answer::Next(0, text)
    }
}

impl Groups {
    pub fn new(backlog: usize) -> Self {
        Self {
            running: Mutex::default(),
            backlog: backlog.max(1),
        }
    }

    /// Joins the running execution for `key`, or starts one with `request` (run as the
    /// first subscriber's request).
    pub fn join(self: &Arc<Self>, schema: &AppSchema, key: Key, request: Request) -> Membership {
        let Ok(mut running) = self.running.lock() else {
            // A poisoned registry: run alone rather than not at all.
            return self.start(schema, key, request, None);
        };
        running.retain(|_, g| g.strong_count() > 0);
        if let Some(group) = running.get(&key).and_then(Weak::upgrade)
            && let Ok(g) = group.lock()
            && !g.ended
        {
            let membership = Membership {
                answers: g.tx.subscribe(),
                joined_after: g.sent,
                marks: g.marks.clone(),
                _group: group.clone(),
            };
            metrics::counter!("orderhub_ws_shared_subscriptions_total", "outcome" => "joined")
                .increment(1);
            return membership;
        }
        self.start(schema, key, request, Some(&mut running))
    }

    fn start(
        self: &Arc<Self>,
        schema: &AppSchema,
        key: Key,
        request: Request,
        running: Option<&mut HashMap<Key, Weak<Mutex<Group>>>>,
    ) -> Membership {
        metrics::counter!("orderhub_ws_shared_subscriptions_total", "outcome" => "started")
            .increment(1);
        let (tx, answers) = broadcast::channel(self.backlog);
        let marks = Arc::new(Marks::default());
        let group = Arc::new(Mutex::new(Group {
            tx,
            marks: marks.clone(),
            sent: 0,
            ended: false,
            task: None,
        }));
        if let Some(running) = running {
            running.insert(key.clone(), Arc::downgrade(&group));
        }
        let mut responses = schema.execute_stream(request.data(Yielded(marks.clone())));
        // Run it now up to its first wait, as a subscriber's own execution would run before
        // the socket reads its next message: by then it listens to the event bus, so nothing
        // committed after this subscriber's `subscribe` is missed. (The task polls it again,
        // so the waker registered here does not matter.) Under the registry's lock when it
        // is registered: nobody joins an execution that has not got this far.
        let first = responses.next().now_or_never();
        let (groups, weak, last) = (Arc::downgrade(self), Arc::downgrade(&group), marks.clone());
        let send = move |weak: &Weak<Mutex<Group>>, answer: Answer| -> bool {
            let Some(group) = weak.upgrade() else {
                return false;
            };
            let Ok(mut g) = group.lock() else {
                return false;
            };
            if let Answer::Next(id, _) = &answer {
                g.sent = *id;
            }
            // No receiver left: the group is being dropped.
            g.tx.send(answer).is_ok()
        };
        let task = tokio::spawn(async move {
            let mut responses = responses;
            let mut first = first;
            loop {
                let response = match first.take() {
                    Some(early) => early,
                    None => responses.next().await,
                };
                let Some(response) = response else { break };
                let answer = match written(&response) {
                    Answer::Next(_, text) => Answer::Next(last.last.load(Ordering::Acquire), text),
                    other => other,
                };
                if !send(&weak, answer) {
                    return;
                }
            }
            // Ended: taken out of the registry first, so nobody joins an ended execution.
            if let Some(groups) = groups.upgrade()
                && let Ok(mut running) = groups.running.lock()
            {
                if let Some(group) = weak.upgrade()
                    && let Ok(mut g) = group.lock()
                {
                    g.ended = true;
                    let _ = g.tx.send(Answer::End);
                }
                if running
                    .get(&key)
                    .is_some_and(|g| g.upgrade().is_none() || Weak::ptr_eq(g, &weak))
                {
                    running.remove(&key);
                }
            } else {
                send(&weak, Answer::End);
            }
        });
        if let Ok(mut g) = group.lock() {
            g.task = Some(task);
        }
        Membership {
            answers,
            joined_after: 0,
            marks,
            _group: group,
        }
    }
}
