-- What federation and listen statistics need the schema to hold (issue 15): actors that say what they
-- speak for, and outlive it as tombstones; remote libraries, their uploads and catalog rows by
-- ActivityPub id (fid); follows; the servers we know (domains); listens that deduplicate without a
-- matched track and keep their artist and album.

-- Actors ---------------------------------------------------------------------------------------------

-- What a local actor speaks for; the row itself is the one naming it (app_user, library or playlist
-- .actor_id, each unique among local rows). Remote actors speak for nothing here (NULL).
ALTER TABLE actor ADD COLUMN represents text CONSTRAINT actor_represents_check
  CHECK (represents IN ('user', 'library', 'playlist', 'instance'));
-- Set when what it spoke for was deleted: the actor document answers 410 Gone with a Tombstone, and its
-- keys stay, so the Delete that tells followers can still be signed.
ALTER TABLE actor ADD COLUMN deleted_at timestamptz;

UPDATE actor a SET represents = 'user' FROM app_user u WHERE u.actor_id = a.id;
UPDATE actor a SET represents = 'library' FROM library l WHERE l.actor_id = a.id;
UPDATE actor a SET represents = 'playlist' FROM playlist p WHERE p.actor_id = a.id;
UPDATE actor SET represents = 'instance' WHERE is_local AND represents IS NULL AND type = 'Service' AND username = 'instance';
-- A local actor nothing names any more was left behind by a deletion: a tombstone, known by its name
-- this once (libraries' actors were named lib.<id>, playlists' pl.<id>).
UPDATE actor SET deleted_at = now(), represents = CASE
    WHEN username LIKE 'lib.%' THEN 'library' WHEN username LIKE 'pl.%' THEN 'playlist' WHEN type = 'Person' THEN 'user' ELSE 'instance' END
  WHERE is_local AND represents IS NULL;

ALTER TABLE actor ADD CONSTRAINT actor_local_represents_check CHECK (is_local = (represents IS NOT NULL));
-- One instance actor, found by what it is rather than by its name.
CREATE UNIQUE INDEX actor_instance_unique ON actor (represents) WHERE represents = 'instance';

-- Domains: the servers we know -----------------------------------------------------------------------

CREATE TABLE domain (
  name text PRIMARY KEY, -- host, lower case, with the port when not the default
  -- From its NodeInfo (software.name/version): what it runs decides some shapes (Funkwhale 1.4 vs 2.0).
  software_name text,
  software_version text,
  -- NodeInfo metadata.actorId: the actor that may update that server's catalog objects.
  service_actor_id uuid CONSTRAINT domain_service_actor_id_foreign REFERENCES actor (id) ON DELETE SET NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  -- Moderation: blocked refuses its activities and fetches; silenced keeps its content out of shared views.
  blocked boolean NOT NULL DEFAULT false,
  silenced boolean NOT NULL DEFAULT false
);

-- Remote libraries -----------------------------------------------------------------------------------

-- A library is local (an owner, its own actor) or remote (its ActivityPub id, and the actor that speaks
-- for it: the attributedTo of a Funkwhale library, which may own several). A remote library is seen only
-- through its followers (the visibility rule), never by privacy, so it stays 'private'. last_scan_at is
-- when its content was last read: a music folder's scan, or a remote library's collection pages.
ALTER TABLE library ALTER COLUMN owner_id DROP NOT NULL;
ALTER TABLE library ADD COLUMN fid text CONSTRAINT library_fid_unique UNIQUE;
ALTER TABLE library DROP CONSTRAINT library_actor_id_unique;
CREATE UNIQUE INDEX library_local_actor_unique ON library (actor_id) WHERE owner_id IS NOT NULL;
ALTER TABLE library ADD CONSTRAINT library_local_or_remote_check CHECK (
  (owner_id IS NOT NULL AND fid IS NULL)
  OR (owner_id IS NULL AND fid IS NOT NULL AND music_folder IS NULL AND privacy = 'private'));

-- Upload events go to the library owner's live streams; a remote library has no one to tell.
CREATE OR REPLACE FUNCTION upload_events_notify(ids uuid[], libraries uuid[], batches uuid[], statuses text[], tracks uuid[])
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('polyphony_upload', json_build_object(
            'l', x.library_id, 'o', x.owner_id, 'r', json_agg(json_build_array(x.id, x.batch_id, x.status, x.track_id)))::text)
  FROM (SELECT r.*, l.owner_id, (row_number() OVER (PARTITION BY r.library_id) - 1) / 32 AS chunk
        FROM unnest(ids, libraries, batches, statuses, tracks) AS r(id, library_id, batch_id, status, track_id)
        JOIN library l ON l.id = r.library_id AND l.owner_id IS NOT NULL) x
  GROUP BY x.library_id, x.owner_id, x.chunk;
END $$;

-- Remote uploads: the audio stays where the Audio object's url points (source_url) until someone plays
-- it; then a copy is kept under MEDIA_DIR (cached_path, relative) and may be evicted later. Local
-- storages always have a path, and nothing remote.
ALTER TABLE upload ALTER COLUMN path DROP NOT NULL;
ALTER TABLE upload ADD COLUMN source_url text;
ALTER TABLE upload ADD COLUMN cached_path text;
ALTER TABLE upload DROP CONSTRAINT upload_storage_check;
ALTER TABLE upload ADD CONSTRAINT upload_storage_check CHECK (storage IN ('stored', 'in_place', 'remote'));
ALTER TABLE upload ADD CONSTRAINT upload_location_check CHECK (
  (storage = 'remote' AND path IS NULL AND source_url IS NOT NULL AND fid IS NOT NULL)
  OR (storage <> 'remote' AND path IS NOT NULL AND source_url IS NULL AND cached_path IS NULL));

-- Catalog rows known by their ActivityPub id (remote ones; local rows' ids are derived from their own).
ALTER TABLE artist ADD COLUMN fid text CONSTRAINT artist_fid_unique UNIQUE;
ALTER TABLE album ADD COLUMN fid text CONSTRAINT album_fid_unique UNIQUE;
ALTER TABLE track ADD COLUMN fid text CONSTRAINT track_fid_unique UNIQUE;
ALTER TABLE playlist_item ADD COLUMN fid text CONSTRAINT playlist_item_fid_unique UNIQUE;

-- Follows --------------------------------------------------------------------------------------------

-- An actor (local or remote) following a library or a playlist (local or remote). fid is the Follow
-- activity's id (ours when we send it; a re-sent Follow of the same pair replaces it). Accepts are
-- matched by (actor, object), never by this id: Funkwhale rebuilds it. A rejected or revoked follow
-- stays, as 'rejected'.
CREATE TABLE follow (
  id uuid PRIMARY KEY,
  fid text NOT NULL,
  follower_id uuid NOT NULL CONSTRAINT follow_follower_id_foreign REFERENCES actor (id) ON DELETE CASCADE,
  library_id uuid CONSTRAINT follow_library_id_foreign REFERENCES library (id) ON DELETE CASCADE,
  playlist_id uuid CONSTRAINT follow_playlist_id_foreign REFERENCES playlist (id) ON DELETE CASCADE,
  state text NOT NULL DEFAULT 'pending' CONSTRAINT follow_state_check CHECK (state IN ('pending', 'accepted', 'rejected')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT follow_fid_unique UNIQUE (fid),
  CONSTRAINT follow_one_target_check CHECK (num_nonnulls(library_id, playlist_id) = 1),
  -- One follow per follower and target; read target first: a library's or playlist's followers.
  CONSTRAINT follow_library_id_follower_id_unique UNIQUE (library_id, follower_id),
  CONSTRAINT follow_playlist_id_follower_id_unique UNIQUE (playlist_id, follower_id)
);
CREATE INDEX follow_follower_id_index ON follow (follower_id);

-- Listens --------------------------------------------------------------------------------------------

-- The artist and album of the listened track (nullable: imported listens may match none, and they
-- outlive the rows). Indexed for statistics by artist or album over time, and so that deleting an
-- artist or album finds its listens without reading them all.
ALTER TABLE listen ADD COLUMN artist_id uuid CONSTRAINT listen_artist_id_foreign REFERENCES artist (id) ON DELETE SET NULL;
ALTER TABLE listen ADD COLUMN album_id uuid CONSTRAINT listen_album_id_foreign REFERENCES album (id) ON DELETE SET NULL;
UPDATE listen l SET artist_id = t.artist_id, album_id = t.album_id FROM track t WHERE t.id = l.track_id;
CREATE INDEX listen_artist_id_listened_at_index ON listen (artist_id, listened_at);
CREATE INDEX listen_album_id_listened_at_index ON listen (album_id, listened_at);

-- A play is the same play when the same person started the same names at the same instant, whether
-- or not a local track matched (a client resending its scrobbles; an import of listens kept here).
-- Names compared as search compares them (no accents, case or punctuation).
ALTER TABLE listen ADD COLUMN dedup_key text NOT NULL GENERATED ALWAYS AS (
  search_normalize(artist_name) || '|' || search_normalize(track_name) || '|' || coalesce(search_normalize(release_name), '')) STORED;
DELETE FROM listen a USING listen b
  WHERE a.user_id = b.user_id AND a.listened_at = b.listened_at AND a.dedup_key = b.dedup_key AND (a.created_at, a.id) > (b.created_at, b.id);
DROP INDEX listen_user_id_listened_at_track_id_unique;
-- Also a person's listens by time.
CREATE UNIQUE INDEX listen_user_id_listened_at_dedup_key_unique ON listen (user_id, listened_at, dedup_key);
