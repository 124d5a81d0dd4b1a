//! Rate limits on the doors a password or a token is tried at: `POST /login`, `POST /setup`
//! and `POST /oauth/token`.
//!
//! Each door counts attempts per client address (its TCP peer; `X-Forwarded-For` is not
//! trusted, anyone can write it) and, where there is one, per account: the email for
//! `/login`, the refresh token's hash for `/oauth/token`. A refused attempt is told how many
//! seconds until the next one is allowed.
//!
//! The limiter is pure: every call is given the time, so tests simulate minutes without
//! sleeping. It holds at most [`MAX_KEYS`] keys, forgetting first those that carry no debt.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most keys one limiter remembers.
pub const MAX_KEYS: usize = 10_000;

/// A budget: `burst` attempts at once, then one more every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub every: Duration,
}

impl Rate {
    /// Every attempt from one address, at any door: 20 a minute, in a burst if need be.
    pub const ADDRESS: Rate = Rate {
        burst: 20,
        every: Duration::from_secs(3),
    };
    /// Failed sign-ins of one account: 10, then one every 30 s (2 880 a day at most, against
    /// passwords of 12 characters or more). A success forgives them.
    pub const ACCOUNT_FAILURES: Rate = Rate {
        burst: 10,
        every: Duration::from_secs(30),
    };
    /// Exchanges of one refresh token: an access token lasts an hour, so a client needs
    /// one an hour; 10 a minute leaves room for many clients sharing a token, and stops a
    /// loop from filling the database with access tokens.
    pub const TOKEN_EXCHANGES: Rate = Rate {
        burst: 10,
        every: Duration::from_secs(6),
    };

    /// The whole budget, as time: how far ahead of now a key's debt may run.
    fn window(self) -> Duration {
        self.every * self.burst
    }
}

/// A refused attempt: how long until the next one is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait(pub Duration);

impl Wait {
    /// Whole seconds, rounded up (never 0: "try again in 0 s" would be refused again).
    pub fn seconds(self) -> u64 {
        let whole = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        whole.max(1)
    }
}

/// Token buckets, one per key, kept as the time each is full again (a generic cell rate
/// algorithm): an attempt adds `every` to it, and is allowed while that stays within the
/// burst's window of now.
#[derive(Debug)]
pub struct Limiter {
    rate: Rate,
    max_keys: usize,
    /// Keys are hashed (with a key of this process's own): an attacker's megabyte email
    /// costs eight bytes here, and cannot be chosen to collide.
    hasher: RandomState,
    full_at: HashMap<u64, Instant>,
}

impl Limiter {
    pub fn new(rate: Rate) -> Limiter {
        Limiter::with_max_keys(rate, MAX_KEYS)
    }

    pub fn with_max_keys(rate: Rate, max_keys: usize) -> Limiter {
        Limiter {
            rate,
            max_keys: max_keys.max(1),
            hasher: RandomState::new(),
            full_at: HashMap::new(),
        }
    }

    fn key(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Whether `key` may make an attempt at `now`, without taking it.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Wait> {
        let full_at = self.full_at.get(&self.key(key)).copied().unwrap_or(now);
        let after = full_at.max(now) + self.rate.every;
        let debt = after.saturating_duration_since(now);
        match debt.checked_sub(self.rate.window()) {
            Some(wait) if !wait.is_zero() => Err(Wait(wait)),
            _ => Ok(()),
        }
    }

    /// Takes one attempt for `key` at `now`, or says how long to wait (taking nothing).
    pub fn take(&mut self, key: &str, now: Instant) -> Result<(), Wait> {
        self.check(key, now)?;
        let hashed = self.key(key);
        if !self.full_at.contains_key(&hashed) && self.full_at.len() >= self.max_keys {
            self.make_room(now);
        }
        let full_at = self.full_at.entry(hashed).or_insert(now);
        *full_at = (*full_at).max(now) + self.rate.every;
        Ok(())
    }

    /// Forgets `key`'s attempts (a success forgives the failures before it).
    pub fn forget(&mut self, key: &str) {
        let hashed = self.key(key);
        self.full_at.remove(&hashed);
    }

    /// Gives back the attempt `take` took (one that was not judged, e.g. the server was busy).
    pub fn give_back(&mut self, key: &str, now: Instant) {
        let hashed = self.key(key);
        if let Some(full_at) = self.full_at.get_mut(&hashed) {
            *full_at = full_at.checked_sub(self.rate.every).unwrap_or(now).max(now);
        }
    }

    /// How many keys it remembers.
    pub fn len(&self) -> usize {
        self.full_at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.full_at.is_empty()
    }

    /// Full: first forget the keys whose budget is whole again (they carry nothing), then,
    /// if that is not enough, the tenth of the keys nearest to it (the oldest debts).
    fn make_room(&mut self, now: Instant) {
        self.full_at.retain(|_, full_at| *full_at > now);
        if self.full_at.len() < self.max_keys {
            return;
        }
        let keep = self.max_keys - self.max_keys.div_ceil(10);
        let mut times: Vec<Instant> = self.full_at.values().copied().collect();
        let cut = times.len() - keep;
        let (_, threshold, _) = times.select_nth_unstable(cut - 1);
        let threshold = *threshold;
        let mut to_drop = cut;
        self.full_at.retain(|_, full_at| {
            if to_drop > 0 && *full_at <= threshold {
                to_drop -= 1;
                false
            } else {
                true
            }
        });
    }
}

/// Which budget refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Too many attempts from this address.
    Address(Wait),
    /// Too many (failed) attempts for this account.
    Account(Wait),
}

impl Refused {
    pub fn wait(self) -> Wait {
        match self {
            Refused::Address(wait) | Refused::Account(wait) => wait,
        }
    }
}

/// How long an address that signed in to an account stays known for it.
pub const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// One door: a budget per address and, optionally, one per account.
///
/// An address that got in to an account is known for it ([`KNOWN_FOR`]): its attempts for
/// that account skip the account's budget (its address budget still counts), so whoever
/// hammers an account with wrong passwords cannot lock out the people who use it.
#[derive(Debug)]
pub struct Door {
    by_address: Limiter,
    by_account: Limiter,
    /// (address, account) pairs that succeeded, by their hash, with when that stops counting.
    known: HashMap<u64, Instant>,
    hasher: RandomState,
}

impl Door {
    pub fn new(address: Rate, account: Rate) -> Door {
        Door {
            by_address: Limiter::new(address),
            by_account: Limiter::new(account),
            known: HashMap::new(),
            hasher: RandomState::new(),
        }
    }

    fn pair(&self, address: &str, account: &str) -> u64 {
        self.hasher.hash_one((address, account))
    }

    fn is_known(&self, address: &str, account: &str, now: Instant) -> bool {
        self.known
            .get(&self.pair(address, account))
            .is_some_and(|until| now < *until)
    }

    /// Lets an attempt through (taking from both budgets), or says which refused and how
    /// long to wait. A refused account still costs its address the attempt; a refused address
    /// costs the account nothing.
    pub fn enter(
        &mut self,
        address: &str,
        account: Option<&str>,
        now: Instant,
    ) -> Result<(), Refused> {
        self.by_address
            .take(address, now)
            .map_err(Refused::Address)?;
        if let Some(account) = account.filter(|a| !self.is_known(address, a, now)) {
            self.by_account
                .take(account, now)
                .map_err(Refused::Account)?;
        }
        Ok(())
    }

    /// The attempt from `address` succeeded: the account's failures are forgiven, and the
    /// address is known for the account from now on.
    pub fn succeeded(&mut self, address: &str, account: &str, now: Instant) {
        self.by_account.forget(account);
        if self.known.len() >= MAX_KEYS {
            self.known.retain(|_, until| *until > now);
            if self.known.len() >= MAX_KEYS {
                self.known.clear();
            }
        }
        let pair = self.pair(address, account);
        self.known.insert(pair, now + KNOWN_FOR);
    }

    /// The attempt was not judged (the server could not check it): it does not count
    /// against the account.
    pub fn not_judged(&mut self, account: &str, now: Instant) {
        self.by_account.give_back(account, now);
    }
}

/// The doors of one console, each with budgets of its own (a busy token endpoint does not
/// lock people out of the sign-in page).
#[derive(Debug)]
pub struct Throttle {
    /// `POST /login` (and the password change, which checks a password too): every attempt
    /// per address, failures per email.
    pub login: Mutex<Door>,
    /// `POST /setup`: every attempt per address.
    pub setup: Mutex<Door>,
    /// `POST /oauth/token`: every attempt per address and per refresh token.
    pub token: Mutex<Door>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            login: Mutex::new(Door::new(Rate::ADDRESS, Rate::ACCOUNT_FAILURES)),
            setup: Mutex::new(Door::new(Rate::ADDRESS, Rate::ACCOUNT_FAILURES)),
            token: Mutex::new(Door::new(Rate::ADDRESS, Rate::TOKEN_EXCHANGES)),
        }
    }
}

impl Throttle {
    /// Runs `f` on a door (the lock is held only for that moment).
    pub fn at<T>(door: &Mutex<Door>, f: impl FnOnce(&mut Door) -> T) -> T {
        let mut door = door.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut door)
    }
}

/// The account key of an email: as the core stores it (trimmed, lower case), so `Ops@` and
/// `ops@` share a budget.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The client's address, as a limiter key: the TCP peer's IP (IPv6 by its /64, what one
/// machine or home is given). Requests with no peer (in-process tests) share "unknown".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);

impl ClientAddress {
    pub fn of(peer: Option<SocketAddr>) -> ClientAddress {
        let Some(peer) = peer else {
            return ClientAddress("unknown".into());
        };
        let key = match peer.ip() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
                Some(ip) => ip.to_string(),
                None => {
                    let s = ip.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        };
        ClientAddress(key)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .ok()
            .map(|ConnectInfo(peer)| peer);
        Ok(ClientAddress::of(peer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn an_address_gets_twenty_attempts_a_minute_and_is_told_the_seconds_to_the_next() {
        let mut limiter = Limiter::new(Rate::ADDRESS);
        let t0 = Instant::now();
        for attempt in 0..20 {
            assert_eq!(limiter.take("10.0.0.1", t0), Ok(()), "attempt {attempt}");
        }
        assert_eq!(
            limiter.take("10.0.0.1", t0),
            Err(Wait(Duration::from_secs(3)))
        );
        assert_eq!(
            limiter.take("10.0.0.1", t0 + Duration::from_millis(1500)),
            Err(Wait(Duration::from_millis(1500))),
            "the wait shrinks as time passes"
        );
        assert_eq!(Wait(Duration::from_millis(1500)).seconds(), 2, "rounded up");
        assert_eq!(
            limiter.take("10.0.0.2", t0),
            Ok(()),
            "others are not held up"
        );
        assert_eq!(
            limiter.take("10.0.0.1", t0 + Duration::from_secs(3)),
            Ok(())
        );
        assert!(limiter
            .take("10.0.0.1", t0 + Duration::from_secs(3))
            .is_err());
        // A quiet minute gives the whole budget back.
        let later = t0 + Duration::from_secs(3) + MINUTE;
        for attempt in 0..20 {
            assert_eq!(limiter.take("10.0.0.1", later), Ok(()), "attempt {attempt}");
        }
        assert!(limiter.take("10.0.0.1", later).is_err());
    }

    #[test]
    fn a_refused_attempt_takes_nothing_so_waiting_the_time_said_is_enough() {
        let mut limiter = Limiter::new(Rate {
            burst: 1,
            every: MINUTE,
        });
        let t0 = Instant::now();
        limiter.take("k", t0).unwrap();
        for second in 1..60 {
            let now = t0 + Duration::from_secs(second);
            assert_eq!(
                limiter.take("k", now).unwrap_err().seconds(),
                60 - second,
                "hammering does not push the next attempt further away"
            );
        }
        assert_eq!(limiter.take("k", t0 + MINUTE), Ok(()));
    }

    #[test]
    fn a_success_forgives_the_failures_of_its_account_and_an_unjudged_attempt_is_given_back() {
        let mut door = Door::new(Rate::ADDRESS, Rate::ACCOUNT_FAILURES);
        let t0 = Instant::now();
        for attempt in 0..10 {
            let address = format!("10.0.0.{attempt}");
            door.enter(&address, Some("ops@example.com"), t0).unwrap();
        }
        let Err(Refused::Account(wait)) = door.enter("10.0.1.1", Some("ops@example.com"), t0)
        else {
            panic!("the eleventh failure in a row is refused, from any address");
        };
        assert_eq!(wait.seconds(), 30);
        door.succeeded("10.0.9.9", "ops@example.com", t0);
        for _ in 0..10 {
            door.enter("10.0.2.1", Some("ops@example.com"), t0).unwrap();
            door.not_judged("ops@example.com", t0);
        }
        assert_eq!(
            door.enter("10.0.2.1", Some("ops@example.com"), t0),
            Ok(()),
            "attempts given back do not count"
        );
    }

    #[test]
    fn whoever_hammers_an_account_does_not_lock_out_an_address_that_signed_in_to_it() {
        let mut door = Door::new(Rate::ADDRESS, Rate::ACCOUNT_FAILURES);
        let t0 = Instant::now();
        door.enter("10.0.0.1", Some("ops@example.com"), t0).unwrap();
        door.succeeded("10.0.0.1", "ops@example.com", t0);
        // An attacker spends the account's budget from addresses of its own...
        for n in 0..20 {
            let _ = door.enter(&format!("192.0.2.{n}"), Some("ops@example.com"), t0);
        }
        assert!(matches!(
            door.enter("192.0.2.99", Some("ops@example.com"), t0),
            Err(Refused::Account(_))
        ));
        // ...and the owner, from where they signed in before, still gets in.
        assert_eq!(door.enter("10.0.0.1", Some("ops@example.com"), t0), Ok(()));
        // Known for 30 days, not for ever.
        let later = t0 + KNOWN_FOR;
        for n in 0..20 {
            let _ = door.enter(&format!("198.51.100.{n}"), Some("ops@example.com"), later);
        }
        assert!(matches!(
            door.enter("10.0.0.1", Some("ops@example.com"), later),
            Err(Refused::Account(_))
        ));
    }

    #[test]
    fn a_refused_address_costs_the_account_nothing() {
        let mut door = Door::new(
            Rate {
                burst: 1,
                every: MINUTE,
            },
            Rate {
                burst: 1,
                every: MINUTE,
            },
        );
        let t0 = Instant::now();
        door.enter("10.0.0.1", Some("a@example.com"), t0).unwrap();
        assert!(matches!(
            door.enter("10.0.0.1", Some("b@example.com"), t0),
            Err(Refused::Address(_))
        ));
        assert_eq!(door.enter("10.0.0.2", Some("b@example.com"), t0), Ok(()));
    }

    #[test]
    fn the_limiter_holds_at_most_its_keys_and_forgets_whole_budgets_first() {
        let rate = Rate {
            burst: 5,
            every: MINUTE,
        };
        let mut limiter = Limiter::with_max_keys(rate, 100);
        let t0 = Instant::now();
        // One key deep in debt, then a spray of keys that each try once.
        for _ in 0..5 {
            limiter.take("victim", t0).unwrap();
        }
        for n in 0..10_000 {
            let now = t0 + Duration::from_millis(n);
            limiter.take(&format!("spray-{n}"), now).unwrap();
            assert!(limiter.len() <= 100, "{} keys", limiter.len());
        }
        assert!(
            limiter
                .take("victim", t0 + Duration::from_secs(10))
                .is_err(),
            "the deepest debt is the last forgotten"
        );

        // Keys whose budget is whole again carry nothing: they make room first.
        let mut small = Limiter::with_max_keys(rate, 10);
        for n in 0..10 {
            small.take(&format!("k{n}"), t0).unwrap();
        }
        assert_eq!(small.len(), 10);
        small.take("newcomer", t0 + MINUTE).unwrap();
        assert_eq!(small.len(), 1);
    }

    #[test]
    fn addresses_are_keyed_by_ip_and_ipv6_by_its_64_bit_prefix() {
        let key = |text: &str| ClientAddress::of(Some(text.parse().unwrap())).0;
        assert_eq!(key("192.0.2.7:51000"), "192.0.2.7");
        assert_eq!(
            key("192.0.2.7:51001"),
            "192.0.2.7",
            "the port does not matter"
        );
        assert_eq!(key("[::ffff:192.0.2.7]:443"), "192.0.2.7");
        assert_eq!(
            key("[2001:db8:1:2:aaaa::1]:443"),
            key("[2001:db8:1:2:bbbb::9]:443")
        );
        assert_ne!(key("[2001:db8:1:2::1]:443"), key("[2001:db8:1:3::1]:443"));
        assert_eq!(ClientAddress::of(None).0, "unknown");
    }
}
