-- User-defined metadata of objects (S3's `x-amz-meta-*`), as a JSON object of names to values
-- (at most 2 KiB together, checked before writing), and of the multipart uploads that will
-- become objects. Rows written before have none. Adding a column with a constant default
-- rewrites no row, on either database.
ALTER TABLE objects ADD COLUMN user_metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE multipart_uploads ADD COLUMN user_metadata TEXT NOT NULL DEFAULT '{}';
