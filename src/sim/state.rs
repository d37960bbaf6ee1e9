//! The simulator's mutable state, shared by every request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio_util::sync::CancellationToken;

use super::SimStats;
use super::config::SimConfig;
use super::token::Mint;

/// Length of a rate-limit window, seconds.
pub(crate) const WINDOW_SECS: i64 = 60;

/// State behind the server handle and the request handler.
pub(crate) struct Shared {
    /// Users and settings; behind a lock so scenarios can change while running.
    pub config: Mutex<SimConfig>,
    /// Signing key and issued-token register.
    pub mint: Mutex<Mint>,
    /// Rate windows keyed by (database, user), both lower-cased.
    windows: Mutex<HashMap<(String, String), Window>>,
    /// Counters.
    pub stats: Mutex<SimStats>,
    /// Simulated clock minus real clock, seconds.
    clock_offset: AtomicI64,
    /// Cancelled when the server stops; hung requests end with it.
    pub stop: CancellationToken,
}

/// One fixed rate window: it opens at the first call and lasts [`WINDOW_SECS`].
#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    used: u64,
}

/// The rate-limit state a response reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateReading {
    /// Calls allowed per window.
    pub limit: u64,
    /// Calls left in this window after this one.
    pub remaining: u64,
    /// Unix seconds (simulated clock) when the window ends.
    pub reset: i64,
    /// True when this call was refused because the window was used up.
    pub exhausted: bool,
}

/// Locks a mutex, carrying on if a panicking request poisoned it: no update
/// here spans more than one step that could panic, so the data stays whole.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Fresh state for `config`.
    pub fn new(config: SimConfig) -> Self {
        let offset = config.clock_offset_secs;
        Self {
            config: Mutex::new(config),
            mint: Mutex::new(Mint::new()),
            windows: Mutex::new(HashMap::new()),
            stats: Mutex::new(SimStats::default()),
            clock_offset: AtomicI64::new(offset),
            stop: CancellationToken::new(),
        }
    }

    /// The simulated time, Unix seconds.
    pub fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.clock_offset.load(Ordering::Relaxed)
    }

    /// The simulated time as a date, for the `Date` header.
    pub fn now_utc(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::seconds(self.clock_offset.load(Ordering::Relaxed))
    }

    /// Moves the simulated clock by `secs` (negative goes back).
    pub fn shift_clock(&self, secs: i64) {
        self.clock_offset.fetch_add(secs, Ordering::Relaxed);
    }

    /// The current offset of the simulated clock, seconds.
    pub fn clock_offset(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    /// Counts one call for (`database`, `user`) against `limit` per window.
    ///
    /// A refused call (window used up) is not counted: it did no work.
    pub fn meter(&self, database: &str, user: &str, limit: u64, now: i64) -> RateReading {
        let key = (database.to_ascii_lowercase(), user.to_ascii_lowercase());
        let mut windows = lock(&self.windows);
        let window = windows.entry(key).or_insert(Window {
            start: now,
            used: 0,
        });
        if now >= window.start + WINDOW_SECS || now < window.start {
            *window = Window {
                start: now,
                used: 0,
            };
        }
        let reset = window.start + WINDOW_SECS;
        if window.used >= limit {
            return RateReading {
                limit,
                remaining: 0,
                reset,
                exhausted: true,
            };
        }
        window.used += 1;
        RateReading {
            limit,
            remaining: limit - window.used,
            reset,
            exhausted: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts_down_refuses_then_resets() {
        let shared = Shared::new(SimConfig::default());
        let first = shared.meter("Db", "U", 2, 100);
        assert_eq!(
            first,
            RateReading {
                limit: 2,
                remaining: 1,
                reset: 160,
                exhausted: false
            }
        );
        assert_eq!(shared.meter("db", "u", 2, 110).remaining, 0);
        let refused = shared.meter("DB", "u", 2, 120);
        assert!(refused.exhausted);
        assert_eq!(refused.reset, 160);
        // Other users have their own window.
        assert!(!shared.meter("Db", "Other", 2, 120).exhausted);
        // The window ends at its reset time.
        let next = shared.meter("Db", "U", 2, 160);
        assert_eq!(
            next,
            RateReading {
                limit: 2,
                remaining: 1,
                reset: 220,
                exhausted: false
            }
        );
    }
}
