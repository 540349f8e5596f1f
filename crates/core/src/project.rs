//! Projects own buckets and API keys; every credential belongs to exactly one project.

use crate::{ProjectId, Timestamp};
use serde::Serialize;
use std::fmt;

/// A project's display name: 1-64 characters of `a-z 0-9 - _`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ProjectName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("project name {0:?} must be 1-64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit")]
pub struct ProjectNameError(pub String);

impl ProjectName {
    pub fn parse(s: &str) -> Result<Self, ProjectNameError> {
        let ok = (1..=64).contains(&s.len())
            && s.as_bytes()[0].is_ascii_alphanumeric()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        // A project name may not look like a project id, so `--project` is never ambiguous.
        if ok && !s.starts_with(ProjectId::PREFIX) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ProjectNameError(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    pub id: ProjectId,
    pub name: ProjectName,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names() {
        assert!(ProjectName::parse("default").is_ok());
        assert!(ProjectName::parse("team-a_2").is_ok());
        assert!(ProjectName::parse("").is_err());
        assert!(ProjectName::parse("Team").is_err());
        assert!(ProjectName::parse("-x").is_err());
        assert!(ProjectName::parse("prj_abc").is_err());
    }
}
