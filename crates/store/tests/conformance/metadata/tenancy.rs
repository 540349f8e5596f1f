//! Projects, API keys and server secrets.

use super::{at, project};
use crate::fixtures::MetadataFixture;
use cloudnexus_core::{ApiKeyId, ApiKeySecret, ProjectId, ProjectName, Scopes};
use cloudnexus_store::{ApiKeyRecord, StoreError};

fn key_for(project: &ProjectId, created: i64) -> ApiKeyRecord {
    let id = ApiKeyId::generate();
    ApiKeyRecord {
        hash: ApiKeySecret::generate(&id).hash(),
        id,
        project_id: project.clone(),
        scopes: Scopes::parse_list("storage:read,storage:write").unwrap(),
        created_at: at(created),
        revoked_at: None,
        s3_secret: None,
    }
}

pub async fn projects_are_found_by_id_or_name_and_names_are_unique(f: MetadataFixture) {
    let store = f.store.as_ref();
    let first = project(store, "first").await;
    let second = project(store, "second").await;
    assert!(matches!(
        store
            .create_project(ProjectId::generate(), ProjectName::parse("first").unwrap(), at(1))
            .await,
        Err(StoreError::ProjectNameTaken)
    ));
    let by_name = store.find_project("second").await.unwrap().unwrap();
    assert_eq!(by_name.id, second);
    let by_id = store.find_project(first.as_str()).await.unwrap().unwrap();
    assert_eq!(by_id.name.as_str(), "first");
    assert_eq!(store.find_project("third").await.unwrap(), None);
    let listed: Vec<ProjectId> = store.list_projects().await.unwrap().into_iter().map(|p| p.id).collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&first) && listed.contains(&second));
}

pub async fn api_keys_are_created_listed_and_revoked_once(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "keyed").await;
    let theirs = project(store, "keyed-other").await;
    let a = key_for(&mine, 1);
    // An S3 credential is a key record holding its sealed secret; it comes back byte for byte.
    let b = ApiKeyRecord {
        s3_secret: Some((0..=255u8).chain([0, 0, 7]).collect()),
        ..key_for(&mine, 2)
    };
    store.create_api_key(a.clone()).await.unwrap();
    store.create_api_key(b.clone()).await.unwrap();
    store.create_api_key(key_for(&theirs, 3)).await.unwrap();
    assert!(matches!(
        store.create_api_key(key_for(&ProjectId::generate(), 4)).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.list_api_keys(&mine).await.unwrap(), [a.clone(), b.clone()]);
    let found = store.find_api_key(&a.id).await.unwrap().unwrap();
    assert_eq!(found.record, a);
    assert_eq!(store.find_api_key(&b.id).await.unwrap().unwrap().record, b);

    let revoked = store.revoke_api_key(&a.id, at(10)).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(at(10)));
    let again = store.revoke_api_key(&a.id, at(20)).await.unwrap();
    assert_eq!(again.revoked_at, Some(at(10)), "revoking twice keeps the first time");
    assert!(matches!(
        store.revoke_api_key(&ApiKeyId::generate(), at(20)).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.revoked_api_keys_since(at(10)).await.unwrap(),
        std::slice::from_ref(&a.id)
    );
    assert!(store.revoked_api_keys_since(at(11)).await.unwrap().is_empty());
    assert_eq!(
        store.find_api_key(&a.id).await.unwrap().unwrap().record.revoked_at,
        Some(at(10))
    );
}

pub async fn a_secret_keeps_its_first_value(f: MetadataFixture) {
    let store = f.store.as_ref();
    let first = store.secret("signing", [1; 32], at(0)).await.unwrap();
    assert_eq!(first, [1; 32]);
    assert_eq!(store.secret("signing", [2; 32], at(1)).await.unwrap(), [1; 32]);
    assert_eq!(store.secret("other", [3; 32], at(1)).await.unwrap(), [3; 32]);
    let other = f.another_handle().await;
    assert_eq!(other.secret("signing", [4; 32], at(2)).await.unwrap(), [1; 32]);
    other.close().await;
}
