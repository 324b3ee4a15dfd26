-- Last.fm 2.0 and AudioScrobbler 1.2 compatibility (issue 18 point 2).
--
-- An application (a scrobbler) has a public API key and a shared secret. Requests are signed with
-- api_sig = md5(sorted params + secret), so the server must compute that md5 itself: the secret is
-- stored encrypted (AES-256-GCM with a key derived from the server key, as the Subsonic password in
-- 0006), never hashed. The API key is not a secret (clients ship it in the clear) and is stored as is.
CREATE TABLE lastfm_application (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL CONSTRAINT lastfm_application_owner_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  api_key text NOT NULL CONSTRAINT lastfm_application_api_key_unique UNIQUE,
  secret_enc text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lastfm_application_owner_id_index ON lastfm_application (owner_id);

-- auth.getToken's tokens (valid 60 minutes), approved by a signed-in person in the browser, then
-- traded once for a session key by auth.getSession. Bearer secrets: only their SHA-256 is kept.
CREATE TABLE lastfm_token (
  token_hash text PRIMARY KEY,
  application_id uuid NOT NULL CONSTRAINT lastfm_token_application_id_foreign REFERENCES lastfm_application (id) ON DELETE CASCADE,
  user_id uuid CONSTRAINT lastfm_token_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL
);

-- Session keys (sk): they never expire, as Last.fm's; removing the application or the person ends them.
CREATE TABLE lastfm_session (
  key_hash text PRIMARY KEY,
  application_id uuid NOT NULL CONSTRAINT lastfm_session_application_id_foreign REFERENCES lastfm_application (id) ON DELETE CASCADE,
  user_id uuid NOT NULL CONSTRAINT lastfm_session_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lastfm_session_user_id_index ON lastfm_session (user_id);

-- AudioScrobbler 1.2 signs the handshake with md5(md5(password) + timestamp); we keep only password
-- hashes, so each person has a separate scrobbler password, stored encrypted to compute that md5.
CREATE TABLE scrobbler_password (
  user_id uuid PRIMARY KEY CONSTRAINT scrobbler_password_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  password_enc text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A handshake's session id, until it lapses (a player handshakes again on BADSESSION).
CREATE TABLE audioscrobbler_session (
  id_hash text PRIMARY KEY,
  user_id uuid NOT NULL CONSTRAINT audioscrobbler_session_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  client text,
  expires_at timestamptz NOT NULL
);
CREATE INDEX audioscrobbler_session_user_id_index ON audioscrobbler_session (user_id);
