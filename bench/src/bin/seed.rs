//! `seed DATA_DIR N SEED`: creates project `bench` in the data folder with N buckets (the mix
//! of `cloudnexus_bench::dataset`), inserted through the store's bulk path in chunks of
//! 10,000, then soft-deletes about 1 % of them, and issues a `storage:read` API key.
//!
//! The metadata store is the data folder's SQLite, or the PostgreSQL database named by
//! `CLOUDNEXUS_DATABASE_URL`. Prints one JSON object on stdout: the project, the key, and how
//! long each step took.
//! Progress goes to stderr. The data folder should be new (the project name is unique).

use anyhow::{Context, bail};
use cloudnexus_bench::dataset::{Class, Generator};
use cloudnexus_core::{BucketId, BucketName, ProjectId, ProjectName, RegionSet, Scopes, StorageClass, Tags, Timestamp};
use cloudnexus_store::{BackendConfig, NewBucket};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Buckets per `create_buckets` call (one transaction each).
const CHUNK: usize = 10_000;
/// Newest bucket: this long before now, so nothing is created "in the future" of the run.
const END_BEFORE_NOW: i64 = 3_600;
/// The soft-delete retention of the default configuration (purge_at = deleted_at + this).
const RETENTION_SECONDS: i64 = 604_800;
/// How often progress is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

fn usage() -> anyhow::Error {
    anyhow::anyhow!("usage: seed DATA_DIR N SEED   (N: number of buckets, 1 or more; SEED: any whole number)")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, n, seed] = args.as_slice() else {
        return Err(usage());
    };
    let data_dir = PathBuf::from(dir);
    let n: u64 = n.parse().map_err(|_| usage())?;
    let seed: u64 = seed.parse().map_err(|_| usage())?;
    if n == 0 {
        bail!(usage());
    }

    let now_seconds = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())?;
    let now = Timestamp::from_unix_seconds(now_seconds);
    // The metadata store: the data folder's SQLite, or CLOUDNEXUS_DATABASE_URL's PostgreSQL.
    let config = BackendConfig {
        data_dir: data_dir.clone(),
        metadata_url: std::env::var("CLOUDNEXUS_DATABASE_URL").ok(),
        ..BackendConfig::default()
    };
    let store = cloudnexus_store::open_metadata(&config)
        .await
        .with_context(|| format!("opening the store in {}", data_dir.display()))?;
    let project = store
        .create_project(ProjectId::generate(), ProjectName::parse("bench")?, now)
        .await
        .context("creating project bench (is the data folder new?)")?;
    let (key, secret) =
        cloudnexus::keys::issue_api_key(store.as_ref(), &project.id, Scopes::parse_list("storage:read")?, now).await?;
    // The mixed workload's uploads come from a second client, with a key of its own.
    let (_, upload_secret) =
        cloudnexus::keys::issue_api_key(store.as_ref(), &project.id, Scopes::parse_list("storage:write")?, now).await?;

    let regions = RegionSet::default();
    let started = Instant::now();
    let mut last_progress = Instant::now();
    let mut created = 0u64;
    let mut to_delete = Vec::new();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut generator = Generator::new(n, seed, now_seconds - END_BEFORE_NOW).peekable();
    let (mut oldest, mut newest) = (None, None);
    while let Some(b) = generator.next() {
        oldest.get_or_insert(b.created_at);
        newest = Some(b.created_at);
        let id = BucketId::parse(&format!("{}{}", BucketId::PREFIX, b.id_suffix))?;
        if b.deleted {
            to_delete.push(id.clone());
        }
        chunk.push(NewBucket {
            id,
            project_id: project.id.clone(),
            name: BucketName::parse(&b.name)?,
            region: regions.parse(b.region)?,
            storage_class: match b.class {
                Class::Standard => StorageClass::Standard,
                Class::Infrequent => StorageClass::Infrequent,
                Class::Glacier => StorageClass::Glacier,
            },
            public: b.public,
            tags: Tags::parse(b.tags.iter().copied())?,
            created_at: Timestamp::from_unix_seconds(b.created_at),
        });
        if chunk.len() == CHUNK || generator.peek().is_none() {
            created += chunk.len() as u64;
            store
                .create_buckets(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))
                .await
                .context("create_buckets")?;
            if last_progress.elapsed() >= PROGRESS_EVERY {
                eprintln!(
                    "seed: {created}/{n} buckets in {:.0} s",
                    started.elapsed().as_secs_f64()
                );
                last_progress = Instant::now();
            }
        }
    }
    let insert_seconds = started.elapsed().as_secs_f64();

    let deleting = Instant::now();
    let purge_at = now.plus_seconds(RETENTION_SECONDS);
    for id in &to_delete {
        store
            .soft_delete_bucket(&project.id, id, now, purge_at)
            .await
            .context("soft_delete_bucket")?;
    }
    let delete_seconds = deleting.elapsed().as_secs_f64();
    let seed_seconds = started.elapsed().as_secs_f64();
    store.close().await;
    let db_bytes = std::fs::metadata(data_dir.join(cloudnexus_store::metadata::sqlite::DATABASE_FILE))
        .map(|m| m.len())
        .unwrap_or(0);

    let out = serde_json::json!({
        "n": n,
        "seed": seed,
        "project_id": project.id.as_str(),
        "key_id": key.id.as_str(),
        "api_key": secret.expose(),
        "upload_key": upload_secret.expose(),
        "chunk": CHUNK,
        "created": created,
        "soft_deleted": to_delete.len(),
        "oldest_created_at": oldest.map(Timestamp::from_unix_seconds).map(|t| t.to_rfc3339()),
        "newest_created_at": newest.map(Timestamp::from_unix_seconds).map(|t| t.to_rfc3339()),
        "insert_seconds": insert_seconds,
        "delete_seconds": delete_seconds,
        "seed_seconds": seed_seconds,
        "db_bytes": db_bytes,
    });
    println!("{out}");
    Ok(())
}
