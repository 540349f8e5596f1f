//! The JSON each bucket's row keeps for list pages: written with every change of the bucket,
//! always what the bucket's fields write, cleared by a change made past the store, and filled
//! in again when a store opens the database.

use super::{at, new_bucket, object, project};
use crate::fixtures::MetadataFixture;
use cloudnexus_core::Tags;
use cloudnexus_store::testing::{WrittenBucket, page_json as page};
use cloudnexus_store::{BucketPatch, PutConditions};

fn all_from_row_json(page: &[WrittenBucket]) -> bool {
    page.iter().all(|w| w.from_row_json)
}

pub async fn every_change_writes_the_rows_json_and_a_change_past_the_store_clears_it(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "listed-json").await;
    let mut tagged = new_bucket(&mine, "tagged");
    tagged.tags = Tags::parse([("env", "prod"), ("note", "say \"hi\" \u{e9}")]).unwrap();
    let tagged = store.create_bucket(tagged).await.unwrap();
    let plain = store.create_bucket(new_bucket(&mine, "plain")).await.unwrap();
    let created = page(store, &mine).await;
    assert_eq!(created.len(), 2);
    assert!(all_from_row_json(&created), "{created:?}");

    // Every change of a bucket through the store, and usage, which the JSON leaves out.
    let patch = BucketPatch {
        tags: Some(Tags::parse([("env", "staging")]).unwrap()),
        public: Some(true),
        storage_class: Some("GLACIER".parse().unwrap()),
    };
    store.update_bucket(&mine, &tagged.id, patch, at(5)).await.unwrap();
    store
        .soft_delete_bucket(&mine, &plain.id, at(6), at(100))
        .await
        .unwrap();
    store
        .put_object(&mine, object(&tagged.id, "a", 42), &PutConditions::default())
        .await
        .unwrap();
    let changed = page(store, &mine).await;
    assert!(all_from_row_json(&changed), "{changed:?}");
    let [tagged_json, plain_json] = [&tagged.id, &plain.id].map(|id| {
        let written = changed.iter().find(|w| w.id == id.as_str()).unwrap();
        serde_json::from_str::<serde_json::Value>(&written.json).unwrap()
    });
    assert_eq!(tagged_json["storage_class"], "GLACIER");
    assert_eq!(tagged_json["public"], true);
    assert_eq!(tagged_json["tags"], serde_json::json!({"env": "staging"}));
    assert_eq!(tagged_json["size_bytes"], 42);
    assert_eq!(tagged_json["object_count"], 1);
    assert!(plain_json["deleted_at"].is_string() && plain_json["purge_at"].is_string());
    store.restore_bucket(&mine, &plain.id, at(7)).await.unwrap();
    let restored = page(store, &mine).await;
    assert!(all_from_row_json(&restored), "{restored:?}");
    assert!(!restored.iter().any(|w| w.json.contains("deleted_at")));

    // A change past the store clears the row's JSON: the page writes that bucket from its
    // fields, as it now is; the other keeps its JSON.
    f.execute(&format!(
        "UPDATE buckets SET storage_class = 'INFREQUENT' WHERE id = '{}'",
        plain.id.as_str()
    ))
    .await;
    let edited = page(store, &mine).await;
    let plain_written = edited.iter().find(|w| w.id == plain.id.as_str()).unwrap();
    assert!(!plain_written.from_row_json, "{edited:?}");
    assert!(
        plain_written.json.contains(r#""storage_class":"INFREQUENT""#),
        "{edited:?}"
    );
    assert!(
        edited
            .iter()
            .find(|w| w.id == tagged.id.as_str())
            .unwrap()
            .from_row_json
    );

    // So does an older binary's write of no JSON at all; a store opening the database fills
    // every row in again.
    f.execute("UPDATE buckets SET listed_head = NULL, listed_tail = NULL")
        .await;
    assert!(page(store, &mine).await.iter().all(|w| !w.from_row_json));
    let reopened = f.another_handle().await;
    let filled = page(reopened.as_ref(), &mine).await;
    assert!(all_from_row_json(&filled), "{filled:?}");
    assert_eq!(filled, {
        let mut expected = edited.clone();
        expected.iter_mut().for_each(|w| w.from_row_json = true);
        expected
    });
}
