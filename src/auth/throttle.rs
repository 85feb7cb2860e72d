//! In-memory login throttling, per account (the lowercased username, whether or not it
//! exists) and per client address.
//!
//! After [`ThrottlePolicy::account_limit`] failures within [`ThrottlePolicy::window`] for an
//! account ([`ThrottlePolicy::address_limit`] for an address), attempts are refused for a
//! back-off that starts at [`ThrottlePolicy::first_backoff`] and doubles at each new lock-out
//! up to [`ThrottlePolicy::max_backoff`]. When the back-off is over one attempt is allowed;
//! if it fails within a window of the lock-out's end, the next (doubled) back-off starts at
//! once. A window with no failure after a lock-out ends forgets it. A successful login clears its account's counter (not its
//! address's: one valid account must not reset an address that is guessing others).
//!
//! Attempts still being verified count against the limit, so a burst of parallel requests
//! cannot slip past it before the first failures are recorded.
//!
//! The logic is pure: every call takes the current [`Instant`], so tests drive a fake clock.
//! The state is lost on restart, which is acceptable for a speed bump (the audit log keeps
//! the record).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Limits of the throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// How long a failure counts (15 minutes).
    pub window: Duration,
    /// Failures within the window that lock an account (5).
    pub account_limit: usize,
    /// Failures within the window that lock an address (20).
    pub address_limit: usize,
    /// The first lock-out (30 s); each further one doubles.
    pub first_backoff: Duration,
    /// The longest lock-out (15 minutes).
    pub max_backoff: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            window: Duration::from_secs(15 * 60),
            account_limit: 5,
            address_limit: 20,
            first_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(15 * 60),
        }
    }
}

/// An attempt refused by the throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// When to try again.
    pub retry_after: Duration,
    /// True for the first refusal of a lock-out (the one worth recording in the audit log;
    /// the others would let a client fill the log at no cost).
    pub first: bool,
}

/// Counters beyond which idle entries are swept out, so that a spray of made-up usernames or
/// addresses cannot grow memory without bound.
const SWEEP_ABOVE: usize = 10_000;

/// Wait suggested while earlier attempts are still being verified.
const IN_FLIGHT_RETRY: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Counter {
    /// Times of the most recent failures (at most `limit` of them), oldest first.
    failures: VecDeque<Instant>,
    /// Attempts started and not yet finished.
    pending: usize,
    blocked_until: Option<Instant>,
    /// Lock-outs in a row; sets the back-off. Remembered until a window has passed since
    /// the last lock-out ended (`penalty_until`): a failure before then locks again at once.
    lockouts: u32,
    penalty_until: Option<Instant>,
    /// Whether the current lock-out has already been reported as refused.
    reported: bool,
}

impl Counter {
    fn prune(&mut self, now: Instant, window: Duration) {
        while self
            .failures
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            self.failures.pop_front();
        }
        if self.blocked_until.is_some_and(|until| until <= now) {
            self.blocked_until = None;
        }
        if self.penalty_until.is_some_and(|until| until <= now) {
            self.penalty_until = None;
            self.lockouts = 0;
        }
    }

    fn is_idle(&self) -> bool {
        self.failures.is_empty()
            && self.pending == 0
            && self.blocked_until.is_none()
            && self.penalty_until.is_none()
    }

    /// Refusal if this counter does not allow a new attempt (after `prune`).
    fn refusal(&self, now: Instant, limit: usize) -> Option<Refusal> {
        if let Some(until) = self.blocked_until {
            return Some(Refusal {
                retry_after: until.saturating_duration_since(now),
                first: !self.reported,
            });
        }
        if self.pending > 0 && self.failures.len() + self.pending >= limit {
            return Some(Refusal {
                retry_after: IN_FLIGHT_RETRY,
                first: false,
            });
        }
        None
    }

    fn fail(&mut self, now: Instant, limit: usize, policy: &ThrottlePolicy) {
        self.failures.push_back(now);
        while self.failures.len() > limit {
            self.failures.pop_front();
        }
        if self.lockouts > 0 || self.failures.len() >= limit {
            self.lockouts = self.lockouts.saturating_add(1);
            let doublings = self.lockouts.saturating_sub(1).min(31);
            let backoff = policy
                .first_backoff
                .saturating_mul(1u32 << doublings)
                .min(policy.max_backoff);
            let until = now + backoff;
            self.blocked_until = Some(until);
            self.penalty_until = Some(until + policy.window);
            self.reported = false;
        }
    }
}

/// The throttle state: one counter per account and per address.
#[derive(Debug, Default)]
pub struct Throttle {
    policy: ThrottlePolicy,
    accounts: HashMap<String, Counter>,
    addresses: HashMap<IpAddr, Counter>,
}

impl Throttle {
    /// An empty throttle with `policy`.
    pub fn new(policy: ThrottlePolicy) -> Throttle {
        Throttle {
            policy,
            ..Throttle::default()
        }
    }

    /// Starts an attempt for `account` (already lowercased) from `address`, or refuses it.
    /// Every `Ok` must be followed by exactly one [`Throttle::finish`].
    pub fn begin(
        &mut self,
        account: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Refusal> {
        let policy = self.policy;
        let mut refusal: Option<Refusal> = None;
        let mut consider = |r: Option<Refusal>| {
            if let Some(r) = r {
                refusal = Some(match refusal {
                    Some(old) if old.retry_after >= r.retry_after => Refusal {
                        first: old.first || r.first,
                        ..old
                    },
                    Some(old) => Refusal {
                        first: old.first || r.first,
                        ..r
                    },
                    None => r,
                });
            }
        };
        if let Some(c) = self.accounts.get_mut(account) {
            c.prune(now, policy.window);
            consider(c.refusal(now, policy.account_limit));
        }
        if let Some(c) = address.and_then(|a| self.addresses.get_mut(&a)) {
            c.prune(now, policy.window);
            consider(c.refusal(now, policy.address_limit));
        }
        if let Some(r) = refusal {
            // Only the first refusal of each lock-out is reported.
            for c in self
                .accounts
                .get_mut(account)
                .into_iter()
                .chain(address.and_then(|a| self.addresses.get_mut(&a)))
            {
                if c.blocked_until.is_some() {
                    c.reported = true;
                }
            }
            return Err(r);
        }
        self.accounts.entry(account.to_owned()).or_default().pending += 1;
        if let Some(a) = address {
            self.addresses.entry(a).or_default().pending += 1;
        }
        Ok(())
    }

    /// Ends an attempt started with [`Throttle::begin`].
    pub fn finish(&mut self, account: &str, address: Option<IpAddr>, success: bool, now: Instant) {
        let policy = self.policy;
        if let Some(c) = self.accounts.get_mut(account) {
            c.pending = c.pending.saturating_sub(1);
            if success {
                self.accounts.remove(account);
            } else {
                c.prune(now, policy.window);
                c.fail(now, policy.account_limit, &policy);
            }
        }
        if let Some(c) = address.and_then(|a| self.addresses.get_mut(&a)) {
            c.pending = c.pending.saturating_sub(1);
            c.prune(now, policy.window);
            if !success {
                c.fail(now, policy.address_limit, &policy);
            }
        }
        sweep(&mut self.accounts, now, policy.window);
        sweep(&mut self.addresses, now, policy.window);
    }
}

fn sweep<K: Eq + Hash>(map: &mut HashMap<K, Counter>, now: Instant, window: Duration) {
    if map.len() > SWEEP_ABOVE {
        map.retain(|_, c| {
            c.prune(now, window);
            !c.is_idle()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    fn fail(t: &mut Throttle, account: &str, address: Option<IpAddr>, now: Instant) {
        t.begin(account, address, now).unwrap();
        t.finish(account, address, false, now);
    }

    #[test]
    fn five_failures_lock_the_account_with_doubling_backoff() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        for i in 0..5 {
            fail(&mut t, "mario", ip(1), t0 + i * S);
        }
        let now = t0 + 4 * S;
        let r = t.begin("mario", ip(1), now).unwrap_err();
        assert_eq!(r.retry_after, 30 * S);
        assert!(r.first);
        // Later refusals of the same lock-out are not "first".
        let r = t.begin("mario", ip(2), now + 10 * S).unwrap_err();
        assert_eq!(r.retry_after, 20 * S);
        assert!(!r.first);
        // Another account is not affected.
        assert!(t.begin("luisa", ip(3), now).is_ok());
        t.finish("luisa", ip(3), true, now);

        // After the back-off one attempt is allowed; failing it doubles the back-off.
        let mut now = now + 30 * S;
        let mut expected = 60 * S;
        for _ in 0..8 {
            fail(&mut t, "mario", ip(1), now);
            let r = t.begin("mario", ip(1), now).unwrap_err();
            assert_eq!(r.retry_after, expected);
            assert!(r.first);
            now += expected;
            expected = (expected * 2).min(15 * 60 * S);
        }
        assert_eq!(expected, 15 * 60 * S, "the back-off reached its ceiling");
    }

    #[test]
    fn four_failures_do_not_lock_and_old_failures_expire() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        for i in 0..4 {
            fail(&mut t, "mario", None, t0 + i * S);
        }
        assert!(t.begin("mario", None, t0 + 5 * S).is_ok());
        t.finish("mario", None, false, t0 + 5 * S);
        assert!(t.begin("mario", None, t0 + 6 * S).is_err());
        // A window after the lock-out ended everything is forgotten, back-off included.
        let later = t0 + 5 * S + 30 * S + 15 * 60 * S;
        for i in 0..4 {
            fail(&mut t, "mario", None, later + i * S);
        }
        assert!(t.begin("mario", None, later + 5 * S).is_ok());
        t.finish("mario", None, false, later + 5 * S);
        let r = t.begin("mario", None, later + 5 * S).unwrap_err();
        assert_eq!(r.retry_after, 30 * S, "lock-outs were reset, so 30 s again");
    }

    #[test]
    fn success_clears_the_account_counter_but_not_the_address() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        for i in 0..4 {
            fail(&mut t, "mario", ip(1), t0 + i * S);
        }
        t.begin("mario", ip(1), t0 + 5 * S).unwrap();
        t.finish("mario", ip(1), true, t0 + 5 * S);
        for i in 0..4 {
            fail(&mut t, "mario", ip(1), t0 + (10 + i) * S);
        }
        assert!(t.begin("mario", ip(1), t0 + 20 * S).is_ok());
        t.finish("mario", ip(1), true, t0 + 20 * S);
        assert!(t.accounts.is_empty());
        assert_eq!(t.addresses[&IpAddr::from([192, 0, 2, 1])].failures.len(), 8);
    }

    #[test]
    fn twenty_failures_lock_the_address_across_accounts() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        for i in 0..20u32 {
            fail(&mut t, &format!("utente{}", i % 10), ip(7), t0 + i * S);
        }
        let now = t0 + 20 * S;
        let r = t.begin("nuovo", ip(7), now).unwrap_err();
        assert_eq!(r.retry_after, 29 * S);
        // The same account from another address is fine (it has only 2 failures).
        assert!(t.begin("nuovo", ip(8), now).is_ok());
        t.finish("nuovo", ip(8), true, now);
        assert!(t.begin("utente1", ip(8), now).is_ok());
    }

    #[test]
    fn attempts_in_flight_count_against_the_limit() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        for i in 0..3 {
            fail(&mut t, "mario", None, t0 + i * S);
        }
        let now = t0 + 3 * S;
        assert!(t.begin("mario", None, now).is_ok());
        assert!(t.begin("mario", None, now).is_ok());
        let r = t.begin("mario", None, now).unwrap_err();
        assert_eq!(r.retry_after, IN_FLIGHT_RETRY);
        assert!(!r.first);
        t.finish("mario", None, false, now);
        t.finish("mario", None, false, now);
        assert_eq!(t.begin("mario", None, now).unwrap_err().retry_after, 30 * S);
    }

    #[test]
    fn memory_is_bounded_by_sweeping_idle_counters() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        for i in 0..(SWEEP_ABOVE as u32 + 10) {
            fail(&mut t, &format!("u{i}"), None, t0);
        }
        assert!(t.accounts.len() > SWEEP_ABOVE);
        fail(&mut t, "ultimo", None, t0 + 16 * 60 * S);
        assert_eq!(t.accounts.len(), 1);
        // A locked counter survives a sweep while its lock-out is remembered.
        let t1 = t0 + 17 * 60 * S;
        for i in 0..5 {
            fail(&mut t, "bloccato", None, t1 + i * S);
        }
        for i in 0..(SWEEP_ABOVE as u32 + 10) {
            fail(&mut t, &format!("v{i}"), None, t1);
        }
        let t2 = t1 + 910 * S;
        fail(&mut t, "ultimo", None, t2);
        assert!(t.accounts.contains_key("bloccato"));
        assert_eq!(t.accounts.len(), 2);
        // Its lock-out ended (30 s) but one more failure doubles the back-off.
        t.begin("bloccato", None, t2).unwrap();
        t.finish("bloccato", None, false, t2);
        assert_eq!(
            t.begin("bloccato", None, t2).unwrap_err().retry_after,
            60 * S
        );
    }
}
