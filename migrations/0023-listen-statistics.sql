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

-- Live statistics -------------------------------------------------------------------------------------
-- Rollups kept by triggers on listen, in the transaction that inserts, links or deletes listens, one
-- statement per statement (a batch of 1000 is one set-based write): so a listen counts at once, and a
-- delete (of a listen, a person, by cascade) takes it back out. The ListenBrainz ranges
-- (core/listens/listen-ranges.ts) are sums over day rows; all time is one row per entity.

-- The key a name is counted under: as search compares names; a name of punctuation only ("!!!") as is.
CREATE FUNCTION listen_key(value text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN coalesce(nullif(search_normalize(value), ''), lower(value));

-- What statistics count: an artist (by name), a release (artist + name), a release group (its MBID, else
-- as the release), a recording (artist + title), a genre (of the matched track). Names and MBIDs as
-- first reported (MBIDs filled in when a later listen brings them).
CREATE TABLE listen_entity (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('artist', 'release', 'release_group', 'recording', 'genre')),
  key text NOT NULL,
  name text NOT NULL,
  artist_name text,
  release_name text,
  mbid uuid,
  artist_mbids uuid[],
  release_mbid uuid,
  CONSTRAINT listen_entity_kind_key_unique UNIQUE (kind, key)
);

-- Listens per entity and UTC day, per person and for the whole site (scope = the nil uuid); the day
-- 'infinity' holds the all-time total.
CREATE TABLE listen_stat (
  scope uuid NOT NULL,
  kind text NOT NULL,
  day date NOT NULL,
  entity_id bigint NOT NULL CONSTRAINT listen_stat_entity_id_foreign REFERENCES listen_entity (id),
  listen_count integer NOT NULL,
  CONSTRAINT listen_stat_pkey PRIMARY KEY (scope, kind, day, entity_id)
);
-- All-time top N without sorting; and the rows a delete brought to zero, to remove.
CREATE INDEX listen_stat_top_index ON listen_stat (scope, kind, listen_count DESC, entity_id) WHERE day = 'infinity';
CREATE INDEX listen_stat_empty_index ON listen_stat (scope) WHERE listen_count <= 0;

-- Listens per UTC hour, per person and for the site: listening activity (sums by day, week, month, year)
-- and daily activity (weekday x hour).
CREATE TABLE listen_hour (
  scope uuid NOT NULL,
  hour timestamptz NOT NULL,
  listen_count integer NOT NULL,
  CONSTRAINT listen_hour_pkey PRIMARY KEY (scope, hour)
);

-- The counted facts of the listens in transition table `changed`: one row per listen and entity; with
-- genres_only, only the genres of the listens an update gave a track (transition table before_update).
CREATE FUNCTION listen_stat_facts_sql(genres_only boolean) RETURNS text LANGUAGE sql IMMUTABLE RETURN
  'WITH changed AS (' || CASE WHEN genres_only
    THEN 'SELECT n.* FROM changed n JOIN before_update o ON o.id = n.id WHERE o.track_id IS NULL AND n.track_id IS NOT NULL'
    ELSE 'SELECT * FROM changed' END || ') ' ||
  'SELECT c.user_id, c.listened_at, v.kind, v.key, v.name, v.artist_name, v.release_name, v.mbid, v.artist_mbids, v.release_mbid
   FROM changed c CROSS JOIN LATERAL (VALUES
     (''artist'', listen_key(c.artist_name), c.artist_name, NULL, NULL, c.artist_mbids[1], c.artist_mbids, NULL::uuid),
     (''recording'', listen_key(c.artist_name) || ''|'' || listen_key(c.track_name), c.track_name, c.artist_name, c.release_name,
       c.recording_mbid, c.artist_mbids, c.release_mbid),
     (''release'', listen_key(c.artist_name) || ''|'' || listen_key(c.release_name), c.release_name, c.artist_name, NULL,
       c.release_mbid, c.artist_mbids, c.release_mbid),
     (''release_group'', coalesce(c.release_group_mbid::text, listen_key(c.artist_name) || ''|'' || listen_key(c.release_name)),
       c.release_name, c.artist_name, NULL, c.release_group_mbid, c.artist_mbids, c.release_mbid)
   ) AS v(kind, key, name, artist_name, release_name, mbid, artist_mbids, release_mbid)
   WHERE v.key IS NOT NULL AND NOT ' || genres_only || '
   UNION ALL
   SELECT c.user_id, c.listened_at, ''genre'', g.normalized_name, g.name, NULL, NULL, NULL, NULL, NULL
   FROM changed c JOIN track_genre tg ON tg.track_id = c.track_id JOIN genre g ON g.id = tg.genre_id';

-- Adds (argument 1) or takes out (-1) the listens of transition table `changed` in every rollup; with
-- a second argument 'genres', only their genres (listens just linked to a track). A trigger function:
-- transition tables are seen by its own statements only.
CREATE FUNCTION listen_stat_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  sign integer := TG_ARGV[0]::integer;
  genres_only boolean := TG_NARGS > 1;
  facts text := listen_stat_facts_sql(genres_only);
BEGIN
  IF sign > 0 THEN
    -- In key order, so concurrent batches wait on each other instead of deadlocking.
    EXECUTE 'INSERT INTO listen_entity (kind, key, name, artist_name, release_name, mbid, artist_mbids, release_mbid)
      SELECT DISTINCT ON (kind, key) kind, key, name, artist_name, release_name, mbid, artist_mbids, release_mbid
      FROM (' || facts || ') f ORDER BY kind, key, mbid NULLS LAST
      ON CONFLICT (kind, key) DO NOTHING';
    EXECUTE 'UPDATE listen_entity e SET mbid = f.mbid, artist_mbids = coalesce(e.artist_mbids, f.artist_mbids),
        release_mbid = coalesce(e.release_mbid, f.release_mbid)
      FROM (SELECT DISTINCT ON (kind, key) * FROM (' || facts || ') x WHERE mbid IS NOT NULL ORDER BY kind, key) f
      WHERE e.kind = f.kind AND e.key = f.key AND e.mbid IS NULL';
  END IF;
  EXECUTE 'WITH per_day AS (
      SELECT f.user_id AS scope, f.kind, (f.listened_at AT TIME ZONE ''UTC'')::date AS day, e.id, count(*) AS n
      FROM (' || facts || ') f JOIN listen_entity e ON e.kind = f.kind AND e.key = f.key
      GROUP BY 1, 2, 3, 4),
    both_scopes AS (
      SELECT * FROM per_day
      UNION ALL SELECT ''00000000-0000-0000-0000-000000000000''::uuid, kind, day, id, sum(n) FROM per_day GROUP BY kind, day, id),
    all_rows AS (
      SELECT * FROM both_scopes UNION ALL SELECT scope, kind, ''infinity'', id, sum(n) FROM both_scopes GROUP BY scope, kind, id)
    INSERT INTO listen_stat (scope, kind, day, entity_id, listen_count)
    SELECT scope, kind, day, id, $1 * n FROM all_rows ORDER BY scope, kind, day, id
    ON CONFLICT (scope, kind, day, entity_id) DO UPDATE SET listen_count = listen_stat.listen_count + EXCLUDED.listen_count'
    USING sign;
  IF NOT genres_only THEN
    WITH per_user AS (
        SELECT user_id AS scope, date_trunc('hour', listened_at, 'UTC') AS hour, count(*) AS n FROM changed GROUP BY 1, 2),
      both_scopes AS (
        SELECT * FROM per_user UNION ALL SELECT '00000000-0000-0000-0000-000000000000'::uuid, hour, sum(n) FROM per_user GROUP BY hour)
    INSERT INTO listen_hour (scope, hour, listen_count)
    SELECT scope, hour, sign * n FROM both_scopes ORDER BY scope, hour
    ON CONFLICT (scope, hour) DO UPDATE SET listen_count = listen_hour.listen_count + EXCLUDED.listen_count;
  END IF;
  IF sign < 0 THEN
    DELETE FROM listen_stat WHERE listen_count <= 0;
    DELETE FROM listen_hour WHERE listen_count <= 0 AND scope IN (SELECT user_id FROM changed UNION ALL SELECT '00000000-0000-0000-0000-000000000000');
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER listen_stat_added AFTER INSERT ON listen REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION listen_stat_apply('1');
CREATE TRIGGER listen_stat_deleted AFTER DELETE ON listen REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION listen_stat_apply('-1');
-- A listen given a track (linkUnmatchedListens) counts in the track's genres from then on. (A listen whose
-- track was deleted keeps its genres counted until the listen is deleted.)
CREATE TRIGGER listen_stat_linked AFTER UPDATE ON listen REFERENCING OLD TABLE AS before_update NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION listen_stat_apply('1', 'genres');
