//! Domain types of CloudNexus Storage and the rules they enforce.
//!
//! Every type here is parsed once at the edge (`BucketName::parse`, `Tags::parse`, ...) and is
//! valid from then on, so nothing below the HTTP layer checks a value twice. No I/O, no HTTP.

pub mod api_key;
pub mod bucket;
pub mod bucket_json;
pub mod clock;
pub mod content_headers;
pub mod ids;
pub mod listing;
pub mod multipart;
pub mod object;
pub mod project;
pub mod rate_limit;
pub mod region;
pub mod s3_key;
pub mod scope;
pub mod tags;
pub mod user_metadata;

pub use api_key::{ApiKeyHash, ApiKeySecret};
pub use bucket::{Bucket, BucketName, BucketRef, StorageClass};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use content_headers::ContentHeaders;
pub use ids::{ApiKeyId, BucketId, BucketIdRef, ProjectId, UploadId};
pub use object::{BlobId, ByteRange, Object, ObjectKey};
pub use project::{Project, ProjectName};
pub use region::{Region, RegionSet};
pub use scope::{Scope, Scopes};
pub use tags::{StoredTags, TagFilter, TagKey, TagValue, Tags};
pub use user_metadata::UserMetadata;
