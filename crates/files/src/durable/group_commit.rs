//! Group commit: calls that arrive together share one write.
//!
//! Every call joins a queue. When no commit is running, the caller that finds the queue
//! idle becomes the writer: it takes everything queued (its own call among it), may take
//! in what queues while it works ([`Intake::take`]), and hands every caller it took its
//! own answer. The others sleep on a condition variable until their answer is there or
//! the writer is done (then one of them writes the next batch). Nobody spins and nobody
//! waits on a clock: a lone call is written at once, and calls that arrive during a
//! write form the next batch by themselves, so twenty sessions started together cost one
//! or two writes, not twenty.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Identifies one call in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket(u64);

struct Queue<Op, Out> {
    next_ticket: u64,
    waiting: Vec<(Ticket, Op)>,
    answers: HashMap<Ticket, Out>,
    committing: bool,
}

/// A queue of `Op`s, each answered with an `Out`.
pub struct GroupCommit<Op, Out> {
    queue: Mutex<Queue<Op, Out>>,
    done: Condvar,
}

impl<Op, Out> Default for GroupCommit<Op, Out> {
    fn default() -> Self {
        Self {
            queue: Mutex::new(Queue {
                next_ticket: 0,
                waiting: Vec::new(),
                answers: HashMap::new(),
                committing: false,
            }),
            done: Condvar::new(),
        }
    }
}

/// A running commit's access to the queue: what it took, and the calls queued since.
pub struct Intake<'a, Op, Out> {
    group: &'a GroupCommit<Op, Out>,
    taken: Vec<Ticket>,
}

impl<Op, Out> Intake<'_, Op, Out> {
    /// Takes every call queued since the last take; the commit must answer them too.
    pub fn take(&mut self) -> Vec<(Ticket, Op)> {
        let newcomers = std::mem::take(&mut self.group.lock().waiting);
        self.taken.extend(newcomers.iter().map(|(t, _)| *t));
        newcomers
    }

    /// Every call this commit took so far.
    pub fn taken(&self) -> &[Ticket] {
        &self.taken
    }
}

impl<Op, Out> GroupCommit<Op, Out> {
    fn lock(&self) -> MutexGuard<'_, Queue<Op, Out>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `op` and waits for its answer. When no commit is running, this caller runs
    /// `commit` over the batch (its own call included) and an [`Intake`] for later calls;
    /// `commit` returns an answer per ticket it took. A ticket left unanswered (by a
    /// commit that forgot it or panicked) gets `unanswered()`, so no caller waits forever.
    pub fn submit<C, U>(&self, op: Op, commit: C, unanswered: U) -> Out
    where
        C: FnOnce(Vec<(Ticket, Op)>, &mut Intake<'_, Op, Out>) -> Vec<(Ticket, Out)>,
        U: Fn() -> Out,
    {
        let mut commit = Some(commit);
        let mut queue = self.lock();
        let ticket = Ticket(queue.next_ticket);
        queue.next_ticket += 1;
        queue.waiting.push((ticket, op));
        loop {
            if let Some(answer) = queue.answers.remove(&ticket) {
                return answer;
            }
            if queue.committing {
                queue = self
                    .done
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Our call is still queued (it is answered only by a commit that took it), so
            // this commit takes it and the next turn of the loop returns its answer: a
            // caller commits at most once.
            let commit = commit.take().expect("a caller commits at most once");
            queue.committing = true;
            let batch = std::mem::take(&mut queue.waiting);
            drop(queue);
            let mut intake = Intake {
                group: self,
                taken: batch.iter().map(|(t, _)| *t).collect(),
            };
            let answers = std::panic::catch_unwind(AssertUnwindSafe(|| commit(batch, &mut intake)))
                .unwrap_or_default();
            let mut answers: HashMap<Ticket, Out> = answers.into_iter().collect();
            queue = self.lock();
            for taken in intake.taken {
                let answer = answers.remove(&taken).unwrap_or_else(&unanswered);
                queue.answers.insert(taken, answer);
            }
            queue.committing = false;
            self.done.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    type Log = Mutex<Vec<Vec<u32>>>;

    /// A commit that records its batch and answers each op with twice its value.
    fn double_all(
        log: &Log,
        batch: Vec<(Ticket, u32)>,
        intake: &mut Intake<'_, u32, u32>,
    ) -> Vec<(Ticket, u32)> {
        let mut all = batch;
        all.extend(intake.take());
        log.lock()
            .unwrap()
            .push(all.iter().map(|(_, op)| *op).collect());
        all.into_iter().map(|(t, op)| (t, op * 2)).collect()
    }

    #[test]
    fn a_lone_call_is_committed_by_its_caller_at_once() {
        let group = GroupCommit::default();
        let log = Log::default();
        assert_eq!(group.submit(21, |b, i| double_all(&log, b, i), || 0), 42);
        assert_eq!(*log.lock().unwrap(), [vec![21]]);
    }

    /// Waits (bounded, so a broken queue fails instead of hanging) until `cond` holds.
    fn eventually(cond: impl Fn() -> bool) {
        for _ in 0..60_000 {
            if cond() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        panic!("the queue never got there");
    }

    #[test]
    fn calls_queued_during_a_commit_are_taken_in_and_each_gets_its_own_answer() {
        const OTHERS: u32 = 31;
        let group = Arc::new(GroupCommit::<u32, u32>::default());
        let log = Arc::new(Log::default());
        // The first call's commit holds on until every other call is queued behind it.
        let first = {
            let (group, log) = (group.clone(), log.clone());
            std::thread::spawn(move || {
                let gate = {
                    let group = group.clone();
                    move || eventually(|| group.lock().waiting.len() == OTHERS as usize)
                };
                group.submit(
                    100,
                    |batch, intake| {
                        gate();
                        double_all(&log, batch, intake)
                    },
                    || u32::MAX,
                )
            })
        };
        eventually(|| group.lock().committing);
        let others: Vec<_> = (0..OTHERS)
            .map(|i| {
                let (group, log) = (group.clone(), log.clone());
                std::thread::spawn(move || {
                    (
                        i,
                        group.submit(i, |b, t| double_all(&log, b, t), || u32::MAX),
                    )
                })
            })
            .collect();
        assert_eq!(first.join().unwrap(), 200);
        for t in others {
            let (i, answer) = t.join().unwrap();
            assert_eq!(answer, i * 2);
        }
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 1, "one commit for all: {log:?}");
        let mut seen = log[0].clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..OTHERS).chain([100]).collect::<Vec<_>>());
    }

    #[test]
    fn a_commit_that_panics_answers_every_call_it_took_and_the_next_one_runs() {
        let group = GroupCommit::<u32, u32>::default();
        let answer = group.submit(1, |_, _| panic!("commit failed"), || 7);
        assert_eq!(answer, 7);
        let log = Log::default();
        assert_eq!(group.submit(5, |b, i| double_all(&log, b, i), || 0), 10);
    }

    #[test]
    fn a_commit_that_forgets_a_call_gives_it_the_fallback_answer() {
        let group = GroupCommit::<u32, u32>::default();
        assert_eq!(group.submit(1, |_, _| Vec::new(), || 99), 99);
    }
}
