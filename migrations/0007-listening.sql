-- Listening: every play kept as a listen (the log later statistics read), what each person is playing
-- now (per player), and the play queue a Subsonic client saves to resume on another device.

-- One row per play. The track's names are copied in, so a listen keeps its meaning when the track is
-- deleted (track_id becomes null) and listens imported from elsewhere need no local track.
CREATE TABLE listen (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL CONSTRAINT listen_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  track_id uuid CONSTRAINT listen_track_id_foreign REFERENCES track (id) ON DELETE SET NULL,
  -- When playback started (a scrobble's `time`), as ListenBrainz's listened_at.
  listened_at timestamptz NOT NULL,
  track_name text NOT NULL,
  artist_name text NOT NULL,
  release_name text,
  recording_mbid uuid,
  release_mbid uuid,
  -- The track's length, and how much of it was heard when the client told us (null: unknown).
  track_duration_ms integer,
  listened_ms integer,
  source text NOT NULL CHECK (source IN ('web', 'subsonic', 'listenbrainz')),
  -- The player that reported it (Subsonic `c`), when known.
  client text,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- A person's listens by time; also drops a client's resent scrobble (same track, same start).
CREATE UNIQUE INDEX listen_user_id_listened_at_track_id_unique ON listen (user_id, listened_at, track_id);
-- Top tracks (over a time range).
CREATE INDEX listen_track_id_listened_at_index ON listen (track_id, listened_at);

-- What someone is playing now, one row per person and player; it lapses at expires_at (the track's
-- duration after it started, or 10 minutes when the duration is unknown) and is overwritten by the
-- next report from the same player.
CREATE TABLE now_playing (
  user_id uuid NOT NULL CONSTRAINT now_playing_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  client text NOT NULL,
  track_id uuid NOT NULL CONSTRAINT now_playing_track_id_foreign REFERENCES track (id) ON DELETE CASCADE,
  started_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  CONSTRAINT now_playing_pkey PRIMARY KEY (user_id, client)
);

-- One saved play queue per person: track ids in order (repeats allowed; ids of deleted tracks are
-- skipped when read), the current track and the position in it.
CREATE TABLE play_queue (
  user_id uuid PRIMARY KEY CONSTRAINT play_queue_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  track_ids uuid[] NOT NULL,
  current_track_id uuid CONSTRAINT play_queue_current_track_id_foreign REFERENCES track (id) ON DELETE SET NULL,
  position_ms integer NOT NULL DEFAULT 0,
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by text NOT NULL
);
