//! Scopes a credential may hold. They are independent: `storage:write` does not imply
//! `storage:read`, so a backup agent can be given a key that adds data but never reads it.

use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Write,
    Admin,
}

/// A scope string is not one of the known scopes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}; valid scopes are: storage:read, storage:write, storage:admin")]
pub struct UnknownScope(pub String);

impl Scope {
    pub const ALL: [Scope; 3] = [Self::Read, Self::Write, Self::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "storage:read",
            Self::Write => "storage:write",
            Self::Admin => "storage:admin",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Self::Read => 1,
            Self::Write => 2,
            Self::Admin => 4,
        }
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u8);

/// A scope list was empty or held an unknown scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopesError {
    #[error(transparent)]
    Unknown(#[from] UnknownScope),
    #[error("at least one scope is required; valid scopes are: storage:read, storage:write, storage:admin")]
    Empty,
}

impl Scopes {
    pub const fn empty() -> Self {
        Self(0)
    }

    pub fn all() -> Self {
        Scope::ALL.into_iter().collect()
    }

    /// Parses a list separated by commas or spaces (the OAuth 2 `scope` form), e.g.
    /// `storage:read,storage:write`.
    pub fn parse_list(s: &str) -> Result<Self, ScopesError> {
        let scopes: Scopes = s
            .split([',', ' '])
            .filter(|p| !p.is_empty())
            .map(str::parse::<Scope>)
            .collect::<Result<_, _>>()?;
        if scopes.is_empty() {
            Err(ScopesError::Empty)
        } else {
            Ok(scopes)
        }
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn is_subset_of(self, other: Scopes) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// The scopes as strings, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Scope::as_str).collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<T: IntoIterator<Item = Scope>>(iter: T) -> Self {
        Self(iter.into_iter().fold(0, |acc, s| acc | s.bit()))
    }
}

impl fmt::Display for Scopes {
    /// Space-separated, as OAuth 2's `scope` field.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(" "))
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.names())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comma_and_space_lists() {
        let s = Scopes::parse_list("storage:read,storage:write").unwrap();
        assert!(s.contains(Scope::Read) && s.contains(Scope::Write) && !s.contains(Scope::Admin));
        assert_eq!(Scopes::parse_list("storage:write storage:read").unwrap(), s);
        assert_eq!(s.to_string(), "storage:read storage:write");
    }

    #[test]
    fn rejects_unknown_and_empty() {
        assert!(matches!(
            Scopes::parse_list("storage:read,storage:delete"),
            Err(ScopesError::Unknown(_))
        ));
        assert_eq!(Scopes::parse_list(""), Err(ScopesError::Empty));
    }

    #[test]
    fn scopes_are_independent() {
        let write_only = Scopes::parse_list("storage:write").unwrap();
        assert!(!write_only.contains(Scope::Read));
        assert!(write_only.is_subset_of(Scopes::all()));
        assert!(!Scopes::all().is_subset_of(write_only));
    }
}
