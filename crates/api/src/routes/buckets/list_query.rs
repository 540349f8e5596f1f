//! The query string of `GET /v1/buckets`, parsed strictly: every parameter checked, unknown or
//! repeated ones refused, each error naming its parameter and what to send instead.

use crate::error::{ApiError, FieldError};
use cloudnexus_core::listing::{BucketFilter, DEFAULT_LIMIT, MAX_LIMIT};
use cloudnexus_core::{RegionSet, TagFilter};

/// The parameters the endpoint takes.
pub const PARAMETERS: &[&str] = &["limit", "offset", "cursor", "prefix", "region", "tag", "include"];
/// The longest prefix that can match (the longest bucket name).
const MAX_PREFIX_LEN: usize = 63;

/// A list request before its cursor is checked (which needs the caller's project).
#[derive(Debug, PartialEq, Eq)]
pub struct ListParams {
    pub filter: BucketFilter,
    pub limit: u32,
    pub offset: Option<u64>,
    pub cursor: Option<String>,
}

/// `&reg` in a copied URL is often turned into `®` by an HTML renderer (`&region=` becomes
/// `®ion=`); the hint says so.
const REGISTERED_SIGN_HINT: &str = " The query holds `®`: when a URL such as `?limit=25&region=us-east-1` is copied from a web page, `&reg` is often turned into `®`; type `&region=` again by hand.";

pub fn parse(raw_query: Option<&str>, regions: &RegionSet) -> Result<ListParams, ApiError> {
    let raw = raw_query.unwrap_or("");
    let hint = if raw.contains('®') || raw.contains("%C2%AE") || raw.contains("%c2%ae") {
        REGISTERED_SIGN_HINT
    } else {
        ""
    };
    let mut errors = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let (mut limit, mut offset, mut cursor, mut prefix, mut region, mut include_deleted) =
        (None, None, None, None, None, false);
    let mut tags = Vec::new();

    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        if name != "tag" && seen.iter().any(|s| *s == name) {
            errors.push(FieldError::new(name.as_ref(), "is given more than once; send it once"));
            continue;
        }
        seen.push(name.to_string());
        match name.as_ref() {
            "limit" => match value.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => limit = Some(n),
                Ok(n) => errors.push(FieldError::new(
                    "limit",
                    format!("must be between 1 and {MAX_LIMIT} (got {n}); omit it for the default of {DEFAULT_LIMIT}"),
                )),
                Err(_) => errors.push(FieldError::new(
                    "limit",
                    format!("must be a whole number between 1 and {MAX_LIMIT} (got {value:?}).{hint}"),
                )),
            },
            "offset" => match value.parse::<u64>() {
                Ok(n) if i64::try_from(n).is_ok() => offset = Some(n),
                _ => errors.push(FieldError::new(
                    "offset",
                    format!("must be a whole number, 0 or more (got {value:?}).{hint}"),
                )),
            },
            "cursor" if value.is_empty() => errors.push(FieldError::new(
                "cursor",
                "is empty; pass the `next_cursor` of an earlier page, or omit `cursor` for the first page",
            )),
            "cursor" => cursor = Some(value.into_owned()),
            "prefix" if value.chars().count() > MAX_PREFIX_LEN => errors.push(FieldError::new(
                "prefix",
                format!("must be at most {MAX_PREFIX_LEN} characters, the longest a bucket name can be"),
            )),
            "prefix" => prefix = Some(value.into_owned()),
            "region" => match regions.parse(&value) {
                Ok(r) => region = Some(r),
                Err(e) => errors.push(FieldError::new("region", format!("{e}.{hint}"))),
            },
            "tag" => match TagFilter::parse(&value) {
                Ok(t) => tags.push(t),
                Err(e) => errors.push(FieldError::new(
                    "tag",
                    format!("{e}; send `tag=key` or `tag=key:value`, repeated to require several"),
                )),
            },
            "include" if value == "deleted" => include_deleted = true,
            "include" => errors.push(FieldError::new(
                "include",
                format!("the only accepted value is `deleted` (got {value:?})"),
            )),
            other => errors.push(FieldError::new(
                other,
                format!(
                    "is not a parameter of this endpoint; the parameters are: {}.{hint}",
                    PARAMETERS.join(", ")
                ),
            )),
        }
    }
    if cursor.is_some() && offset.is_some() {
        errors.push(FieldError::new(
            "cursor",
            "cannot be combined with `offset`: a cursor already marks where the page starts; send `cursor` alone, or `offset` alone",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(ListParams {
        filter: BucketFilter::new(prefix, region, tags, include_deleted),
        limit: limit.unwrap_or(DEFAULT_LIMIT),
        offset,
        cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(q: &str) -> ListParams {
        parse(Some(q), &RegionSet::default()).unwrap_or_else(|e| panic!("{q}: {e:?}"))
    }

    fn err(q: &str) -> String {
        format!("{:?}", parse(Some(q), &RegionSet::default()).unwrap_err())
    }

    #[test]
    fn defaults() {
        let p = parse(None, &RegionSet::default()).unwrap();
        assert_eq!(p.limit, 25);
        assert_eq!(p.offset, None);
        assert_eq!(p.cursor, None);
        assert_eq!(p.filter, BucketFilter::default());
    }

    #[test]
    fn every_parameter_is_read() {
        let p = ok("limit=100&offset=5&prefix=prod&region=eu-west-2&tag=env&tag=team:a%3Ab&include=deleted");
        assert_eq!(p.limit, 100);
        assert_eq!(p.offset, Some(5));
        assert_eq!(p.filter.prefix.as_deref(), Some("prod"));
        assert_eq!(p.filter.region.as_ref().map(|r| r.as_str()), Some("eu-west-2"));
        assert_eq!(p.filter.tags.len(), 2);
        assert!(p.filter.include_deleted);
    }

    #[test]
    fn limit_is_one_to_one_hundred_without_clamping() {
        assert_eq!(ok("limit=1").limit, 1);
        for bad in ["limit=0", "limit=101", "limit=-1", "limit=abc", "limit=", "limit=2.5"] {
            assert!(err(bad).contains("limit"), "{bad}");
        }
    }

    #[test]
    fn unknown_repeated_and_conflicting_parameters_are_refused() {
        assert!(err("colour=red").contains("colour"));
        assert!(err("limit=1&limit=2").contains("more than once"));
        assert!(err("offset=1&cursor=abc").contains("cannot be combined"));
        assert!(err("include=all").contains("deleted"));
        assert!(err("region=mars-1").contains("us-east-1"));
        assert!(err("tag=Env").contains("tag"));
        assert!(err("offset=-3").contains("offset"));
        assert!(err("cursor=").contains("cursor"));
        assert!(err(&format!("prefix={}", "a".repeat(64))).contains("prefix"));
    }

    #[test]
    fn the_registered_sign_accident_gets_a_hint() {
        let e = err("limit=25%C2%AEion=us-east-1");
        assert!(e.contains("&region="), "{e}");
    }
}
