//! Answers kept in memory for a short time, which no write through this instance outlives.
//!
//! A reader takes a [`Reading`] ticket *before* it reads the store and keeps what it read only
//! if no write was under way at any moment since ([`Kept::keep`]); a writer holds a
//! [`Writing`] guard *across* its store write. So a read that overlaps a write in any way —
//! begun before the write committed, finished after — is never kept after the write returns,
//! and whoever made the write reads it back at once. Writes through other instances show when
//! the kept answer runs out.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub(crate) struct Kept<K, V> {
    state: Mutex<State<K, V>>,
    /// Entries kept at most; past it the map starts again (a bound whatever the keys).
    held: usize,
}

struct State<K, V> {
    entries: HashMap<K, (V, DateTime<Utc>)>,
    /// Moves when a write begins and when it ends.
    generation: u64,
    /// Writes under way now.
    writing: u32,
}

/// What a reader saw before it read: see [`Kept::keep`].
#[derive(Clone, Copy)]
pub(crate) struct Reading(u64);

/// Held across a store write; see the module's doc.
pub(crate) struct Writing<'a, K, V>(&'a Kept<K, V>);

impl<K: Hash + Eq, V: Clone> Kept<K, V> {
    pub(crate) fn new(held: usize) -> Self {
        Kept {
            state: Mutex::new(State {
                entries: HashMap::new(),
                generation: 0,
                writing: 0,
            }),
            held,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<K, V>> {
        self.state.lock().expect("kept answers")
    }

    /// The answer kept for `key`, if `now` is before its end.
    pub(crate) fn get(&self, key: &K, now: DateTime<Utc>) -> Option<V> {
        self.get_within(key, now, chrono::TimeDelta::zero())
    }

    /// The answer kept for `key`, if `now` is before its end plus `grace`.
    pub(crate) fn get_within(
        &self,
        key: &K,
        now: DateTime<Utc>,
        grace: chrono::TimeDelta,
    ) -> Option<V> {
        self.state()
            .entries
            .get(key)
            .filter(|(_, until)| now < *until + grace)
            .map(|(value, _)| value.clone())
    }

    /// Taken before reading the store.
    pub(crate) fn reading(&self) -> Reading {
        Reading(self.state().generation)
    }

    /// Keeps `value` until `until` if no write was under way since `reading`; says whether.
    pub(crate) fn keep(&self, reading: Reading, key: K, value: V, until: DateTime<Utc>) -> bool {
        let mut state = self.state();
        if state.writing > 0 || state.generation != reading.0 {
            return false;
        }
        if state.entries.len() >= self.held {
            state.entries.clear();
        }
        state.entries.insert(key, (value, until));
        true
    }

    /// Held across a store write that kept answers must not outlive.
    pub(crate) fn writing(&self) -> Writing<'_, K, V> {
        let mut state = self.state();
        state.generation += 1;
        state.writing += 1;
        Writing(self)
    }
}

impl<K, V> Drop for Writing<'_, K, V> {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().expect("kept answers");
        state.generation += 1;
        state.writing -= 1;
        state.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn an_answer_is_kept_until_its_end() {
        let kept = Kept::new(10);
        assert!(kept.keep(kept.reading(), "k", 1, at(5)));
        assert_eq!(kept.get(&"k", at(4)), Some(1));
        assert_eq!(kept.get(&"k", at(5)), None);
        assert_eq!(
            kept.get_within(&"k", at(5), chrono::TimeDelta::seconds(1)),
            Some(1)
        );
    }

    #[test]
    fn a_read_begun_before_a_write_ended_is_not_kept() {
        let kept = Kept::new(10);
        // Read, then a whole write, then the read's answer arrives.
        let reading = kept.reading();
        drop(kept.writing());
        assert!(!kept.keep(reading, "k", 1, at(5)));
        // A write begun during the read and not yet ended.
        let reading = kept.reading();
        let writing = kept.writing();
        assert!(!kept.keep(reading, "k", 1, at(5)));
        // A read begun while a write is under way, ending before it does.
        let reading = kept.reading();
        assert!(!kept.keep(reading, "k", 1, at(5)));
        drop(writing);
        assert!(kept.keep(kept.reading(), "k", 2, at(5)));
        assert_eq!(kept.get(&"k", at(0)), Some(2));
    }

    #[test]
    fn a_write_forgets_every_kept_answer() {
        let kept = Kept::new(10);
        kept.keep(kept.reading(), "a", 1, at(5));
        kept.keep(kept.reading(), "b", 2, at(5));
        drop(kept.writing());
        assert_eq!(kept.get(&"a", at(0)), None);
        assert_eq!(kept.get(&"b", at(0)), None);
    }

    #[test]
    fn no_more_than_the_bound_is_kept() {
        let kept = Kept::new(2);
        for key in 0..5 {
            kept.keep(kept.reading(), key, key, at(5));
        }
        assert!(kept.state().entries.len() <= 2);
    }
}
