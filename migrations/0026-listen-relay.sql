-- Relaying listens to the person's ListenBrainz and Last.fm accounts (issue 18 point 7).
--
-- One row per person and target. The credentials (a ListenBrainz token; a Last.fm API key, secret and
-- session key) are one JSON document sealed with AES-256-GCM under a key derived from the server key
-- (core/subsonic/sealed.ts), bound to the row's person and target. A target that refused the
-- credentials (401, Last.fm error 9) is marked failing with the reason, and gets nothing more until
-- the person saves new credentials.
CREATE TABLE listen_relay (
  user_id uuid NOT NULL CONSTRAINT listen_relay_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  target text NOT NULL CHECK (target IN ('listenbrainz', 'lastfm')),
  base_url text NOT NULL,
  credentials_enc text NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'failing')),
  last_error text,
  last_error_at timestamptz,
  last_delivered_at timestamptz,
  delivered_count bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, target)
);
