//! A project's data version moves with every kind of change to its buckets, from this store or
//! another one on the same file, and never with another project's changes; the remembered
//! point reads (API keys, data versions) never outlive a commit.

use cloudnexus_core::listing::{ListRequest, PageStart};
use cloudnexus_core::{
    ApiKeyId, ApiKeySecret, BlobId, BucketId, BucketName, Object, ObjectKey, ProjectId, ProjectName, RegionSet, Scopes,
    StorageClass, Tags, Timestamp,
};
use cloudnexus_store::{ApiKeyRecord, BucketPatch, DataVersion, MetadataStore, NewBucket, PutConditions, SqliteStore};

const T0: i64 = 1_700_000_000;

async fn project(store: &SqliteStore, name: &str) -> ProjectId {
    let id = ProjectId::generate();
    store
        .create_project(
            id.clone(),
            ProjectName::parse(name).unwrap(),
            Timestamp::from_unix_seconds(T0),
        )
        .await
        .unwrap();
    id
}

fn new_bucket(project: &ProjectId, name: &str) -> NewBucket {
    NewBucket {
        id: BucketId::generate(),
        project_id: project.clone(),
        name: BucketName::parse(name).unwrap(),
        region: RegionSet::default().parse("us-east-1").unwrap(),
        storage_class: StorageClass::Standard,
        public: false,
        tags: Tags::default(),
        created_at: Timestamp::from_unix_seconds(T0),
    }
}

/// Runs `change` and checks that it moved `project`'s version and left `bystander`'s alone.
struct Versions<'a> {
    store: &'a SqliteStore,
    project: ProjectId,
    bystander: ProjectId,
}

impl Versions<'_> {
    async fn now(&self) -> (DataVersion, DataVersion) {
        (
            self.store.data_version(&self.project).await.unwrap(),
            self.store.data_version(&self.bystander).await.unwrap(),
        )
    }

    async fn expect_moved_by(&self, what: &str, before: (DataVersion, DataVersion)) -> (DataVersion, DataVersion) {
        let after = self.now().await;
        assert_ne!(after.0, before.0, "{what} did not move the project's data version");
        assert_eq!(after.1, before.1, "{what} moved another project's data version");
        after
    }
}

#[tokio::test]
async fn every_change_to_a_projects_buckets_moves_its_version_and_only_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let v = Versions {
        project: project(&store, "mine").await,
        bystander: project(&store, "theirs").await,
        store: &store,
    };
    store.create_bucket(new_bucket(&v.bystander, "theirs-1")).await.unwrap();
    let mut seen = v.now().await;
    // Reading changes nothing.
    store
        .list_buckets(
            &v.project,
            &ListRequest {
                filter: Default::default(),
                limit: 25,
                start: PageStart::Offset(0),
            },
        )
        .await
        .unwrap();
    assert_eq!(v.now().await, seen);

    let bucket = store.create_bucket(new_bucket(&v.project, "mine-1")).await.unwrap();
    seen = v.expect_moved_by("a create", seen).await;
    store
        .create_buckets(vec![new_bucket(&v.project, "mine-2"), new_bucket(&v.project, "mine-3")])
        .await
        .unwrap();
    seen = v.expect_moved_by("a bulk create", seen).await;
    let patch = BucketPatch {
        tags: Some(Tags::parse([("env", "prod")]).unwrap()),
        ..Default::default()
    };
    let at = Timestamp::from_unix_seconds(T0 + 1);
    store.update_bucket(&v.project, &bucket.id, patch, at).await.unwrap();
    seen = v.expect_moved_by("a tag patch", seen).await;

    let object = Object {
        bucket_id: bucket.id.clone(),
        key: ObjectKey::parse("a/b.txt").unwrap(),
        blob_id: BlobId::generate(),
        size_bytes: 5,
        etag: "0123456789abcdef0123456789abcdef".to_owned(),
        content_type: "text/plain".to_owned(),
        last_modified: at,
    };
    store
        .put_object(&v.project, object.clone(), &PutConditions::default())
        .await
        .unwrap();
    seen = v.expect_moved_by("an object write", seen).await;
    store
        .delete_object(&v.project, &bucket.id, &object.key, at)
        .await
        .unwrap();
    seen = v.expect_moved_by("an object delete", seen).await;

    let purge_at = Timestamp::from_unix_seconds(T0 + 10);
    store
        .soft_delete_bucket(&v.project, &bucket.id, at, purge_at)
        .await
        .unwrap();
    seen = v.expect_moved_by("a soft delete", seen).await;
    store.restore_bucket(&v.project, &bucket.id, at).await.unwrap();
    seen = v.expect_moved_by("a restore", seen).await;
    store
        .soft_delete_bucket(&v.project, &bucket.id, at, purge_at)
        .await
        .unwrap();
    seen = v.expect_moved_by("a second soft delete", seen).await;
    let purged = store
        .purge_due_buckets(Timestamp::from_unix_seconds(T0 + 11), 10)
        .await
        .unwrap();
    assert_eq!(purged.len(), 1);
    seen = v.expect_moved_by("a purge", seen).await;

    // A second store on the same file stands for another process (an admin command).
    let other = SqliteStore::open(dir.path()).await.unwrap();
    other.create_bucket(new_bucket(&v.project, "mine-4")).await.unwrap();
    v.expect_moved_by("a create by another connection", seen).await;
    assert!(
        store.data_version(&ProjectId::generate()).await.is_err(),
        "an unknown project has no version"
    );
}

#[tokio::test]
async fn a_remembered_api_key_is_read_again_after_any_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let project = project(&store, "keys").await;
    let id = ApiKeyId::generate();
    let secret = ApiKeySecret::generate(&id);
    store
        .create_api_key(ApiKeyRecord {
            id: id.clone(),
            project_id: project.clone(),
            hash: secret.hash(),
            scopes: Scopes::parse_list("storage:read").unwrap(),
            created_at: Timestamp::from_unix_seconds(T0),
            revoked_at: None,
        })
        .await
        .unwrap();
    let first = store.find_api_key(&id).await.unwrap().expect("the key");
    assert_eq!(first.record.revoked_at, None);
    assert_eq!(store.find_api_key(&id).await.unwrap(), Some(first.clone()));

    // Revoked by another process: the very next lookup sees it.
    let other = SqliteStore::open(dir.path()).await.unwrap();
    other
        .revoke_api_key(&id, Timestamp::from_unix_seconds(T0 + 5))
        .await
        .unwrap();
    let after = store.find_api_key(&id).await.unwrap().expect("the key");
    assert_eq!(after.record.revoked_at, Some(Timestamp::from_unix_seconds(T0 + 5)));

    // The version read with the key is the project's current one.
    other.create_bucket(new_bucket(&project, "keys-1")).await.unwrap();
    let with_bucket = store.find_api_key(&id).await.unwrap().expect("the key");
    assert_eq!(with_bucket.data_version, store.data_version(&project).await.unwrap());
    assert_ne!(with_bucket.data_version, after.data_version);
    assert_eq!(store.find_api_key(&ApiKeyId::generate()).await.unwrap(), None);
}
