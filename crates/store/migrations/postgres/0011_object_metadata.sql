-- What a writer says about an object besides its bytes and Content-Type, on objects and on the
-- multipart uploads that will become objects, each a JSON object checked before writing:
-- `user_metadata`, S3's `x-amz-meta-*` (names to values, at most 2 KiB together), and
-- `content_headers`, the standard headers it is served with (`cache_control`,
-- `content_disposition`, `content_encoding`, `content_language`). Rows written before have
-- none. Adding a column with a constant default rewrites no row, on either database.
ALTER TABLE objects ADD COLUMN user_metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE objects ADD COLUMN content_headers TEXT NOT NULL DEFAULT '{}';
ALTER TABLE multipart_uploads ADD COLUMN user_metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE multipart_uploads ADD COLUMN content_headers TEXT NOT NULL DEFAULT '{}';
