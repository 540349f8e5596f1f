//! Multipart uploads over S3: create, upload a part (or copy one from an object, with a byte
//! range), complete, abort, and list parts and uploads. A completion larger than
//! [`KEEP_ALIVE_ABOVE`] is checked at once and then written while the answer keeps the
//! connection alive (S3's 200 with whitespace, then the result), as S3 does for long ones.

use super::buckets::bucket_ref;
use super::errors::from_service;
use super::objects::{
    byte_stream, content_headers, content_md5, content_type, etag_list, object_key, read_source, user_metadata,
};
use super::protocol::{principal, s3_time, unix_seconds};
use crate::AppState;
use cloudnexus_core::UploadId;
use cloudnexus_service::objects::get::ReadConditions;
use cloudnexus_service::objects::multipart::{PartUpload, StartUpload, UploadRef};
use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, CompleteMultipartUploadInput, CompleteMultipartUploadOutput,
    CopyPartResult, CreateMultipartUploadInput, CreateMultipartUploadOutput, ETag, Initiator,
    ListMultipartUploadsInput, ListMultipartUploadsOutput, ListPartsInput, ListPartsOutput,
    MultipartUpload as S3Upload, Part, UploadPartCopyInput, UploadPartCopyOutput, UploadPartInput, UploadPartOutput,
};
use s3s::{S3Request, S3Result, s3_error};

/// Completions of objects larger than this keep the connection alive while they are written.
const KEEP_ALIVE_ABOVE: u64 = 32 * 1024 * 1024;
/// The most parts or uploads one list answer holds (S3's limit and default).
const MAX_LISTED: i32 = 1000;

fn upload_ref(bucket: &str, key: &str, id: &str) -> S3Result<UploadRef> {
    Ok(UploadRef {
        bucket: bucket_ref(bucket)?,
        key: object_key(key)?,
        id: UploadId::parse(id).map_err(|_| s3_error!(NoSuchUpload, "The specified upload does not exist: {}", id))?,
    })
}

fn part_number(n: i32) -> S3Result<u32> {
    u32::try_from(n).map_err(|_| s3_error!(InvalidArgument, "Part number must be an integer between 1 and 10000"))
}

fn initiator(project: &str) -> Initiator {
    Initiator {
        display_name: Some(project.to_owned()),
        id: Some(project.to_owned()),
    }
}

pub(super) async fn create(
    state: &AppState,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<CreateMultipartUploadOutput> {
    let principal = &principal(&req)?;
    let input = &req.input;
    let start = StartUpload {
        bucket: bucket_ref(&input.bucket)?,
        key: object_key(&input.key)?,
        content_type: content_type(input.content_type.clone())?,
        content_headers: content_headers!(input)?,
        user_metadata: user_metadata(input.metadata.as_ref())?,
    };
    let upload = state
        .service
        .create_upload(principal, start)
        .await
        .map_err(|e| from_service(e, Some(&input.bucket), Some(&input.key)))?;
    Ok(CreateMultipartUploadOutput {
        bucket: Some(input.bucket.clone()),
        key: Some(input.key.clone()),
        upload_id: Some(upload.id.to_string()),
        ..Default::default()
    })
}

pub(super) async fn upload_part(state: &AppState, req: S3Request<UploadPartInput>) -> S3Result<UploadPartOutput> {
    let principal = &principal(&req)?;
    let input = req.input;
    let upload = upload_ref(&input.bucket, &input.key, &input.upload_id)?;
    let part = PartUpload {
        number: part_number(input.part_number)?,
        declared_length: input.content_length.and_then(|n| u64::try_from(n).ok()),
        content_md5: content_md5(input.content_md5.as_deref())?,
    };
    let stored = state
        .service
        .upload_part(principal, &upload, part, byte_stream(input.body))
        .await
        .map_err(|e| from_service(e, Some(&input.bucket), Some(&input.key)))?;
    Ok(UploadPartOutput {
        e_tag: Some(ETag::Strong(stored.etag)),
        ..Default::default()
    })
}

/// A part copied from an object (or a byte range of it, `bytes=first-last`).
pub(super) async fn upload_part_copy(
    state: &AppState,
    req: S3Request<UploadPartCopyInput>,
) -> S3Result<UploadPartCopyOutput> {
    let principal = &principal(&req)?;
    let input = &req.input;
    let upload = upload_ref(&input.bucket, &input.key, &input.upload_id)?;
    let range = match &input.copy_source_range {
        None => None,
        Some(header) => Some(
            cloudnexus_core::ByteRange::parse(header)
                .filter(|r| matches!(r, cloudnexus_core::ByteRange::From { last: Some(_), .. }))
                .ok_or_else(|| s3_error!(InvalidArgument, "x-amz-copy-source-range must be bytes=first-last"))?,
        ),
    };
    let conditions = ReadConditions {
        if_match: etag_list(input.copy_source_if_match.as_ref()),
        if_none_match: etag_list(input.copy_source_if_none_match.as_ref()),
        if_modified_since: input.copy_source_if_modified_since.as_ref().map(unix_seconds),
        if_unmodified_since: input.copy_source_if_unmodified_since.as_ref().map(unix_seconds),
    };
    let source = read_source(state, principal, &input.copy_source, conditions, range).await?;
    let part = PartUpload {
        number: part_number(input.part_number)?,
        declared_length: Some(source.length()),
        content_md5: None,
    };
    let stored = state
        .service
        .upload_part(principal, &upload, part, source.into_body())
        .await
        .map_err(|e| from_service(e, Some(&input.bucket), Some(&input.key)))?;
    Ok(UploadPartCopyOutput {
        copy_part_result: Some(CopyPartResult {
            e_tag: Some(ETag::Strong(stored.etag)),
            last_modified: Some(s3_time(stored.last_modified)),
            ..Default::default()
        }),
        ..Default::default()
    })
}

pub(super) async fn complete(
    state: &AppState,
    req: S3Request<CompleteMultipartUploadInput>,
) -> S3Result<CompleteMultipartUploadOutput> {
    let principal = principal(&req)?;
    let input = req.input;
    let upload = upload_ref(&input.bucket, &input.key, &input.upload_id)?;
    let listed = input.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
    let mut chosen = Vec::with_capacity(listed.len());
    for part in listed {
        let number = part
            .part_number
            .ok_or_else(|| s3_error!(InvalidPart, "Every part needs its PartNumber"))
            .and_then(part_number)?;
        let etag = part
            .e_tag
            .ok_or_else(|| s3_error!(InvalidPart, "Every part needs its ETag"))?
            .into_value();
        chosen.push((number, etag));
    }
    let (bucket, key) = (input.bucket, input.key);
    let plan = state
        .service
        .plan_completion(&principal, &upload, &chosen)
        .await
        .map_err(|e| from_service(e, Some(&bucket), Some(&key)))?;
    let large = plan.size() > KEEP_ALIVE_ABOVE;
    let service = state.service.clone();
    let finish = async move {
        let object = service
            .finish_completion(&principal, plan)
            .await
            .map_err(|e| from_service(e, Some(&bucket), Some(&key)))?;
        Ok(CompleteMultipartUploadOutput {
            location: Some(format!("/{bucket}/{key}")),
            bucket: Some(bucket),
            key: Some(key),
            e_tag: Some(ETag::Strong(object.etag)),
            ..Default::default()
        })
    };
    if large {
        Ok(CompleteMultipartUploadOutput {
            future: Some(Box::pin(finish)),
            ..Default::default()
        })
    } else {
        finish.await
    }
}

pub(super) async fn abort(
    state: &AppState,
    req: S3Request<AbortMultipartUploadInput>,
) -> S3Result<AbortMultipartUploadOutput> {
    let principal = &principal(&req)?;
    let input = &req.input;
    let upload = upload_ref(&input.bucket, &input.key, &input.upload_id)?;
    state
        .service
        .abort_upload(principal, &upload)
        .await
        .map_err(|e| from_service(e, Some(&input.bucket), Some(&input.key)))?;
    Ok(AbortMultipartUploadOutput::default())
}

pub(super) async fn list_parts(state: &AppState, req: S3Request<ListPartsInput>) -> S3Result<ListPartsOutput> {
    let principal = &principal(&req)?;
    let input = &req.input;
    let upload = upload_ref(&input.bucket, &input.key, &input.upload_id)?;
    let max = input
        .max_parts
        .unwrap_or(MAX_LISTED)
        .clamp(1, MAX_LISTED)
        .unsigned_abs();
    let after = u32::try_from(input.part_number_marker.unwrap_or(0)).unwrap_or(0);
    // One more than asked, to know whether the list is truncated.
    let (_, mut parts) = state
        .service
        .list_parts(principal, &upload, after, max + 1)
        .await
        .map_err(|e| from_service(e, Some(&input.bucket), Some(&input.key)))?;
    let truncated = parts.len() > max as usize;
    parts.truncate(max as usize);
    let project = principal.project_id.to_string();
    Ok(ListPartsOutput {
        bucket: Some(input.bucket.clone()),
        key: Some(input.key.clone()),
        upload_id: Some(input.upload_id.clone()),
        initiator: Some(initiator(&project)),
        owner: Some(s3s::dto::Owner {
            display_name: Some(project.clone()),
            id: Some(project),
        }),
        max_parts: Some(i32::try_from(max).unwrap_or(MAX_LISTED)),
        part_number_marker: input.part_number_marker,
        is_truncated: Some(truncated),
        next_part_number_marker: if truncated {
            parts.last().and_then(|p| i32::try_from(p.number).ok())
        } else {
            None
        },
        parts: Some(
            parts
                .into_iter()
                .map(|p| Part {
                    e_tag: Some(ETag::Strong(p.etag)),
                    last_modified: Some(s3_time(p.last_modified)),
                    part_number: i32::try_from(p.number).ok(),
                    size: i64::try_from(p.size_bytes).ok(),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    })
}

/// Uploads in progress, by key then start. A delimiter is not supported (every upload is listed
/// under its full key).
pub(super) async fn list_uploads(
    state: &AppState,
    req: S3Request<ListMultipartUploadsInput>,
) -> S3Result<ListMultipartUploadsOutput> {
    let principal = &principal(&req)?;
    let input = &req.input;
    if input.delimiter.as_deref().is_some_and(|d| !d.is_empty()) {
        return Err(s3_error!(
            NotImplemented,
            "ListMultipartUploads does not support a delimiter"
        ));
    }
    let max = input
        .max_uploads
        .unwrap_or(MAX_LISTED)
        .clamp(1, MAX_LISTED)
        .unsigned_abs();
    let after = match input.key_marker.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(key) => {
            let key = object_key(key)?;
            let id = input
                .upload_id_marker
                .as_deref()
                .filter(|m| !m.is_empty())
                .map(UploadId::parse)
                .transpose()
                .map_err(|_| s3_error!(InvalidArgument, "upload-id-marker is not an upload id"))?;
            Some((key, id))
        }
    };
    let mut uploads = state
        .service
        .list_uploads(
            principal,
            &bucket_ref(&input.bucket)?,
            input.prefix.as_deref().unwrap_or(""),
            after,
            max + 1,
        )
        .await
        .map_err(|e| from_service(e, Some(&input.bucket), None))?;
    let truncated = uploads.len() > max as usize;
    uploads.truncate(max as usize);
    let project = principal.project_id.to_string();
    let last = uploads.last().cloned();
    Ok(ListMultipartUploadsOutput {
        bucket: Some(input.bucket.clone()),
        prefix: input.prefix.clone(),
        key_marker: input.key_marker.clone(),
        upload_id_marker: input.upload_id_marker.clone(),
        max_uploads: Some(i32::try_from(max).unwrap_or(MAX_LISTED)),
        is_truncated: Some(truncated),
        next_key_marker: last.as_ref().filter(|_| truncated).map(|u| u.key.to_string()),
        next_upload_id_marker: last.as_ref().filter(|_| truncated).map(|u| u.id.to_string()),
        uploads: Some(
            uploads
                .iter()
                .map(|u| S3Upload {
                    initiated: Some(s3_time(u.initiated)),
                    initiator: Some(initiator(&project)),
                    key: Some(u.key.to_string()),
                    owner: Some(s3s::dto::Owner {
                        display_name: Some(project.clone()),
                        id: Some(project.clone()),
                    }),
                    upload_id: Some(u.id.to_string()),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    })
}
