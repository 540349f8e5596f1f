//! `cloudnexus admin ...`: administration straight on the metadata store, safe while servers
//! run on it (the store serialises the writes). Every command prints text for people, or JSON
//! with `--output json` for scripts.

use crate::config::Config;
use crate::demo;
use crate::keys::{issue_api_key, issue_s3_key};
use crate::master_key;
use anyhow::{Context, anyhow, bail};
use cloudnexus_core::s3_key::AccessKeyId;
use cloudnexus_core::{ApiKeyId, Clock, ProjectId, ProjectName, Scopes, SystemClock};
use cloudnexus_store::{ApiKeyRecord, MetadataStore, StoreError};
use serde_json::{Value, json};

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// The admin commands.
#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Projects own buckets and API keys.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// API keys of a project.
    #[command(subcommand)]
    Key(KeyCommand),
    /// S3 credentials of a project (access key id and secret, for the S3 listener).
    #[command(subcommand)]
    S3Key(S3KeyCommand),
    /// Load buckets like the reference page's example into a project.
    Demo {
        /// The project's name or id.
        #[arg(long)]
        project: String,
    },
    /// Copy the embedded data folder (its SQLite metadata and blobs/) into an empty PostgreSQL
    /// database and an S3-compatible store, to run several nodes on them. Keys, tokens and
    /// cursors keep working. Stop the server first; the folder is left as it was.
    ///
    /// Example: cloudnexus admin --data-dir ./data migrate
    ///   --to-database-url postgres://cloudnexus@db:5432/cloudnexus --to-blob-url s3://bucket/prefix
    /// (endpoint, region and credentials of the store from the AWS_* variables)
    Migrate {
        /// The PostgreSQL database to copy into; it must hold no project yet.
        #[arg(long, value_name = "URL")]
        to_database_url: String,
        /// The S3 store to copy object bytes into: s3://BUCKET[/PREFIX].
        #[arg(long, value_name = "URL")]
        to_blob_url: String,
    },
    /// Copy a data folder, while it is served, into a new or empty folder: a consistent
    /// snapshot of the metadata, every object's bytes (each checked against the metadata), and
    /// the S3 master key. Garbage collection is held while it runs. The copy holds secrets
    /// (key hashes, the master key): keep it as safe as the data folder.
    ///
    /// Example: cloudnexus admin --data-dir ./data backup --to /backups/2026-12-03
    Backup {
        /// The folder to write; it must not exist or be empty.
        #[arg(long, value_name = "DIR")]
        to: std::path::PathBuf,
    },
    /// Bring a backup back as the data folder (`--data-dir`), which must hold no metadata yet
    /// (move the old folder aside). Every object's bytes are checked again; a newer binary
    /// upgrades the schema as it opens the folder.
    ///
    /// Example: cloudnexus admin --data-dir ./data restore --from /backups/2026-12-03
    Restore {
        /// A folder written by `admin backup`.
        #[arg(long, value_name = "DIR")]
        from: std::path::PathBuf,
    },
}

/// Refuses a command that works on the embedded data folder when a shared store is configured.
fn embedded_only(config: &crate::config::Config, command: &str, instead: &str) -> anyhow::Result<()> {
    if config.metadata.url.is_some() || config.blobs.url.is_some() {
        bail!(
            "{command} works on the embedded data folder, and this configuration names a shared store ([metadata] url or [blobs] url); {instead}"
        );
    }
    Ok(())
}

/// Backs up the embedded data folder of `config` into `to`.
pub async fn backup(config: &crate::config::Config, to: &std::path::Path) -> anyhow::Result<(Value, String)> {
    embedded_only(
        config,
        "backup",
        "back up PostgreSQL with its own tools (pg_dump, or base backups with WAL archiving) and the S3 bucket with its versioning or replication",
    )?;
    let manifest = cloudnexus_store::backup::backup_embedded(&config.data_dir, to, &[master_key::DEFAULT_FILE])
        .await
        .with_context(|| {
            format!(
                "the backup of {} into {} failed",
                config.data_dir.display(),
                to.display()
            )
        })?;
    if let Some(key) = &config.s3.master_key_file {
        eprintln!(
            "warning: the S3 master key is named by the configuration ({}), outside the data folder; back it up too, or the restored S3 credentials cannot be opened",
            key.display()
        );
    }
    let text = format!(
        "Backed up {} into {}: {} project(s), {} API key(s), {} bucket(s), {} object(s), {} blob(s) ({} bytes), schema version {}.",
        config.data_dir.display(),
        to.display(),
        manifest.projects,
        manifest.api_keys,
        manifest.buckets,
        manifest.objects,
        manifest.blobs,
        manifest.bytes,
        manifest.schema_version
    );
    Ok((serde_json::to_value(&manifest)?, text))
}

/// Restores the backup in `from` as the embedded data folder of `config`.
pub async fn restore(config: &crate::config::Config, from: &std::path::Path) -> anyhow::Result<(Value, String)> {
    embedded_only(
        config,
        "restore",
        "restore PostgreSQL and the S3 bucket with their own tools",
    )?;
    let manifest = cloudnexus_store::backup::restore_embedded(from, &config.data_dir)
        .await
        .with_context(|| format!("restoring {} into {} failed", from.display(), config.data_dir.display()))?;
    let text = format!(
        "Restored the backup of {} into {}: {} bucket(s), {} object(s), {} blob(s) ({} bytes).",
        manifest.created_at,
        config.data_dir.display(),
        manifest.buckets,
        manifest.objects,
        manifest.blobs,
        manifest.bytes
    );
    Ok((serde_json::to_value(&manifest)?, text))
}

/// Copies the embedded data folder of `config` onto the given database and blob store.
pub async fn migrate(
    config: &crate::config::Config,
    to_database_url: &str,
    to_blob_url: &str,
) -> anyhow::Result<(Value, String)> {
    if config.metadata.url.is_some() || config.blobs.url.is_some() {
        bail!(
            "migrate copies the embedded data folder: leave out --database-url, CLOUDNEXUS_DATABASE_URL and [metadata] url / [blobs] url, and give the target with --to-database-url and --to-blob-url"
        );
    }
    let target = cloudnexus_store::BackendConfig {
        blob_url: Some(to_blob_url.to_owned()),
        ..Default::default()
    };
    let blobs = cloudnexus_store::open_blobs(&target).await?;
    let report = cloudnexus_store::migrate::migrate_embedded(&config.data_dir, to_database_url, blobs)
        .await
        .with_context(|| {
            format!(
                "migrating {} failed; the target database is unchanged",
                config.data_dir.display()
            )
        })?;
    let text = format!(
        "Copied {} project(s), {} API key(s), {} bucket(s) and {} object(s) ({} bytes) into {} and {to_blob_url}.",
        report.projects,
        report.api_keys,
        report.buckets,
        report.objects,
        report.bytes,
        cloudnexus_store::redacted(to_database_url)
    );
    Ok((serde_json::to_value(&report)?, text))
}

#[derive(Debug, clap::Subcommand)]
pub enum ProjectCommand {
    /// Create a project.
    Create {
        /// 1-64 characters of a-z, 0-9, '-' and '_'.
        name: String,
    },
    /// List projects.
    List,
}

#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Create an API key; the key is printed once and stored only as a hash.
    Create {
        /// The project's name or id.
        #[arg(long)]
        project: String,
        /// Comma-separated: storage:read, storage:write, storage:admin.
        #[arg(long)]
        scopes: String,
    },
    /// List a project's API keys (never the keys themselves).
    List {
        /// The project's name or id.
        #[arg(long)]
        project: String,
    },
    /// Revoke an API key; requests with it fail from then on.
    Revoke {
        /// The key's id (`key_...`).
        key_id: String,
    },
}

/// The S3 credentials of a project.
#[derive(Debug, clap::Subcommand)]
pub enum S3KeyCommand {
    /// Create an S3 credential; the secret access key is printed once and stored only sealed
    /// under the master key.
    ///
    /// Example: cloudnexus admin s3-key create --project default --scopes storage:read,storage:write
    Create {
        /// The project's name or id.
        #[arg(long)]
        project: String,
        /// Comma-separated: storage:read, storage:write, storage:admin.
        #[arg(long)]
        scopes: String,
    },
    /// List a project's S3 credentials (never their secrets).
    List {
        /// The project's name or id.
        #[arg(long)]
        project: String,
    },
    /// Revoke an S3 credential; requests signed with it fail from then on.
    Revoke {
        /// The credential's id (`key_...`) or access key id (`CNX...`).
        id: String,
    },
}

fn s3_key_json(k: &ApiKeyRecord) -> Value {
    json!({
        "id": k.id,
        "access_key_id": AccessKeyId::of(&k.id).as_str(),
        "project_id": k.project_id,
        "scopes": k.scopes,
        "created_at": k.created_at,
        "revoked_at": k.revoked_at,
    })
}

fn key_state(k: &ApiKeyRecord) -> String {
    k.revoked_at
        .map_or_else(|| "active".to_owned(), |t| format!("revoked {t}"))
}

fn key_json(k: &ApiKeyRecord) -> Value {
    json!({
        "id": k.id,
        "project_id": k.project_id,
        "scopes": k.scopes,
        "created_at": k.created_at,
        "revoked_at": k.revoked_at,
    })
}

async fn project_id(store: &dyn MetadataStore, id_or_name: &str) -> anyhow::Result<ProjectId> {
    let project = store.find_project(id_or_name).await?;
    project
        .map(|p| p.id)
        .ok_or_else(|| anyhow!("no project {id_or_name:?}; list them with `cloudnexus admin project list`"))
}

/// Runs one admin command against the store and returns (JSON result, text for people).
/// `config` says where the S3 master key is, for the commands that seal a secret.
pub async fn run(store: &dyn MetadataStore, config: &Config, command: AdminCommand) -> anyhow::Result<(Value, String)> {
    let now = SystemClock.now();
    match command {
        AdminCommand::Project(ProjectCommand::Create { name }) => {
            let name = ProjectName::parse(&name)?;
            let project = store
                .create_project(ProjectId::generate(), name, now)
                .await
                .map_err(|e| match e {
                    StoreError::ProjectNameTaken => anyhow!("a project with that name already exists"),
                    other => other.into(),
                })?;
            let text = format!("created project {} ({})", project.name, project.id);
            Ok((json!({"id": project.id, "name": project.name}), text))
        }
        AdminCommand::Project(ProjectCommand::List) => {
            let projects = store.list_projects().await?;
            let text = projects
                .iter()
                .map(|p| format!("{}  {}  {}", p.id, p.name, p.created_at))
                .collect::<Vec<_>>()
                .join("\n");
            Ok((json!(projects), text))
        }
        AdminCommand::Key(KeyCommand::Create { project, scopes }) => {
            let project = project_id(store, &project).await?;
            let scopes = Scopes::parse_list(&scopes)?;
            let (record, secret) = issue_api_key(store, &project, scopes, now).await?;
            let text = format!(
                "created API key {} with scopes {} for project {}.\nThe key is shown only this once; keep it safe:\n\n    {}\n",
                record.id,
                record.scopes,
                project,
                secret.expose()
            );
            Ok((
                json!({"id": record.id, "key": secret.expose(), "scopes": record.scopes}),
                text,
            ))
        }
        AdminCommand::Key(KeyCommand::List { project }) => {
            let project = project_id(store, &project).await?;
            let mut keys = store.list_api_keys(&project).await?;
            keys.retain(|k| k.s3_secret.is_none());
            let text = keys
                .iter()
                .map(|k| format!("{}  {}  created {}  {}", k.id, k.scopes, k.created_at, key_state(k)))
                .collect::<Vec<_>>()
                .join("\n");
            Ok((Value::Array(keys.iter().map(key_json).collect()), text))
        }
        AdminCommand::Key(KeyCommand::Revoke { key_id }) => {
            let id = ApiKeyId::parse(&key_id).with_context(|| format!("{key_id:?} is not a key id"))?;
            let record = store.revoke_api_key(&id, now).await.map_err(|e| match e {
                StoreError::NotFound => anyhow!("no API key {key_id}"),
                other => other.into(),
            })?;
            let text = format!("revoked API key {}", record.id);
            Ok((key_json(&record), text))
        }
        AdminCommand::S3Key(S3KeyCommand::Create { project, scopes }) => {
            let master = master_key::load_or_create(config)?;
            let project = project_id(store, &project).await?;
            let scopes = Scopes::parse_list(&scopes)?;
            let issued = issue_s3_key(store, &master, &project, scopes, now).await?;
            let text = format!(
                "created S3 credential {} with scopes {} for project {}.\n\
                 The secret is shown only this once; keep it safe:\n\n    \
                 access key id:      {}\n    secret access key:  {}\n",
                issued.record.id,
                issued.record.scopes,
                project,
                issued.access_key_id,
                issued.secret.expose()
            );
            Ok((
                json!({
                    "id": issued.record.id,
                    "access_key_id": issued.access_key_id.as_str(),
                    "secret_access_key": issued.secret.expose(),
                    "scopes": issued.record.scopes,
                }),
                text,
            ))
        }
        AdminCommand::S3Key(S3KeyCommand::List { project }) => {
            let project = project_id(store, &project).await?;
            let mut keys = store.list_api_keys(&project).await?;
            keys.retain(|k| k.s3_secret.is_some());
            let text = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}  {}  {}  created {}  {}",
                        k.id,
                        AccessKeyId::of(&k.id),
                        k.scopes,
                        k.created_at,
                        key_state(k)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok((Value::Array(keys.iter().map(s3_key_json).collect()), text))
        }
        AdminCommand::S3Key(S3KeyCommand::Revoke { id }) => {
            let key_id = AccessKeyId::key_id(&id)
                .or_else(|| ApiKeyId::parse(&id).ok())
                .with_context(|| format!("{id:?} is neither a key id (key_...) nor an access key id (CNX...)"))?;
            let not_found = || anyhow!("no S3 credential {id}");
            let found = store.find_api_key(&key_id).await?.ok_or_else(not_found)?;
            if found.record.s3_secret.is_none() {
                return Err(not_found()).context("it is an API key: revoke it with `cloudnexus admin key revoke`");
            }
            let record = store.revoke_api_key(&key_id, now).await?;
            let text = format!("revoked S3 credential {} ({})", record.id, AccessKeyId::of(&record.id));
            Ok((s3_key_json(&record), text))
        }
        AdminCommand::Migrate { .. } | AdminCommand::Backup { .. } | AdminCommand::Restore { .. } => {
            bail!(
                "migrate, backup and restore work on the data folder as a whole, not on a store (see admin::migrate, admin::backup)"
            )
        }
        AdminCommand::Demo { project } => {
            let project = project_id(store, &project).await?;
            let created = demo::load(store, &project).await?;
            if created.is_empty() {
                bail!("no demo bucket could be created: their names are all taken");
            }
            let text = format!("created {} demo buckets in project {project}", created.len());
            Ok((
                json!({"project_id": project, "created": created.len(), "names": created}),
                text,
            ))
        }
    }
}
