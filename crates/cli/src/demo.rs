//! Demo data: buckets like the reference page's example (47 of them, the first two exactly as
//! printed there), so that a newcomer's first listing looks like the documentation.

use cloudnexus_core::{BucketId, BucketName, ProjectId, RegionSet, StorageClass, Tags, Timestamp};
use cloudnexus_store::{MetadataStore, NewBucket, StoreError};

/// How many buckets the reference page's example says the project has.
const DEMO_BUCKETS: usize = 47;

struct DemoBucket {
    name: String,
    region: &'static str,
    class: StorageClass,
    tags: Vec<(&'static str, String)>,
    created_at: Timestamp,
}

fn demo_buckets() -> Vec<DemoBucket> {
    let at = |s: &str| Timestamp::parse_rfc3339(s).expect("valid demo timestamp");
    let mut out = vec![
        DemoBucket {
            name: "prod-assets-us-east".into(),
            region: "us-east-1",
            class: StorageClass::Standard,
            tags: vec![("env", "production".into()), ("team", "frontend".into())],
            created_at: at("2024-08-12T14:32:00Z"),
        },
        DemoBucket {
            name: "backup-snapshots".into(),
            region: "eu-west-2",
            class: StorageClass::Glacier,
            tags: vec![("env", "production".into()), ("type", "backup".into())],
            created_at: at("2024-11-05T09:15:22Z"),
        },
    ];
    let regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-west-2", "ap-southeast-1"];
    let kinds = [
        "logs",
        "media",
        "reports",
        "exports",
        "ml-datasets",
        "static-site",
        "archive",
    ];
    let envs = ["production", "staging", "development"];
    let teams = ["frontend", "backend", "data", "platform"];
    let start = at("2024-11-06T08:00:00Z").unix_seconds();
    for i in 0..DEMO_BUCKETS - 2 {
        let env = envs[i % envs.len()];
        let kind = kinds[i % kinds.len()];
        let region = regions[i % regions.len()];
        let class = match kind {
            "archive" => StorageClass::Glacier,
            "logs" | "exports" => StorageClass::Infrequent,
            _ => StorageClass::Standard,
        };
        out.push(DemoBucket {
            name: format!("{}-{kind}-{region}-{:02}", &env[..4], i + 1),
            region,
            class,
            tags: vec![("env", env.to_owned()), ("team", teams[i % teams.len()].to_owned())],
            created_at: Timestamp::from_unix_seconds(start + 86_400 * i as i64 + 3_600 * (i as i64 % 7)),
        });
    }
    out
}

/// Creates the demo buckets in `project`, skipping names already taken; returns those created.
pub async fn load(store: &dyn MetadataStore, project: &ProjectId) -> anyhow::Result<Vec<String>> {
    let regions = RegionSet::default();
    let mut created = Vec::new();
    for b in demo_buckets() {
        let new = NewBucket {
            id: BucketId::generate(),
            project_id: project.clone(),
            name: BucketName::parse(&b.name)?,
            region: regions.parse(b.region)?,
            storage_class: b.class,
            public: false,
            tags: Tags::parse(b.tags.iter().map(|(k, v)| (*k, v.as_str())))?,
            created_at: b.created_at,
        };
        match store.create_bucket(new).await {
            Ok(bucket) => created.push(bucket.name.to_string()),
            Err(StoreError::BucketNameTaken) => tracing::warn!(name = %b.name, "demo bucket name is taken; skipped"),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_buckets_are_valid_and_unique() {
        let all = demo_buckets();
        assert_eq!(all.len(), DEMO_BUCKETS);
        let mut names: Vec<&str> = all.iter().map(|b| b.name.as_str()).collect();
        for n in &names {
            assert!(BucketName::parse(n).is_ok(), "{n}");
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), DEMO_BUCKETS);
        assert!(all.windows(2).all(|w| w[0].created_at < w[1].created_at));
    }
}
