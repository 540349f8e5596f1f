//! Issuing API keys and the first project: shared by `serve` (on an empty data folder), the
//! admin commands and the tests.

use cloudnexus_core::s3_key::{AccessKeyId, MasterKey, SecretAccessKey};
use cloudnexus_core::{ApiKeyId, ApiKeySecret, Project, ProjectId, ProjectName, Scopes, Timestamp};
use cloudnexus_store::{ApiKeyRecord, MetadataStore, StoreResult};

/// The name of the project created on an empty data folder.
pub const FIRST_PROJECT: &str = "default";

/// Creates a key for `project` and returns its record and the secret, which exists nowhere else.
pub async fn issue_api_key(
    store: &dyn MetadataStore,
    project: &ProjectId,
    scopes: Scopes,
    now: Timestamp,
) -> StoreResult<(ApiKeyRecord, ApiKeySecret)> {
    let id = ApiKeyId::generate();
    let secret = ApiKeySecret::generate(&id);
    let record = ApiKeyRecord {
        id,
        project_id: project.clone(),
        hash: secret.hash(),
        scopes,
        created_at: now,
        revoked_at: None,
        s3_secret: None,
    };
    store.create_api_key(record.clone()).await?;
    Ok((record, secret))
}

/// A new S3 credential: its record (holding the sealed secret), its access key id, and the
/// secret, which exists unsealed nowhere else.
#[derive(Debug)]
pub struct IssuedS3Key {
    pub record: ApiKeyRecord,
    pub access_key_id: AccessKeyId,
    pub secret: SecretAccessKey,
}

/// Creates an S3 credential for `project`, its secret sealed under `master`.
pub async fn issue_s3_key(
    store: &dyn MetadataStore,
    master: &MasterKey,
    project: &ProjectId,
    scopes: Scopes,
    now: Timestamp,
) -> StoreResult<IssuedS3Key> {
    let id = ApiKeyId::generate();
    let secret = SecretAccessKey::generate();
    let record = ApiKeyRecord {
        hash: secret.hash(),
        s3_secret: Some(master.seal(&id, &secret)),
        id,
        project_id: project.clone(),
        scopes,
        created_at: now,
        revoked_at: None,
    };
    store.create_api_key(record.clone()).await?;
    Ok(IssuedS3Key {
        access_key_id: AccessKeyId::of(&record.id),
        record,
        secret,
    })
}

/// What `serve` created on an empty data folder, to be printed once.
#[derive(Debug)]
pub struct FirstRun {
    pub project: Project,
    pub secret: ApiKeySecret,
}

/// On a data folder with no project, creates the first project and an API key with every scope.
pub async fn bootstrap(store: &dyn MetadataStore, now: Timestamp) -> StoreResult<Option<FirstRun>> {
    if !store.list_projects().await?.is_empty() {
        return Ok(None);
    }
    let name = ProjectName::parse(FIRST_PROJECT).expect("valid project name");
    let project = store.create_project(ProjectId::generate(), name, now).await?;
    let (_, secret) = issue_api_key(store, &project.id, Scopes::all(), now).await?;
    Ok(Some(FirstRun { project, secret }))
}
