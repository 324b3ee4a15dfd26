-- The music library: libraries, the shared catalog (artists, albums, tracks, credits, genres) and uploads.

CREATE TABLE library (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL CONSTRAINT library_owner_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  actor_id uuid NOT NULL CONSTRAINT library_actor_id_foreign REFERENCES actor (id),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  privacy text NOT NULL DEFAULT 'private' CHECK (privacy IN ('private', 'instance', 'public')),
  approve_follows boolean NOT NULL DEFAULT true,
  music_folder text,
  last_scan_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT library_actor_id_unique UNIQUE (actor_id)
);
CREATE INDEX library_owner_id_index ON library (owner_id);

CREATE TABLE artist (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  normalized_name text NOT NULL,
  mbid uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT artist_mbid_unique UNIQUE (mbid)
);
CREATE INDEX artist_normalized_name_index ON artist (normalized_name);

CREATE TABLE album (
  id uuid PRIMARY KEY,
  title text NOT NULL,
  normalized_title text NOT NULL,
  album_artist_id uuid NOT NULL CONSTRAINT album_album_artist_id_foreign REFERENCES artist (id),
  year integer,
  release_date text,
  mbid uuid,
  release_group_mbid uuid,
  compilation boolean NOT NULL DEFAULT false,
  cover_hash text,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT album_mbid_unique UNIQUE (mbid)
);
CREATE INDEX album_album_artist_id_normalized_title_index ON album (album_artist_id, normalized_title);

CREATE TABLE track (
  id uuid PRIMARY KEY,
  title text NOT NULL,
  normalized_title text NOT NULL,
  album_id uuid NOT NULL CONSTRAINT track_album_id_foreign REFERENCES album (id),
  artist_id uuid NOT NULL CONSTRAINT track_artist_id_foreign REFERENCES artist (id),
  disc_number integer,
  disc_total integer,
  track_number integer,
  track_total integer,
  mbid uuid,
  release_track_mbid uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT track_release_track_mbid_unique UNIQUE (release_track_mbid)
);
CREATE INDEX track_album_id_index ON track (album_id);
CREATE INDEX track_artist_id_index ON track (artist_id);

-- Several artists per track or album, in order, with the text between them ("A feat. B").
CREATE TABLE artist_credit (
  id uuid PRIMARY KEY,
  track_id uuid CONSTRAINT artist_credit_track_id_foreign REFERENCES track (id) ON DELETE CASCADE,
  album_id uuid CONSTRAINT artist_credit_album_id_foreign REFERENCES album (id) ON DELETE CASCADE,
  artist_id uuid NOT NULL CONSTRAINT artist_credit_artist_id_foreign REFERENCES artist (id),
  position integer NOT NULL,
  credited_name text NOT NULL,
  join_phrase text NOT NULL DEFAULT '',
  CONSTRAINT artist_credit_owner_check CHECK ((track_id IS NULL) <> (album_id IS NULL))
);
CREATE INDEX artist_credit_track_id_index ON artist_credit (track_id);
CREATE INDEX artist_credit_album_id_index ON artist_credit (album_id);
CREATE INDEX artist_credit_artist_id_index ON artist_credit (artist_id);

CREATE TABLE genre (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  normalized_name text NOT NULL,
  CONSTRAINT genre_normalized_name_unique UNIQUE (normalized_name)
);

CREATE TABLE track_genre (
  track_id uuid NOT NULL CONSTRAINT track_genre_track_id_foreign REFERENCES track (id) ON DELETE CASCADE,
  genre_id uuid NOT NULL CONSTRAINT track_genre_genre_id_foreign REFERENCES genre (id) ON DELETE CASCADE,
  CONSTRAINT track_genre_pkey PRIMARY KEY (track_id, genre_id)
);

CREATE TABLE import_batch (
  id uuid PRIMARY KEY,
  library_id uuid NOT NULL CONSTRAINT import_batch_library_id_foreign REFERENCES library (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('upload', 'folder')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_batch_library_id_index ON import_batch (library_id);

-- One audio file of a track inside one library. `stored` files live under MEDIA_DIR and are ours to
-- delete; `in_place` files belong to a library's music folder and are never deleted by us.
CREATE TABLE upload (
  id uuid PRIMARY KEY,
  library_id uuid NOT NULL CONSTRAINT upload_library_id_foreign REFERENCES library (id) ON DELETE CASCADE,
  track_id uuid CONSTRAINT upload_track_id_foreign REFERENCES track (id) ON DELETE SET NULL,
  batch_id uuid CONSTRAINT upload_batch_id_foreign REFERENCES import_batch (id) ON DELETE SET NULL,
  storage text NOT NULL CHECK (storage IN ('stored', 'in_place')),
  path text NOT NULL,
  original_name text NOT NULL,
  size bigint NOT NULL,
  mtime timestamptz,
  checksum text,
  mime_type text,
  duration_ms integer,
  bitrate integer,
  sample_rate integer,
  bit_depth integer,
  channels integer,
  codec text,
  lossless boolean,
  replay_gain jsonb,
  lyrics text,
  lyrics_synced boolean,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'finished', 'errored', 'skipped')),
  error_code text,
  error_message text,
  fid text,
  imported_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT upload_library_id_path_unique UNIQUE (library_id, path),
  CONSTRAINT upload_fid_unique UNIQUE (fid)
);
CREATE INDEX upload_track_id_index ON upload (track_id);
CREATE INDEX upload_batch_id_index ON upload (batch_id);
CREATE INDEX upload_library_id_status_index ON upload (library_id, status);
CREATE INDEX upload_library_id_checksum_index ON upload (library_id, checksum);

-- graphile-worker's own ids for a worker process's job slots, so another process can tell which locks
-- belong to a worker that died (killed mid-job) and release them without waiting hours.
ALTER TABLE worker_heartbeat ADD COLUMN graphile_worker_ids text[] NOT NULL DEFAULT '{}';
