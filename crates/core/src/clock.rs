//! Time as the service sees it: whole-second UTC timestamps, and a `Clock` that tests can
//! move by hand instead of waiting.

use serde::{Serialize, Serializer};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::OffsetDateTime;
use time::macros::format_description;

/// A point in time, in whole seconds since the Unix epoch (UTC). Shown as RFC 3339 with `Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Self(seconds)
    }

    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// This time plus `seconds`, saturating instead of overflowing.
    pub const fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    /// RFC 3339 in UTC with whole seconds, e.g. `2024-08-12T14:32:00Z`.
    pub fn to_rfc3339(self) -> String {
        self.with_rfc3339(str::to_owned)
    }

    /// Hands this time's RFC 3339 text to `use_text`, without allocating for the years 0 to 9999.
    pub fn with_rfc3339<R>(self, use_text: impl FnOnce(&str) -> R) -> R {
        match self.rfc3339_text() {
            Some(text) => use_text(std::str::from_utf8(&text).unwrap_or_default()),
            None => use_text(&self.to_rfc3339_slow()),
        }
    }

    /// [`Timestamp::to_rfc3339`] for the years 0 to 9999, in a fixed-size array: list pages
    /// write one or more per bucket, and the general formatter (which interprets a format
    /// description) took a tenth of a page's rendering.
    fn rfc3339_text(self) -> Option<[u8; 20]> {
        let t = OffsetDateTime::from_unix_timestamp(self.0).ok()?;
        let year = u32::try_from(t.year()).ok().filter(|year| *year <= 9999)?;
        let mut text = *b"0000-00-00T00:00:00Z";
        write_digits(&mut text[0..4], year);
        write_digits(&mut text[5..7], u32::from(u8::from(t.month())));
        write_digits(&mut text[8..10], u32::from(t.day()));
        write_digits(&mut text[11..13], u32::from(t.hour()));
        write_digits(&mut text[14..16], u32::from(t.minute()));
        write_digits(&mut text[17..19], u32::from(t.second()));
        Some(text)
    }

    /// The general formatter, for times outside the years 0 to 9999.
    fn to_rfc3339_slow(self) -> String {
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
    }

    /// Parses the RFC 3339 form that [`Timestamp::to_rfc3339`] writes (any offset accepted).
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let parsed = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
        Some(Self(parsed.unix_timestamp()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_rfc3339(|text| f.write_str(text))
    }
}

/// Writes `n`'s last `out.len()` decimal digits into `out`, zero-padded.
fn write_digits(out: &mut [u8], mut n: u32) {
    for digit in out.iter_mut().rev() {
        *digit = b"0123456789"[(n % 10) as usize];
        n /= 10;
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_rfc3339(|text| serializer.serialize_str(text))
    }
}

/// Where the service reads the time from.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;

    /// The current whole second.
    fn now(&self) -> Timestamp {
        Timestamp(self.now_millis().div_euclid(1000))
    }
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }
}

/// A clock that only moves when told to; clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn starting_at(t: Timestamp) -> Self {
        Self(Arc::new(AtomicI64::new(t.0 * 1000)))
    }

    pub fn advance(&self, seconds: i64) {
        self.advance_millis(seconds * 1000);
    }

    pub fn advance_millis(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }

    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0 * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_reference_page() {
        let t = Timestamp::parse_rfc3339("2024-08-12T14:32:00Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-08-12T14:32:00Z");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"2024-08-12T14:32:00Z\"");
    }

    #[test]
    fn the_fast_text_is_the_general_formatters() {
        // Edges of the fast path's years, leap days, month and day ends, and a spread between.
        let mut times = vec![
            i64::MIN,
            -62_167_219_201, // one second before 0000-01-01T00:00:00Z
            -62_167_219_200, // 0000-01-01T00:00:00Z
            -1,
            0,
            951_782_400,     // 2000-02-29T00:00:00Z
            4_107_542_399,   // 2100-02-28T23:59:59Z
            253_402_300_799, // 9999-12-31T23:59:59Z
            253_402_300_800, // 10000-01-01: past the fast path and the time crate
            i64::MAX,
        ];
        let mut t: i64 = -62_167_219_200;
        while t < 253_402_300_799 {
            times.push(t);
            t += 7_919_993; // about three months, a prime number of seconds
        }
        for t in times {
            let time = Timestamp::from_unix_seconds(t);
            let general = time.to_rfc3339_slow();
            assert_eq!(time.to_rfc3339(), general, "{t}");
            assert_eq!(serde_json::to_string(&time).unwrap(), format!("\"{general}\""), "{t}");
            assert_eq!(time.to_string(), general, "{t}");
            if let Some(text) = time.rfc3339_text() {
                assert_eq!(
                    Timestamp::parse_rfc3339(std::str::from_utf8(&text).unwrap()),
                    Some(time)
                );
            }
        }
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::starting_at(Timestamp::from_unix_seconds(100));
        let shared = clock.clone();
        assert_eq!(clock.now().unix_seconds(), 100);
        shared.advance(5);
        assert_eq!(clock.now().unix_seconds(), 105);
        shared.advance_millis(999);
        assert_eq!(clock.now().unix_seconds(), 105);
        assert_eq!(clock.now_millis(), 105_999);
    }
}
