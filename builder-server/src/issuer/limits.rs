//! Per-address rate limits of the development issuer: its token endpoint
//! and its consent decisions, which are unauthenticated and each store
//! something, get so many requests a minute per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window of the per-address rate limits.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// Fixed one-minute windows of requests per client address. The map is swept
/// at most once a window, so a request costs amortized O(1).
pub(super) struct RateLimit {
    per_minute: u32,
    windows: Mutex<Windows>,
}

struct Windows {
    counts: HashMap<IpAddr, (Instant, u32)>,
    swept: Instant,
}

impl RateLimit {
    pub(super) fn new(per_minute: u32) -> Self {
        RateLimit {
            per_minute,
            windows: Mutex::new(Windows {
                counts: HashMap::new(),
                swept: Instant::now(),
            }),
        }
    }

    /// Counts a request from `address` (none: a caller without a socket,
    /// such as an in-process test) and says whether it is within the limit.
    pub(super) fn allow(&self, address: Option<IpAddr>) -> bool {
        let Some(address) = address else { return true };
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if now.saturating_duration_since(windows.swept) >= RATE_WINDOW {
            windows
                .counts
                .retain(|_, (started, _)| now.saturating_duration_since(*started) < RATE_WINDOW);
            windows.swept = now;
        }
        let (started, count) = windows.counts.entry(address).or_insert((now, 0));
        if now.saturating_duration_since(*started) >= RATE_WINDOW {
            (*started, *count) = (now, 0);
        }
        *count = count.saturating_add(1);
        *count <= self.per_minute
    }
}
