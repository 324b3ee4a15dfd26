-- Search: search_document holds one row per playlist and per artist, album and track with a finished
-- upload somewhere, with a full-text vector and a trigram-indexed key over accent-free text, and, for
-- music, the libraries holding it: a search checks visibility in the row instead of probing uploads
-- per candidate. Statement-level triggers keep it current (the importer writes a chunk of rows per
-- statement); music gets its row when its first upload finishes, in the import's transaction.

-- The one normalisation both documents and queries go through: no accents, lower case, apostrophes
-- dropped ("don't" -> "dont"), every other run of non-letters/digits one space. unaccent() is only
-- STABLE (its dictionary could change); naming the dictionary lets us declare this IMMUTABLE, which
-- generated columns and indexes require.
CREATE FUNCTION search_normalize(value text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN btrim(regexp_replace(regexp_replace(lower(public.unaccent('public.unaccent'::regdictionary, value)),
    '[''`’]+', '', 'g'), '[^[:alnum:]]+', ' ', 'g'));

-- What a search box means: every word, the last one also as a prefix (typing "radioh" finds
-- Radiohead); with weights 'A', only in the name. NULL when nothing searchable is left.
CREATE FUNCTION search_tsquery(query text, weights text DEFAULT '') RETURNS tsquery
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN CASE WHEN search_normalize(query) <> ''
    THEN to_tsquery('simple', replace(search_normalize(query), ' ', ':' || weights || ' & ') || ':*' || weights) END;

-- Whether a document's music is in one of the viewer's visible libraries: `&&`, wrapped so that a
-- generic plan does not estimate it (with no statistics for a parameter) as matching almost nothing,
-- which made the planner fetch and sort every name with the prefix instead of reading 20 in order.
CREATE FUNCTION search_visible(document_libraries uuid[], viewer_libraries uuid[]) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$ BEGIN RETURN document_libraries && viewer_libraries; END $$;

CREATE TABLE search_document (
  id uuid PRIMARY KEY, -- the artist's, album's, track's or playlist's own id
  kind text NOT NULL CHECK (kind IN ('artist', 'album', 'track', 'playlist')),
  name text NOT NULL,
  -- Credited artist names of an album or track ("kid a radiohead" finds the album); a playlist's description.
  extra text NOT NULL DEFAULT '',
  -- Music only, never empty: the libraries with a finished upload of the track, of a track of the
  -- album, of a track credited to the artist or on an album credited to them (sorted). Playlists
  -- have their own privacy.
  library_ids uuid[] NOT NULL DEFAULT '{}',
  -- Byte order, whatever the database's collation: name-prefix ranges stay exact.
  name_key text COLLATE "C" GENERATED ALWAYS AS (search_normalize(name)) STORED,
  extra_key text GENERATED ALWAYS AS (search_normalize(extra)) STORED,
  document tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', search_normalize(name)), 'A') ||
    setweight(to_tsvector('simple', search_normalize(extra)), 'B')) STORED
) WITH (fillfactor = 70); -- room on each page, so library_ids updates are HOT (no index writes)

-- Each group's query uses its own partial indexes: full text, trigrams (typos), and name prefixes.
-- GIN indexes take new entries in a pending list merged in bulk, which halves an import's cost of
-- indexing; but every search reads all of that list, so it is kept small (128 kB: searches +0.3-1 ms
-- when full, where the default 4 MB would cost more than the search itself).
CREATE INDEX search_document_artist_document_index ON search_document USING gin (document) WITH (gin_pending_list_limit = 128) WHERE kind = 'artist';
CREATE INDEX search_document_album_document_index ON search_document USING gin (document) WITH (gin_pending_list_limit = 128) WHERE kind = 'album';
CREATE INDEX search_document_track_document_index ON search_document USING gin (document) WITH (gin_pending_list_limit = 128) WHERE kind = 'track';
CREATE INDEX search_document_playlist_document_index ON search_document USING gin (document) WITH (gin_pending_list_limit = 128) WHERE kind = 'playlist';
CREATE INDEX search_document_artist_trigram_index ON search_document USING gin (name_key gin_trgm_ops) WITH (gin_pending_list_limit = 128) WHERE kind = 'artist';
CREATE INDEX search_document_album_trigram_index ON search_document USING gin (name_key gin_trgm_ops) WITH (gin_pending_list_limit = 128) WHERE kind = 'album';
CREATE INDEX search_document_track_trigram_index ON search_document USING gin (name_key gin_trgm_ops) WITH (gin_pending_list_limit = 128) WHERE kind = 'track';
CREATE INDEX search_document_playlist_trigram_index ON search_document USING gin (name_key gin_trgm_ops) WITH (gin_pending_list_limit = 128) WHERE kind = 'playlist';
CREATE INDEX search_document_artist_name_key_index ON search_document (name_key) WHERE kind = 'artist';
CREATE INDEX search_document_album_name_key_index ON search_document (name_key) WHERE kind = 'album';
CREATE INDEX search_document_track_name_key_index ON search_document (name_key) WHERE kind = 'track';
CREATE INDEX search_document_playlist_name_key_index ON search_document (name_key) WHERE kind = 'playlist';

-- The name and credited artists of music: an album's or track's credits, else its one artist.
CREATE FUNCTION search_names(doc_kind text, ids uuid[]) RETURNS TABLE (id uuid, name text, extra text)
  LANGUAGE sql STABLE AS $$
  SELECT ar.id, ar.name, '' FROM artist ar WHERE doc_kind = 'artist' AND ar.id = ANY(ids)
  UNION ALL
  SELECT a.id, a.title, coalesce(
      (SELECT string_agg(c.credited_name, ' ' ORDER BY c.position) FROM artist_credit c WHERE c.album_id = a.id),
      (SELECT ar.name FROM artist ar WHERE ar.id = a.album_artist_id))
    FROM album a WHERE doc_kind = 'album' AND a.id = ANY(ids)
  UNION ALL
  SELECT t.id, t.title, coalesce(
      (SELECT string_agg(c.credited_name, ' ' ORDER BY c.position) FROM artist_credit c WHERE c.track_id = t.id),
      (SELECT ar.name FROM artist ar WHERE ar.id = t.artist_id))
    FROM track t WHERE doc_kind = 'track' AND t.id = ANY(ids)
$$;

-- The libraries with a finished upload of a document's music, from scratch, sorted.
CREATE FUNCTION search_libraries_of(doc_kind text, doc_id uuid) RETURNS uuid[] LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(DISTINCT u.library_id ORDER BY u.library_id), '{}') FROM upload u
  WHERE u.status = 'finished' AND u.track_id IN (
    SELECT doc_id WHERE doc_kind = 'track'
    UNION ALL SELECT t.id FROM track t WHERE doc_kind = 'album' AND t.album_id = doc_id
    UNION ALL SELECT c.track_id FROM artist_credit c WHERE doc_kind = 'artist' AND c.artist_id = doc_id
    UNION ALL SELECT t.id FROM artist_credit c JOIN track t ON t.album_id = c.album_id
      WHERE doc_kind = 'artist' AND c.artist_id = doc_id)
$$;

-- The functions below are PL/pgSQL, not SQL: their statements' plans are kept for the session, and
-- they return early with nothing to do (most calls during an import), which SQL functions cannot.
-- They reach rows by key only, hence `enable_seqscan = off`: a plan kept from when the table was
-- small scanned it whole, and an import of 10,000 files slowed down as its catalog grew.

-- Renamed music keeps its row (if it has one), with new names; unchanged names write nothing.
CREATE FUNCTION search_rename(doc_kind text, ids uuid[]) RETURNS void LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  existing uuid[];
BEGIN
  SELECT array_agg(d.id) INTO existing FROM search_document d WHERE d.id = ANY(ids);
  IF existing IS NULL THEN RETURN; END IF;
  UPDATE search_document d SET name = x.name, extra = x.extra FROM search_names(doc_kind, existing) x
  WHERE d.id = x.id AND (d.name, d.extra) IS DISTINCT FROM (x.name, x.extra);
END $$;

-- The slow, exact way (deletions, re-imports that move music): rows rebuilt from the catalog; music
-- no library holds any more loses its row.
CREATE FUNCTION search_sync(doc_kind text, ids uuid[]) RETURNS void LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
  IF coalesce(cardinality(ids), 0) > 0 THEN
    WITH fresh AS MATERIALIZED (
      SELECT n.id, n.name, n.extra, search_libraries_of(doc_kind, n.id) AS libraries FROM search_names(doc_kind, ids) n),
    gone AS (
      DELETE FROM search_document d WHERE d.id = ANY(ids) AND d.kind = doc_kind
        AND d.id NOT IN (SELECT f.id FROM fresh f WHERE f.libraries <> '{}'))
    INSERT INTO search_document (id, kind, name, extra, library_ids)
    SELECT f.id, doc_kind, f.name, f.extra, f.libraries FROM fresh f WHERE f.libraries <> '{}'
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, extra = excluded.extra, library_ids = excluded.library_ids
      WHERE (search_document.name, search_document.extra, search_document.library_ids)
        IS DISTINCT FROM (excluded.name, excluded.extra, excluded.library_ids);
  END IF;
END $$;

-- The quick way, taken by every import: music found in more libraries (pairs of ids[i], libraries[i]).
-- Existing rows gain the libraries they lack (nothing is written, or locked, when none is new);
-- music seen for the first time gets its row.
CREATE FUNCTION search_add_libraries(doc_kind text, added_ids uuid[], added_libraries uuid[]) RETURNS void
  LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
  IF added_ids IS NULL THEN RETURN; END IF;
  UPDATE search_document d SET library_ids = ARRAY(SELECT DISTINCT e FROM unnest(d.library_ids || a.libraries) e ORDER BY e)
  FROM (SELECT p.id, array_agg(p.library_id) AS libraries FROM unnest(added_ids, added_libraries) AS p(id, library_id)
        GROUP BY p.id) a
  WHERE d.id = a.id AND NOT d.library_ids @> a.libraries;
  IF NOT EXISTS (SELECT 1 FROM unnest(added_ids) AS p(id) WHERE NOT EXISTS (SELECT 1 FROM search_document d WHERE d.id = p.id)) THEN
    RETURN;
  END IF;
  -- Names looked up row by row (LATERAL): the planner cannot count the grouped pairs, and joining
  -- them as it guessed (200 rows) took minutes for 100,000 tracks.
  INSERT INTO search_document (id, kind, name, extra, library_ids)
  SELECT a.id, doc_kind, x.name, x.extra, a.libraries
  FROM (SELECT p.id, array_agg(DISTINCT p.library_id ORDER BY p.library_id) AS libraries
        FROM unnest(added_ids, added_libraries) AS p(id, library_id) GROUP BY p.id) a,
    LATERAL search_names(doc_kind, ARRAY[a.id]) x
  WHERE NOT EXISTS (SELECT 1 FROM search_document d WHERE d.id = a.id)
  -- Another import may have added the row since the check above.
  ON CONFLICT (id) DO UPDATE
    SET library_ids = ARRAY(SELECT DISTINCT e FROM unnest(search_document.library_ids || excluded.library_ids) e ORDER BY e)
    WHERE NOT search_document.library_ids @> excluded.library_ids;
END $$;

-- Music of tracks: the tracks, their albums, and the artists credited on either.
CREATE FUNCTION search_sync_tracks(track_ids uuid[]) RETURNS void LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
  PERFORM search_sync('track', track_ids);
  PERFORM search_sync('album', ARRAY(SELECT DISTINCT t.album_id FROM track t WHERE t.id = ANY(track_ids)));
  PERFORM search_sync('artist', ARRAY(
    SELECT c.artist_id FROM artist_credit c WHERE c.track_id = ANY(track_ids)
    UNION SELECT c.artist_id FROM track t JOIN artist_credit c ON c.album_id = t.album_id WHERE t.id = ANY(track_ids)));
END $$;
CREATE FUNCTION search_sync_albums(album_ids uuid[]) RETURNS void LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
  PERFORM search_sync('album', album_ids);
  PERFORM search_sync('artist', ARRAY(SELECT DISTINCT c.artist_id FROM artist_credit c WHERE c.album_id = ANY(album_ids)));
END $$;

-- Uploads decide visibility. One that starts counting (finished, for a track) adds its library; one
-- that stops (deleted, re-queued for import, moved to another track) has its music rebuilt.
CREATE FUNCTION search_uploads_changed() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  gone uuid[];
  tracks uuid[];
  libraries uuid[];
BEGIN
  IF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT o.track_id) INTO gone FROM old_rows o WHERE o.status = 'finished' AND o.track_id IS NOT NULL;
  ELSIF TG_OP = 'UPDATE' THEN
    SELECT array_agg(DISTINCT o.track_id) INTO gone FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.status = 'finished' AND o.track_id IS NOT NULL
      AND (n.status <> 'finished' OR n.track_id IS DISTINCT FROM o.track_id OR n.library_id <> o.library_id);
    SELECT array_agg(n.track_id), array_agg(n.library_id) INTO tracks, libraries FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.status = 'finished' AND n.track_id IS NOT NULL
      AND (o.status <> 'finished' OR o.track_id IS DISTINCT FROM n.track_id OR o.library_id <> n.library_id);
  ELSE
    SELECT array_agg(n.track_id), array_agg(n.library_id) INTO tracks, libraries FROM new_rows n
    WHERE n.status = 'finished' AND n.track_id IS NOT NULL;
  END IF;
  IF gone IS NOT NULL THEN PERFORM search_sync_tracks(gone); END IF;
  IF tracks IS NOT NULL THEN
    PERFORM search_add_libraries('track', tracks, libraries);
    PERFORM search_add_libraries('album', array_agg(t.album_id), array_agg(p.library_id))
      FROM unnest(tracks, libraries) AS p(track_id, library_id) JOIN track t ON t.id = p.track_id;
    PERFORM search_add_libraries('artist', array_agg(x.artist_id), array_agg(x.library_id)) FROM (
      SELECT c.artist_id, p.library_id FROM unnest(tracks, libraries) AS p(track_id, library_id)
        JOIN artist_credit c ON c.track_id = p.track_id
      UNION SELECT c.artist_id, p.library_id FROM unnest(tracks, libraries) AS p(track_id, library_id)
        JOIN track t ON t.id = p.track_id JOIN artist_credit c ON c.album_id = t.album_id) x;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER search_upload_insert AFTER INSERT ON upload REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_uploads_changed();
CREATE TRIGGER search_upload_update AFTER UPDATE ON upload REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_uploads_changed();
CREATE TRIGGER search_upload_delete AFTER DELETE ON upload REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_uploads_changed();

-- Renamed artists, albums and tracks are renamed; a track moved to another album changes what both
-- albums (and their artists) hold. Deleted rows lose their document.
CREATE FUNCTION search_catalog_updated() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  renamed uuid[];
  albums uuid[];
BEGIN
  CASE TG_TABLE_NAME
  WHEN 'artist' THEN
    SELECT array_agg(n.id) INTO renamed FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.name <> o.name;
  WHEN 'album' THEN
    SELECT array_agg(n.id) INTO renamed FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.title <> o.title OR n.album_artist_id <> o.album_artist_id;
  WHEN 'track' THEN
    SELECT array_agg(n.id) INTO renamed FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.title <> o.title OR n.artist_id <> o.artist_id;
    SELECT array_agg(DISTINCT x) INTO albums FROM old_rows o JOIN new_rows n ON n.id = o.id,
      unnest(ARRAY[o.album_id, n.album_id]) x WHERE n.album_id <> o.album_id;
  END CASE;
  IF renamed IS NOT NULL THEN PERFORM search_rename(TG_TABLE_NAME, renamed); END IF;
  IF albums IS NOT NULL THEN PERFORM search_sync_albums(albums); END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION search_catalog_deleted() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  albums uuid[];
BEGIN
  DELETE FROM search_document d USING old_rows o WHERE d.id = o.id;
  IF TG_TABLE_NAME = 'track' THEN
    SELECT array_agg(DISTINCT album_id) INTO albums FROM old_rows;
    PERFORM search_sync_albums(albums);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER search_artist_update AFTER UPDATE ON artist REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_catalog_updated();
CREATE TRIGGER search_artist_delete AFTER DELETE ON artist REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_catalog_deleted();
CREATE TRIGGER search_album_update AFTER UPDATE ON album REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_catalog_updated();
CREATE TRIGGER search_album_delete AFTER DELETE ON album REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_catalog_deleted();
CREATE TRIGGER search_track_update AFTER UPDATE ON track REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_catalog_updated();
CREATE TRIGGER search_track_delete AFTER DELETE ON track REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_catalog_deleted();

-- Credits carry the artist names of album and track rows, and show an artist where the credited
-- music is: a new credit's artist gains the libraries of the credited track or album; artists that
-- lose a credit are rebuilt. (Credits deleted with their track or album rename nothing: those rows
-- are gone.)
CREATE FUNCTION search_credits_changed() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  tracks uuid[];
  albums uuid[];
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT array_agg(DISTINCT track_id), array_agg(DISTINCT album_id) INTO tracks, albums FROM new_rows;
    PERFORM search_add_libraries('artist', array_agg(n.artist_id), array_agg(l))
      FROM new_rows n JOIN search_document s ON s.id = coalesce(n.track_id, n.album_id), unnest(s.library_ids) l;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    SELECT coalesce(tracks, '{}') || array_agg(DISTINCT track_id), coalesce(albums, '{}') || array_agg(DISTINCT album_id)
      INTO tracks, albums FROM old_rows;
    PERFORM search_sync('artist', array_agg(DISTINCT artist_id)) FROM old_rows;
  END IF;
  PERFORM search_rename('track', array_remove(tracks, NULL));
  PERFORM search_rename('album', array_remove(albums, NULL));
  RETURN NULL;
END $$;

CREATE TRIGGER search_credit_insert AFTER INSERT ON artist_credit REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_credits_changed();
CREATE TRIGGER search_credit_update AFTER UPDATE ON artist_credit REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_credits_changed();
CREATE TRIGGER search_credit_delete AFTER DELETE ON artist_credit REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_credits_changed();

-- Playlists: always searchable by their owner, and by others as their privacy allows (checked when
-- searching); their description counts as the "artists" part of the row.
CREATE FUNCTION search_playlists_changed() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
  CASE TG_OP
  WHEN 'INSERT' THEN
    INSERT INTO search_document (id, kind, name, extra) SELECT id, 'playlist', name, description FROM new_rows;
  WHEN 'UPDATE' THEN
    UPDATE search_document d SET name = n.name, extra = n.description FROM new_rows n
    WHERE d.id = n.id AND (d.name, d.extra) IS DISTINCT FROM (n.name, n.description);
  ELSE
    DELETE FROM search_document d USING old_rows o WHERE d.id = o.id;
  END CASE;
  RETURN NULL;
END $$;

CREATE TRIGGER search_playlist_insert AFTER INSERT ON playlist REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_playlists_changed();
CREATE TRIGGER search_playlist_update AFTER UPDATE ON playlist REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_playlists_changed();
CREATE TRIGGER search_playlist_delete AFTER DELETE ON playlist REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_playlists_changed();

-- Rows for what exists before this migration.
SELECT search_sync('artist', array_agg(id)) FROM artist;
SELECT search_sync('album', array_agg(id)) FROM album;
SELECT search_sync('track', array_agg(id)) FROM track;
INSERT INTO search_document (id, kind, name, extra) SELECT id, 'playlist', name, description FROM playlist;
