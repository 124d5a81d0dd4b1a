//! What falls due when, for the scheduler.

use cairn_model::schedule::Schedule;
use cairn_model::{Job, JobId};
use chrono::{DateTime, Utc};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

/// How often the agenda is rebuilt from the store even when nothing changed here, so jobs
/// created or resumed through another instance are picked up.
pub(crate) const REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

/// What falls due when: a min-heap of (next due time, job), so waking and firing cost
/// O(log jobs) rather than a pass over every job. Rebuilt from the store when jobs change
/// through this instance and at least every [`REFRESH`].
#[derive(Default)]
pub(crate) struct Agenda {
    heap: BinaryHeap<Reverse<(DateTime<Utc>, JobId)>>,
    entries: HashMap<JobId, Entry>,
    loaded_at: Option<Instant>,
}

struct Entry {
    job: Job,
    schedule: Schedule,
    /// The schedule counts from here: the last due time handled, or creation / resume.
    from: DateTime<Utc>,
}

impl Agenda {
    pub(crate) fn is_stale(&self) -> bool {
        self.loaded_at.is_none_or(|at| at.elapsed() >= REFRESH)
    }

    pub(crate) fn invalidate(&mut self) {
        self.loaded_at = None;
    }

    pub(crate) fn load(&mut self, jobs: Vec<(Job, DateTime<Utc>)>) {
        self.heap.clear();
        self.entries.clear();
        for (job, from) in jobs {
            match Schedule::parse(&job.schedule) {
                Ok(schedule) => {
                    self.heap
                        .push(Reverse((schedule.next_after(from), job.id.clone())));
                    self.entries.insert(
                        job.id.clone(),
                        Entry {
                            job,
                            schedule,
                            from,
                        },
                    );
                }
                Err(error) => {
                    tracing::error!(job.id = %job.id, %error, "stored schedule does not parse")
                }
            }
        }
        self.loaded_at = Some(Instant::now());
    }

    pub(crate) fn next_due(&self) -> Option<DateTime<Utc>> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Takes every entry due by `now` off the heap.
    pub(crate) fn take_due(&mut self, now: DateTime<Utc>) -> Vec<(Job, Schedule, DateTime<Utc>)> {
        let mut due = Vec::new();
        while let Some(Reverse((at, _))) = self.heap.peek() {
            if *at > now {
                break;
            }
            let Reverse((_, id)) = self.heap.pop().expect("peeked");
            if let Some(entry) = self.entries.get(&id) {
                due.push((entry.job.clone(), entry.schedule, entry.from));
            }
        }
        due
    }

    /// Puts a job back, its schedule now counting from `handled`.
    pub(crate) fn put_back(&mut self, job: &JobId, handled: DateTime<Utc>) {
        if let Some(entry) = self.entries.get_mut(job) {
            entry.from = handled;
            self.heap
                .push(Reverse((entry.schedule.next_after(handled), job.clone())));
        }
    }
}
