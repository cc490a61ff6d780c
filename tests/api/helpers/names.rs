//! Names, time and the environment of a test run.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::*;

pub fn test_database_url() -> String {
    env_or("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
}

pub fn test_redis_url() -> String {
    env_or("TEST_REDIS_URL", DEFAULT_REDIS_URL)
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// `len` random lower-case hex digits.
pub fn random_hex(len: usize) -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        // RandomState is seeded from the OS once per process and differs
        // per instance; the counter and the clock make every call unique.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out.truncate(len);
    out
}

/// `et_test_<pid>_<hex>`: the only kind of name this suite creates.
pub fn unique_name() -> String {
    format!("et_test_{}_{}", std::process::id(), random_hex(12))
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// Runs a future to completion on a fresh runtime in its own thread, so
/// that `Drop` impls can do async clean-up whether or not they run inside
/// the test's runtime.
pub(super) fn run_on_side_runtime<F>(make: impl FnOnce() -> F + Send + 'static) -> F::Output
where
    F: Future,
    F::Output: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a clean-up runtime")
            .block_on(make())
    })
    .join()
    .expect("the clean-up thread panicked")
}
