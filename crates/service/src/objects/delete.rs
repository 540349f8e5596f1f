//! Deleting an object: idempotent, whether or not the key exists.

use super::live;
use crate::buckets::change_failed;
use crate::operation::Operation;
use crate::{Principal, Service, ServiceError};
use cloudnexus_core::{BucketRef, ObjectKey};

impl Service {
    /// Removes the object `key` (`storage:write`), if there is one; its bytes are removed in
    /// the background once the change has committed.
    pub async fn delete_object(
        &self,
        principal: &Principal,
        bucket: &BucketRef,
        key: &ObjectKey,
    ) -> Result<(), ServiceError> {
        principal.authorize(Operation::DeleteObject)?;
        let target = live(self.find_bucket(principal, bucket).await?, bucket)?;
        let removed = self
            .store()
            .delete_object(&principal.project_id, &target.id, key, self.clock().now())
            .await
            .map_err(|e| change_failed(e, bucket))?;
        if removed.is_some() {
            self.collect_garbage_soon();
        }
        Ok(())
    }
}
