-- An S3 credential of schema version 6: a key row with its sealed secret.
INSERT INTO api_keys (id, project_id, key_hash, scopes, created_at, revoked_at, s3_secret) VALUES
    ('key_upgrade003', 'prj_upgrade001', X'0404040404040404040404040404040404040404040404040404040404040404', 'storage:read', 1700001000, NULL, X'05050505050505050505');
