-- Subsonic credentials, separate from the login password: Subsonic's token auth (md5(password + salt))
-- needs the cleartext, so the password and the API key are stored encrypted (AES-256-GCM) with the
-- server key; the API key is also stored as a SHA-256 hash so a request can find its row.
CREATE TABLE subsonic_credential (
  user_id uuid PRIMARY KEY CONSTRAINT subsonic_credential_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  password_enc text NOT NULL,
  api_key_enc text NOT NULL,
  api_key_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT subsonic_credential_api_key_hash_unique UNIQUE (api_key_hash)
);
