-- Foundation: actors, accounts, sessions, API tokens, rate limits, worker heartbeats, Fedify's KV store.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TABLE actor (
  id uuid PRIMARY KEY,
  fid text NOT NULL,
  type text NOT NULL CHECK (type IN ('Person', 'Service', 'Application', 'Group', 'Organization')),
  username text NOT NULL,
  domain text NOT NULL,
  is_local boolean NOT NULL,
  name text,
  summary text,
  inbox_url text,
  shared_inbox_url text,
  outbox_url text,
  followers_url text,
  rsa_public_jwk jsonb,
  rsa_private_jwk jsonb,
  ed25519_public_jwk jsonb,
  ed25519_private_jwk jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT actor_fid_unique UNIQUE (fid),
  CONSTRAINT actor_domain_username_unique UNIQUE (domain, username)
);

CREATE TABLE app_user (
  id uuid PRIMARY KEY,
  username text NOT NULL,
  email text,
  password_hash text NOT NULL,
  role text NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
  actor_id uuid NOT NULL CONSTRAINT app_user_actor_id_foreign REFERENCES actor (id),
  disabled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT app_user_username_unique UNIQUE (username),
  CONSTRAINT app_user_email_unique UNIQUE (email),
  CONSTRAINT app_user_actor_id_unique UNIQUE (actor_id)
);

CREATE TABLE user_session (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL CONSTRAINT user_session_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  token_hash text NOT NULL,
  csrf_token text NOT NULL,
  user_agent text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  CONSTRAINT user_session_token_hash_unique UNIQUE (token_hash)
);
CREATE INDEX user_session_user_id_index ON user_session (user_id);

CREATE TABLE api_token (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL CONSTRAINT api_token_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  name text NOT NULL,
  token_hash text NOT NULL,
  token_prefix text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  expires_at timestamptz,
  CONSTRAINT api_token_token_hash_unique UNIQUE (token_hash)
);
CREATE INDEX api_token_user_id_index ON api_token (user_id);

-- Fixed-window counters shared by every web replica (login attempts and other limits).
CREATE TABLE rate_limit (
  key text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  hits integer NOT NULL
);

-- Each worker process writes here periodically; the health endpoint reads it.
CREATE TABLE worker_heartbeat (
  worker_id text PRIMARY KEY,
  started_at timestamptz NOT NULL,
  seen_at timestamptz NOT NULL
);

-- Fedify's caches and idempotency marks: losing them in a crash is harmless, so no WAL.
CREATE UNLOGGED TABLE fedify_kv (
  key text[] PRIMARY KEY,
  value jsonb NOT NULL,
  expires_at timestamptz
);
CREATE INDEX fedify_kv_expires_at_index ON fedify_kv (expires_at) WHERE expires_at IS NOT NULL;

-- Single-use invitation codes for REGISTRATION=invite (only the hash is stored).
CREATE TABLE invite (
  id uuid PRIMARY KEY,
  code_hash text NOT NULL,
  created_by_id uuid NOT NULL CONSTRAINT invite_created_by_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  used_by_id uuid CONSTRAINT invite_used_by_id_foreign REFERENCES app_user (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  CONSTRAINT invite_code_hash_unique UNIQUE (code_hash)
);
