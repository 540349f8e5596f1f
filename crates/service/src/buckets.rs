//! The bucket lifecycle: create, read, change, soft delete, restore. A bucket of another
//! project answers exactly as a bucket that does not exist.

use crate::operation::Operation;
use crate::{Principal, Service, ServiceError};
use cloudnexus_core::{Bucket, BucketId, BucketName, BucketRef, Region, StorageClass, Tags};
use cloudnexus_store::{BucketPatch, NewBucket, StoreError};

/// A bucket to create, its fields parsed and valid.
#[derive(Debug, Clone)]
pub struct CreateBucket {
    pub name: BucketName,
    /// One of the configured regions (parse it with the service's `RegionSet`).
    pub region: Region,
    pub storage_class: StorageClass,
    pub public: bool,
    pub tags: Tags,
}

/// Turns the store's expected outcomes for a change to `bucket` into the service's.
pub(crate) fn change_failed(e: StoreError, bucket: &BucketRef) -> ServiceError {
    match e {
        StoreError::NotFound => ServiceError::BucketNotFound(bucket.clone()),
        StoreError::BucketDeleted => ServiceError::BucketDeleted(bucket.clone()),
        StoreError::BucketNotDeleted => ServiceError::BucketNotDeleted(bucket.clone()),
        other => ServiceError::Store(other),
    }
}

impl Service {
    /// A bucket of the caller's project, soft-deleted ones included; no scope check.
    pub(crate) async fn find_bucket(&self, principal: &Principal, bucket: &BucketRef) -> Result<Bucket, ServiceError> {
        self.store()
            .get_bucket(&principal.project_id, bucket)
            .await?
            .ok_or_else(|| ServiceError::BucketNotFound(bucket.clone()))
    }

    /// Creates a bucket in the caller's project (`storage:write`). Names are unique across
    /// all projects.
    pub async fn create_bucket(&self, principal: &Principal, create: CreateBucket) -> Result<Bucket, ServiceError> {
        principal.authorize(Operation::CreateBucket)?;
        let name = create.name.clone();
        let new = NewBucket {
            id: BucketId::generate(),
            project_id: principal.project_id.clone(),
            name: create.name,
            region: create.region,
            storage_class: create.storage_class,
            public: create.public,
            tags: create.tags,
            created_at: self.clock().now(),
        };
        let bucket = self.store().create_bucket(new).await.map_err(|e| match e {
            StoreError::BucketNameTaken => ServiceError::BucketNameTaken(name),
            other => ServiceError::Store(other),
        })?;
        tracing::info!(bucket.id = %bucket.id, project.id = %bucket.project_id, "bucket created");
        Ok(bucket)
    }

    /// One bucket of the caller's project (`storage:read`). A soft-deleted bucket is only found
    /// when `include_deleted` is set, as in listings; otherwise it is not found.
    pub async fn get_bucket(
        &self,
        principal: &Principal,
        bucket: &BucketRef,
        include_deleted: bool,
    ) -> Result<Bucket, ServiceError> {
        principal.authorize(Operation::GetBucket)?;
        let found = self.find_bucket(principal, bucket).await?;
        if found.deleted_at.is_some() && !include_deleted {
            return Err(ServiceError::BucketNotFound(bucket.clone()));
        }
        Ok(found)
    }

    /// Changes a live bucket's tags (replaced whole), `public` flag or storage class
    /// (`storage:write`).
    pub async fn update_bucket(
        &self,
        principal: &Principal,
        bucket: &BucketRef,
        patch: BucketPatch,
    ) -> Result<Bucket, ServiceError> {
        principal.authorize(Operation::UpdateBucket)?;
        let found = self.find_bucket(principal, bucket).await?;
        let updated = self
            .store()
            .update_bucket(&principal.project_id, &found.id, patch, self.clock().now())
            .await
            .map_err(|e| change_failed(e, bucket))?;
        tracing::info!(bucket.id = %updated.id, project.id = %updated.project_id, "bucket updated");
        Ok(updated)
    }

    /// Soft-deletes a live bucket (`storage:write`): it keeps its name and objects until its
    /// `purge_at`, when the background purge removes it for good.
    pub async fn delete_bucket(&self, principal: &Principal, bucket: &BucketRef) -> Result<Bucket, ServiceError> {
        principal.authorize(Operation::DeleteBucket)?;
        let found = self.find_bucket(principal, bucket).await?;
        let now = self.clock().now();
        let purge_at = now.plus_seconds(self.settings().soft_delete_retention_seconds);
        let deleted = self
            .store()
            .soft_delete_bucket(&principal.project_id, &found.id, now, purge_at)
            .await
            .map_err(|e| change_failed(e, bucket))?;
        tracing::info!(bucket.id = %deleted.id, project.id = %deleted.project_id, purge_at = %purge_at, "bucket soft-deleted");
        Ok(deleted)
    }

    /// Brings a soft-deleted bucket back, with its objects (`storage:write`).
    pub async fn restore_bucket(&self, principal: &Principal, bucket: &BucketRef) -> Result<Bucket, ServiceError> {
        principal.authorize(Operation::RestoreBucket)?;
        let found = self.find_bucket(principal, bucket).await?;
        let restored = self
            .store()
            .restore_bucket(&principal.project_id, &found.id, self.clock().now())
            .await
            .map_err(|e| change_failed(e, bucket))?;
        tracing::info!(bucket.id = %restored.id, project.id = %restored.project_id, "bucket restored");
        Ok(restored)
    }
}
