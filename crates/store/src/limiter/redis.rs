//! The limiter shared by every node: one sorted set per (policy, caller) in Redis, holding the
//! admission times of the last window, decided by one Lua script so that the check and the
//! record are a single atomic step on the server (no read-then-write from a node). The script
//! keeps `cloudnexus_core::rate_limit::SlidingLog`'s rule and arithmetic exactly; the
//! conformance suite holds both limiters to the same answers.
//!
//! Times are the nodes' clocks (milliseconds, passed in), so nodes should run NTP; a key
//! expires a window after its newest admission, so Redis holds only the callers active within a
//! window. A Redis that cannot be reached, or does not answer within [`TIMEOUT`], makes
//! [`RateLimiter::admit`] fail with [`LimiterUnavailable`]: the request is refused with a 503,
//! never admitted unlimited.

use super::{Admission, LimiterUnavailable, RateLimiter, Verdict};
use async_trait::async_trait;
use cloudnexus_core::rate_limit::Decision;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long a connection attempt or a command may take before the limiter gives up.
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// The script: `KEYS[1]` the caller's log, `KEYS[2]` (optional) the gate's log; `ARGV` now,
/// the quota's requests and window, a member naming this admission, then the gate's requests
/// and window. Returns `{verdict, remaining, retry_after_millis, reset_millis}` with verdict 0
/// admitted, 1 over quota, 2 gate shut.
const ADMIT: &str = r"
local now = tonumber(ARGV[1])

local function decide(key, limit, window, member)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local len = redis.call('ZCARD', key)
  local admitted = len < limit
  local used = len
  if admitted then
    used = len + 1
    if member then
      redis.call('ZADD', key, now, member)
      redis.call('PEXPIRE', key, window)
    end
  end
  local remaining = math.max(limit - used, 0)
  local reset = 0
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if oldest[2] then
    reset = tonumber(oldest[2]) + window - now
  elseif admitted then
    reset = window
  end
  local retry = 0
  if remaining == 0 and limit > 0 then
    local e = redis.call('ZRANGE', key, used - limit, used - limit, 'WITHSCORES')
    if e[2] then
      retry = tonumber(e[2]) + window - now
    else
      retry = window
    end
  end
  return admitted, remaining, retry, reset
end

if KEYS[2] then
  local open, remaining, retry, reset = decide(KEYS[2], tonumber(ARGV[5]), tonumber(ARGV[6]), nil)
  if not open then
    return {2, remaining, retry, reset}
  end
end
local admitted, remaining, retry, reset = decide(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4])
if admitted then
  return {0, remaining, retry, reset}
end
return {1, remaining, retry, reset}
";

/// Rate limits kept in Redis, shared by every node that names the same server and key prefix.
pub struct RedisRateLimiter {
    connection: ConnectionManager,
    script: Script,
    /// Every key of this limiter starts with it, so deployments (or tests) can share a server.
    key_prefix: String,
    /// Makes the members this node records unique among the nodes' (with `node`).
    sequence: AtomicU64,
    /// A random name for this process.
    node: u64,
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

/// Why Redis could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RedisError(#[from] redis::RedisError);

impl RedisRateLimiter {
    /// Whether `authorities` (PEM) can be trusted for `url` (a `rediss://` URL), without
    /// connecting: what [`RedisRateLimiter::connect_trusting`] would refuse before it tries.
    pub fn check_authorities(url: &str, authorities: &[u8]) -> Result<(), RedisError> {
        Self::client(url, Some(authorities.to_vec())).map(drop)
    }

    fn client(url: &str, authorities: Option<Vec<u8>>) -> Result<Client, RedisError> {
        Ok(match authorities {
            None => Client::open(url)?,
            Some(root_cert) => Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert),
                },
            )?,
        })
    }

    /// Connects to `url` (`redis://[:PASSWORD@]HOST:PORT[/DB]`, or `rediss://` for TLS),
    /// failing within about [`TIMEOUT`] when the server does not answer. Later failures
    /// reconnect in the background; meanwhile admissions fail. A `rediss://` server's
    /// certificate is checked against the certificate authorities of `authorities` (PEM) only,
    /// for a deployment with a private authority, or against the system's when `None`.
    pub async fn connect_trusting(
        url: &str,
        key_prefix: &str,
        authorities: Option<Vec<u8>>,
    ) -> Result<Self, RedisError> {
        let client = Self::client(url, authorities)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(TIMEOUT);
        let connection = tokio::time::timeout(TIMEOUT * 3, ConnectionManager::new_with_config(client, config))
            .await
            .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "no answer from the server in time")))??;
        let limiter = Self {
            connection,
            script: Script::new(ADMIT),
            key_prefix: key_prefix.to_owned(),
            sequence: AtomicU64::new(0),
            node: rand::random(),
        };
        // Proves the server runs scripts (and loads this one) before the first request.
        limiter
            .script
            .prepare_invoke()
            .load_async(&mut limiter.connection.clone())
            .await?;
        Ok(limiter)
    }

    fn key(&self, admission: &Admission<'_>) -> String {
        format!("{}:rl:{}:{}", self.key_prefix, admission.policy, admission.caller)
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn admit(
        &self,
        admission: Admission<'_>,
        gate: Option<Admission<'_>>,
        now: i64,
    ) -> Result<Verdict, LimiterUnavailable> {
        let member = format!(
            "{now}-{:x}-{}",
            self.node,
            self.sequence.fetch_add(1, Ordering::Relaxed)
        );
        let mut invocation = self.script.key(self.key(&admission));
        invocation
            .arg(now)
            .arg(admission.quota.requests)
            .arg(admission.quota.window_millis)
            .arg(member);
        if let Some(gate) = gate {
            invocation
                .key(self.key(&gate))
                .arg(gate.quota.requests)
                .arg(gate.quota.window_millis);
        }
        let (verdict, remaining, retry_after_millis, reset_millis): (u8, u32, i64, i64) = invocation
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| LimiterUnavailable(Box::new(RedisError(e))))?;
        let decision = |admitted| Decision {
            admitted,
            remaining,
            retry_after_millis,
            reset_millis,
        };
        Ok(match verdict {
            0 => Verdict::Admitted(decision(true)),
            1 => Verdict::OverQuota(decision(false)),
            _ => Verdict::GateShut(decision(false)),
        })
    }
}
