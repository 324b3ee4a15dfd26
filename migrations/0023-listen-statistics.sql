-- Listens from every source (issue 18): one listen model (web player, Subsonic, ListenBrainz /1/,
-- Last.fm /2.0/, AudioScrobbler, imports), the per-user listen token scrobblers send, who may read a
-- person's listens, and the rollups live statistics are answered from.

-- Listens ---------------------------------------------------------------------------------------------

ALTER TABLE listen DROP CONSTRAINT listen_source_check;
ALTER TABLE listen ADD CONSTRAINT listen_source_check
  CHECK (source IN ('web', 'subsonic', 'listenbrainz', 'lastfm', 'audioscrobbler', 'import'));
-- What a ListenBrainz listen may carry beyond names: kept so it is answered back as it came.
ALTER TABLE listen ADD COLUMN release_group_mbid uuid;
ALTER TABLE listen ADD COLUMN artist_mbids uuid[];
ALTER TABLE listen ADD COLUMN track_number integer;
ALTER TABLE listen ADD COLUMN additional_info jsonb;
-- Matching a listen by recording MBID reads tracks by mbid.
CREATE INDEX track_mbid_index ON track (mbid);
-- Listens still waiting for a track, found when one is imported (ListenIngest.linkUnmatched): only
-- unmatched rows are indexed, so the index stays as small as the backlog.
CREATE INDEX listen_unmatched_recording_mbid_index ON listen (recording_mbid) WHERE track_id IS NULL AND recording_mbid IS NOT NULL;
CREATE INDEX listen_unmatched_track_name_index ON listen (search_normalize(track_name)) WHERE track_id IS NULL;

-- Now playing from any source: a scrobbler's track may be no catalog track, so its names are kept.
ALTER TABLE now_playing ALTER COLUMN track_id DROP NOT NULL;
ALTER TABLE now_playing ADD COLUMN track_name text;
ALTER TABLE now_playing ADD COLUMN artist_name text;
ALTER TABLE now_playing ADD COLUMN release_name text;
ALTER TABLE now_playing ADD COLUMN duration_ms integer;
ALTER TABLE now_playing ADD COLUMN source text;
ALTER TABLE now_playing ADD COLUMN additional_info jsonb;
UPDATE now_playing np SET track_name = t.title, artist_name = ar.name, release_name = a.title, source = 'subsonic'
  FROM track t JOIN album a ON a.id = t.album_id JOIN artist ar ON ar.id = t.artist_id WHERE t.id = np.track_id;
ALTER TABLE now_playing ALTER COLUMN track_name SET NOT NULL;
ALTER TABLE now_playing ALTER COLUMN artist_name SET NOT NULL;
ALTER TABLE now_playing ALTER COLUMN source SET NOT NULL;

-- Who may read a person's listens and statistics: everyone, people signed in here, or only them.
ALTER TABLE app_user ADD COLUMN listen_privacy text NOT NULL DEFAULT 'private'
  CHECK (listen_privacy IN ('public', 'instance', 'private'));

-- The token scrobblers send (`Authorization: Token <uuid>`, as ListenBrainz's): one per person, shown
-- once, stored as its SHA-256 like API tokens; regenerating replaces it.
CREATE TABLE listen_token (
  user_id uuid PRIMARY KEY CONSTRAINT listen_token_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  token_hash text NOT NULL CONSTRAINT listen_token_token_hash_unique UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- ListenBrainz's import watermark (GET/POST /1/latest-import), per person and service.
CREATE TABLE listen_import_mark (
  user_id uuid NOT NULL CONSTRAINT listen_import_mark_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  service text NOT NULL,
  latest_import timestamptz NOT NULL,
  CONSTRAINT listen_import_mark_pkey PRIMARY KEY (user_id, service)
);
