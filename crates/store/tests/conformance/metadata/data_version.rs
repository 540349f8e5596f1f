//! A project's data version moves with every change to what its listings show apart from
//! usage, from this handle or another one on the same data, and never with another project's
//! changes; usage is read live and exact; a remembered point read never outlives a commit.

use super::{at, new_bucket, object, project};
use crate::fixtures::MetadataFixture;
use cloudnexus_core::listing::{ListRequest, PageStart};
use cloudnexus_core::{ApiKeyId, ApiKeySecret, BucketId, ProjectId, Scopes, Tags};
use cloudnexus_store::{ApiKeyRecord, BucketPatch, BucketUsage, DataVersion, MetadataStore, PutConditions};

/// Runs a change and checks that it moved `project`'s version and left `bystander`'s alone.
struct Versions<'a> {
    store: &'a dyn MetadataStore,
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

    async fn expect_unmoved_by(&self, what: &str, before: (DataVersion, DataVersion)) {
        assert_eq!(self.now().await, before, "{what} moved a data version");
    }
}

pub async fn every_change_moves_the_version_of_its_project_only(f: MetadataFixture) {
    let store = f.store.as_ref();
    let v = Versions {
        project: project(store, "mine").await,
        bystander: project(store, "theirs").await,
        store,
    };
    store.create_bucket(new_bucket(&v.bystander, "theirs-1")).await.unwrap();
    let mut seen = v.now().await;
    // Reading changes nothing.
    let first_page = ListRequest {
        filter: Default::default(),
        limit: 25,
        start: PageStart::Offset(0),
    };
    store.list_buckets(&v.project, &first_page).await.unwrap();
    v.expect_unmoved_by("a listing", seen).await;

    let bucket = store.create_bucket(new_bucket(&v.project, "mine-1")).await.unwrap();
    seen = v.expect_moved_by("a create", seen).await;
    store
        .create_buckets(vec![new_bucket(&v.project, "mine-2"), new_bucket(&v.project, "mine-3")])
        .await
        .unwrap();
    seen = v.expect_moved_by("a bulk create", seen).await;
    let tags = BucketPatch {
        tags: Some(Tags::parse([("env", "prod")]).unwrap()),
        ..Default::default()
    };
    store.update_bucket(&v.project, &bucket.id, tags, at(1)).await.unwrap();
    seen = v.expect_moved_by("a tag patch", seen).await;
    let public = BucketPatch {
        public: Some(true),
        ..Default::default()
    };
    store
        .update_bucket(&v.project, &bucket.id, public, at(1))
        .await
        .unwrap();
    seen = v.expect_moved_by("a public patch", seen).await;

    let purge_at = at(10);
    store
        .soft_delete_bucket(&v.project, &bucket.id, at(1), purge_at)
        .await
        .unwrap();
    seen = v.expect_moved_by("a soft delete", seen).await;
    store.restore_bucket(&v.project, &bucket.id, at(1)).await.unwrap();
    seen = v.expect_moved_by("a restore", seen).await;
    store
        .soft_delete_bucket(&v.project, &bucket.id, at(1), purge_at)
        .await
        .unwrap();
    seen = v.expect_moved_by("a second soft delete", seen).await;
    let purged = store.purge_due_buckets(at(11), 10).await.unwrap();
    assert_eq!(purged.len(), 1);
    seen = v.expect_moved_by("a purge", seen).await;

    // A second handle on the same data stands for another process or node.
    let other = f.another_handle().await;
    other.create_bucket(new_bucket(&v.project, "mine-4")).await.unwrap();
    v.expect_moved_by("a create through another handle", seen).await;
    other.close().await;
    assert!(
        store.data_version(&ProjectId::generate()).await.is_err(),
        "an unknown project has no version"
    );
}

pub async fn usage_is_read_live_and_moves_no_version(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "usage").await;
    let theirs = project(store, "usage-other").await;
    let a = store.create_bucket(new_bucket(&mine, "usage-a")).await.unwrap();
    let b = store.create_bucket(new_bucket(&mine, "usage-b")).await.unwrap();
    let ids = [a.id.clone(), b.id.clone()];
    let zero = BucketUsage::default();
    assert_eq!(store.bucket_usage(&mine, &ids).await.unwrap(), [Some(zero), Some(zero)]);
    let version = store.data_version(&mine).await.unwrap();

    let none = PutConditions::default();
    store.put_object(&mine, object(&a.id, "one", 100), &none).await.unwrap();
    store.put_object(&mine, object(&a.id, "two", 50), &none).await.unwrap();
    let after_writes = store.bucket_usage(&mine, &ids).await.unwrap();
    assert_eq!(
        after_writes,
        [
            Some(BucketUsage {
                size_bytes: 150,
                object_count: 2
            }),
            Some(zero)
        ]
    );
    assert_eq!(
        store.data_version(&mine).await.unwrap(),
        version,
        "an object write moved the data version"
    );

    // A write through another handle shows at once.
    let other = f.another_handle().await;
    other.put_object(&mine, object(&b.id, "three", 7), &none).await.unwrap();
    other
        .delete_object(&mine, &a.id, &cloudnexus_core::ObjectKey::parse("two").unwrap(), at(2))
        .await
        .unwrap();
    other.close().await;
    assert_eq!(
        store.bucket_usage(&mine, &ids).await.unwrap(),
        [
            Some(BucketUsage {
                size_bytes: 100,
                object_count: 1
            }),
            Some(BucketUsage {
                size_bytes: 7,
                object_count: 1
            })
        ]
    );
    assert_eq!(store.data_version(&mine).await.unwrap(), version);

    // Another project's bucket, or one that does not exist, has no usage for this project.
    let stranger = BucketId::generate();
    assert_eq!(store.bucket_usage(&theirs, &ids).await.unwrap(), [None, None]);
    assert_eq!(
        store.bucket_usage(&mine, &[stranger, a.id.clone()]).await.unwrap(),
        [
            None,
            Some(BucketUsage {
                size_bytes: 100,
                object_count: 1
            })
        ]
    );
}

pub async fn a_remembered_api_key_is_read_again_after_any_commit(f: MetadataFixture) {
    let store = f.store.as_ref();
    let project = project(store, "keys").await;
    let id = ApiKeyId::generate();
    let secret = ApiKeySecret::generate(&id);
    store
        .create_api_key(ApiKeyRecord {
            id: id.clone(),
            project_id: project.clone(),
            hash: secret.hash(),
            scopes: Scopes::parse_list("storage:read").unwrap(),
            created_at: at(0),
            revoked_at: None,
            s3_secret: None,
        })
        .await
        .unwrap();
    let first = store.find_api_key(&id).await.unwrap().expect("the key");
    assert_eq!(first.record.revoked_at, None);
    assert_eq!(store.find_api_key(&id).await.unwrap(), Some(first.clone()));

    // Revoked through another handle: the very next lookup sees it.
    let other = f.another_handle().await;
    other.revoke_api_key(&id, at(5)).await.unwrap();
    let after = store.find_api_key(&id).await.unwrap().expect("the key");
    assert_eq!(after.record.revoked_at, Some(at(5)));

    // The version read with the key is the project's current one.
    other.create_bucket(new_bucket(&project, "keys-1")).await.unwrap();
    other.close().await;
    let with_bucket = store.find_api_key(&id).await.unwrap().expect("the key");
    assert_eq!(with_bucket.data_version, store.data_version(&project).await.unwrap());
    assert_ne!(with_bucket.data_version, after.data_version);
    assert_eq!(store.find_api_key(&ApiKeyId::generate()).await.unwrap(), None);
}
