-- Playlists: each with its own ActivityPub actor, and ordered items (duplicates allowed).

CREATE TABLE playlist (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL CONSTRAINT playlist_owner_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  actor_id uuid NOT NULL CONSTRAINT playlist_actor_id_foreign REFERENCES actor (id),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  privacy text NOT NULL DEFAULT 'private' CHECK (privacy IN ('private', 'instance', 'public')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT playlist_actor_id_unique UNIQUE (actor_id)
);
CREATE INDEX playlist_owner_id_index ON playlist (owner_id);

-- An item points at a track while it exists, and keeps a snapshot of what it was (title, artist,
-- album, duration, recording MBID), so a deleted track leaves an "unavailable" item in its place.
-- Positions are dense (0..n-1); shifting them moves rows past each other inside one statement, so
-- the uniqueness is checked at commit.
CREATE TABLE playlist_item (
  id uuid PRIMARY KEY,
  playlist_id uuid NOT NULL CONSTRAINT playlist_item_playlist_id_foreign REFERENCES playlist (id) ON DELETE CASCADE,
  position integer NOT NULL CHECK (position >= 0),
  track_id uuid CONSTRAINT playlist_item_track_id_foreign REFERENCES track (id) ON DELETE SET NULL,
  title text NOT NULL DEFAULT '',
  artist text NOT NULL DEFAULT '',
  album text NOT NULL DEFAULT '',
  duration_ms integer,
  mbid uuid,
  added_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT playlist_item_playlist_id_position_unique UNIQUE (playlist_id, position) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX playlist_item_track_id_index ON playlist_item (track_id);
