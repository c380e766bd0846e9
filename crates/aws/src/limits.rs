//! The figures of the one client policy: attempts, timeouts, the largest answer read,
//! the fallback region. Stated here, not left to SDK defaults, and the same for every
//! service unless its line in [`super::services`] says otherwise.

use std::time::Duration;

/// Region of calls that name none when the environment names none either.
pub const FALLBACK_REGION: &str = "us-east-1";

/// Attempts per call, the first included, unless a [`Service`] needs more: the SDK's
/// standard retry mode (exponential backoff with jitter, a retry token bucket) retries
/// throttling, 5xx answers, timeouts and connection failures.
pub const MAX_ATTEMPTS: u32 = 3;
/// How long one attempt may take to connect.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);
/// How long one attempt may take from sending the request to reading the whole answer.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the answer's head may take once the request is sent: the attempt's whole
/// time, stated so that no SDK default cuts a slow but working service off sooner.
pub(super) const READ_TIMEOUT: Duration = ATTEMPT_TIMEOUT;

/// The largest answer Rolehop reads, by its declared `Content-Length` (AWS's are a few
/// KiB; an SSO portal page of 100 accounts, or an Organizations page, a few tens).
pub const MAX_RESPONSE_BYTES: u64 = 1024 * 1024;
