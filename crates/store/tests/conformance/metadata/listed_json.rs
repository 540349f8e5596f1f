//! A list page's JSON for each bucket, on every backend the same as its fields write, after
//! every change made through the store and after one made past it. Where the backend's rows
//! keep each bucket's JSON for list pages (SQLite), every change through the store writes it,
//! a change past the store clears it, and a store opening the database fills it in again.

use super::{at, new_bucket, object, project};
use crate::fixtures::MetadataFixture;
use cloudnexus_core::Tags;
use cloudnexus_store::testing::{WrittenBucket, page_json as page};
use cloudnexus_store::{BucketPatch, PutConditions};

/// Checks that every bucket of `page` came as its row's JSON where the backend keeps it.
fn assert_from_row_json(f: &MetadataFixture, page: &[WrittenBucket]) {
    assert!(page.iter().all(|w| w.from_row_json == f.keeps_listing_json), "{page:?}");
}

fn written<'p>(page: &'p [WrittenBucket], id: &cloudnexus_core::BucketId) -> &'p WrittenBucket {
    page.iter().find(|w| w.id == id.as_str()).unwrap()
}

pub async fn pages_show_every_change_made_through_the_store_or_past_it(f: MetadataFixture) {
    let store = f.store.as_ref();
    let mine = project(store, "listed-json").await;
    let mut tagged = new_bucket(&mine, "tagged");
    tagged.tags = Tags::parse([("env", "prod"), ("note", "say \"hi\" \u{e9}")]).unwrap();
    let tagged = store.create_bucket(tagged).await.unwrap();
    let plain = store.create_bucket(new_bucket(&mine, "plain")).await.unwrap();
    let created = page(store, &mine).await;
    assert_eq!(created.len(), 2);
    assert_from_row_json(&f, &created);

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
    assert_from_row_json(&f, &changed);
    let [tagged_json, plain_json] = [&tagged.id, &plain.id]
        .map(|id| serde_json::from_str::<serde_json::Value>(&written(&changed, id).json).unwrap());
    assert_eq!(tagged_json["storage_class"], "GLACIER");
    assert_eq!(tagged_json["public"], true);
    assert_eq!(tagged_json["tags"], serde_json::json!({"env": "staging"}));
    assert_eq!(tagged_json["size_bytes"], 42);
    assert_eq!(tagged_json["object_count"], 1);
    assert!(plain_json["deleted_at"].is_string() && plain_json["purge_at"].is_string());
    store.restore_bucket(&mine, &plain.id, at(7)).await.unwrap();
    let restored = page(store, &mine).await;
    assert_from_row_json(&f, &restored);
    assert!(!restored.iter().any(|w| w.json.contains("deleted_at")));

    // A change past the store shows at once: it clears the row's JSON, so the page writes that
    // bucket from its fields; the other keeps its JSON.
    f.execute(&format!(
        "UPDATE buckets SET storage_class = 'INFREQUENT' WHERE id = '{}'",
        plain.id.as_str()
    ))
    .await;
    let edited = page(store, &mine).await;
    assert!(!written(&edited, &plain.id).from_row_json, "{edited:?}");
    assert!(
        written(&edited, &plain.id)
            .json
            .contains(r#""storage_class":"INFREQUENT""#)
    );
    assert_eq!(written(&edited, &tagged.id).from_row_json, f.keeps_listing_json);

    // A store opening the database fills the JSON in again, also where an older binary wrote
    // none at all.
    if f.keeps_listing_json {
        f.execute("UPDATE buckets SET listed_head = NULL, listed_tail = NULL")
            .await;
        assert!(page(store, &mine).await.iter().all(|w| !w.from_row_json));
    }
    let reopened = f.another_handle().await;
    let filled = page(reopened.as_ref(), &mine).await;
    assert_from_row_json(&f, &filled);
    let json = |page: &[WrittenBucket]| page.iter().map(|w| w.json.clone()).collect::<Vec<_>>();
    assert_eq!(json(&filled), json(&edited));
}
