//! The behaviour every [`MetadataStore`] promises, whatever its backend: the listing against a
//! model, data versions and live usage, cursors under churn, the bucket lifecycle and purge,
//! objects and their usage counters, multipart uploads, projects, API keys, revocations and secrets.

pub mod buckets;
pub mod data_version;
pub mod listed_json;
pub mod listing_model;
pub mod multipart;
pub mod objects;
pub mod tenancy;

use cloudnexus_core::{
    BlobId, BucketId, BucketName, ContentHeaders, Object, ObjectKey, ProjectId, ProjectName, RegionSet, StorageClass,
    Tags, Timestamp, UserMetadata,
};
use cloudnexus_store::{MetadataStore, NewBucket};

pub const T0: i64 = 1_700_000_000;

pub fn at(seconds_after_t0: i64) -> Timestamp {
    Timestamp::from_unix_seconds(T0 + seconds_after_t0)
}

/// Creates a project named `name`.
pub async fn project(store: &dyn MetadataStore, name: &str) -> ProjectId {
    let id = ProjectId::generate();
    store
        .create_project(id.clone(), ProjectName::parse(name).unwrap(), at(0))
        .await
        .unwrap();
    id
}

/// A bucket of `project` named `name` in us-east-1, created at T0.
pub fn new_bucket(project: &ProjectId, name: &str) -> NewBucket {
    NewBucket {
        id: BucketId::generate(),
        project_id: project.clone(),
        name: BucketName::parse(name).unwrap(),
        region: RegionSet::default().parse("us-east-1").unwrap(),
        storage_class: StorageClass::Standard,
        public: false,
        tags: Tags::default(),
        created_at: at(0),
    }
}

/// An object of `size` bytes at `key`, in a fresh blob, with content headers and user metadata
/// (so that every read compared with it shows them kept).
pub fn object(bucket: &BucketId, key: &str, size: u64) -> Object {
    Object {
        bucket_id: bucket.clone(),
        key: ObjectKey::parse(key).unwrap(),
        blob_id: BlobId::generate(),
        size_bytes: size,
        etag: format!("{size:032x}"),
        content_type: "text/plain".to_owned(),
        content_headers: ContentHeaders::new(Some(format!("max-age={size}")), None, Some("gzip".to_owned()), None)
            .unwrap(),
        user_metadata: UserMetadata::new([
            ("mtime".to_owned(), format!("{size}.5")),
            ("author".to_owned(), "Zoë".to_owned()),
        ])
        .unwrap(),
        last_modified: at(1),
    }
}

/// Every test of the suite, run against the backend whose fixture is `$fixture`.
macro_rules! suite_tests {
    ($fixture:path) => {
        $crate::metadata::suite_tests!(@tests $fixture;
            data_version::every_change_moves_the_version_of_its_project_only,
            data_version::usage_is_read_live_and_moves_no_version,
            data_version::a_remembered_api_key_is_read_again_after_any_commit,
            listing_model::pages_totals_and_offsets_match_the_model_on_every_path,
            listing_model::a_cursor_walk_under_churn_never_repeats_or_skips,
            listing_model::an_empty_page_still_has_its_dimensions_total,
            listed_json::pages_show_every_change_made_through_the_store_or_past_it,
            buckets::names_are_unique_across_projects_and_bulk_creates_are_all_or_nothing,
            buckets::another_projects_bucket_is_not_found,
            buckets::the_lifecycle_refuses_what_does_not_apply,
            buckets::patches_replace_tags_and_keep_counts_exact,
            buckets::the_purge_takes_only_due_buckets_frees_names_and_queues_their_blobs,
            buckets::concurrent_writers_in_one_project_all_succeed_with_exact_counts,
            objects::writes_and_deletes_keep_usage_exact,
            objects::small_objects_keep_their_bytes_in_the_metadata_until_collected,
            objects::conditions_and_bucket_state_are_checked_in_the_write,
            objects::listings_roll_keys_up_under_a_delimiter_and_page,
            objects::the_garbage_queue_and_known_blobs,
            objects::a_hold_on_garbage_collection_hides_the_queue_until_released_or_expired,
            multipart::parts_are_replaced_by_number_and_completion_is_one_change,
            multipart::uploads_are_listed_by_key_aborted_and_expired,
            multipart::uploads_follow_their_bucket,
            tenancy::projects_are_found_by_id_or_name_and_names_are_unique,
            tenancy::api_keys_are_created_listed_and_revoked_once,
            tenancy::a_secret_keeps_its_first_value,
        );
    };
    (@tests $fixture:path; $($module:ident :: $test:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                metadata::$module::$test($fixture().await).await;
            }
        )*
    };
}
pub(crate) use suite_tests;
