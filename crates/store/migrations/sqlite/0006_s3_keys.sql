-- S3 credentials are API key records that also hold a sealed secret access key: the nonce and
-- AES-256-GCM ciphertext of the secret under the server's master key (kept outside this
-- database). NULL for the API keys used by the JSON API. `key_hash` of an S3 key holds the
-- SHA-256 of its secret, which no API key can match.
ALTER TABLE api_keys ADD COLUMN s3_secret BLOB;
