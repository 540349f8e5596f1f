//! Regions: data-centre names such as `us-east-1`. Which regions exist is configuration, so a
//! `Region` can only be obtained from the `RegionSet` the service was started with.

use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;

/// The regions a fresh installation offers unless its configuration says otherwise.
pub const DEFAULT_REGIONS: &[&str] = &["us-east-1", "us-west-2", "eu-west-1", "eu-west-2", "ap-southeast-1"];

/// A region from the configured set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Region(String);

impl Region {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A region name in the configuration is not of the form `a-z0-9-`, 1-32 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("region name {0:?} must be 1-32 characters of a-z, 0-9 and '-'")]
pub struct RegionNameError(pub String);

/// A region is not one of the configured set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown region {given:?}; valid regions are: {}", valid.join(", "))]
pub struct UnknownRegion {
    pub given: String,
    pub valid: Vec<String>,
}

/// The set of regions this installation serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionSet(BTreeSet<String>);

impl RegionSet {
    /// Builds the set from configuration, checking each name's form.
    pub fn new<I, S>(names: I) -> Result<Self, RegionNameError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut set = BTreeSet::new();
        for name in names {
            let name = name.into();
            let well_formed = (1..=32).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !well_formed {
                return Err(RegionNameError(name));
            }
            set.insert(name);
        }
        Ok(Self(set))
    }

    /// Looks a region up by name.
    pub fn parse(&self, name: &str) -> Result<Region, UnknownRegion> {
        if self.0.contains(name) {
            Ok(Region(name.to_owned()))
        } else {
            Err(UnknownRegion {
                given: name.to_owned(),
                valid: self.names(),
            })
        }
    }

    /// Accepts a region read back from storage without checking it against the current set
    /// (a region may have been removed from configuration after buckets were created in it).
    pub fn trusted(name: String) -> Region {
        Region(name)
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for RegionSet {
    fn default() -> Self {
        Self::new(DEFAULT_REGIONS.iter().copied()).expect("default regions are well formed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_set_holds_the_documented_regions() {
        let set = RegionSet::default();
        for r in ["us-east-1", "us-west-2", "eu-west-1", "eu-west-2", "ap-southeast-1"] {
            assert_eq!(set.parse(r).unwrap().as_str(), r);
        }
    }

    #[test]
    fn unknown_region_lists_the_valid_ones() {
        let err = RegionSet::default().parse("mars-1").unwrap_err();
        assert!(err.to_string().contains("us-east-1"), "{err}");
        assert!(err.to_string().contains("ap-southeast-1"), "{err}");
    }

    #[test]
    fn configured_names_are_checked() {
        assert!(RegionSet::new(["US_EAST"]).is_err());
        assert!(RegionSet::new([""]).is_err());
    }
}
