-- Aggregates of audio features (issue 20) over big scopes, precomputed per "cell".
--
-- Who sees a track is decided by the libraries holding it: search_document.library_ids (0005). Tracks
-- with the same set of libraries form one cell, split in 8 buckets by a hash of the track id (so a
-- change recomputes an eighth of a big library); every track is in exactly one cell, so the cells a
-- viewer sees (library_ids && their visible libraries) add up to their whole collection without
-- counting a track twice, and a library's tracks are the cells containing it. A cell's `stats` are
-- mergeable sums (counts, sums, sums of squares, extremes with their track, key and tempo counts,
-- per-year sums, a bottom-k sample of points) computed by core/analysis/analysis-stats.queries.ts.
--
-- Writes never lock or rewrite a cell (concurrent imports into one library would queue on its row):
-- they append a change naming the cell and their transaction. A cell is stale while it has a change
-- its stored snapshot does not see; the next read of a stale cell recomputes it in one statement, so
-- a read is exact and an import or analysis run pays one insert per statement.
CREATE TABLE analysis_cell (
  library_ids uuid[] NOT NULL,
  bucket smallint NOT NULL,
  -- The snapshot the stats were computed in; null until the first read.
  computed_in pg_snapshot,
  stats jsonb,
  PRIMARY KEY (library_ids, bucket)
);
CREATE TABLE analysis_cell_change (
  library_ids uuid[] NOT NULL,
  bucket smallint NOT NULL,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX analysis_cell_change_cell_index ON analysis_cell_change (library_ids, bucket, xid);

-- A track's bucket: the top 3 bits of the hash that also ranks it for the sampled chart points, so
-- the lowest ranks (the sample) sit in the lowest buckets.
CREATE FUNCTION analysis_bucket(track_id uuid) RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN ((hashtext(track_id::text)::bigint + 2147483648) >> 29)::smallint;

-- A cell's tracks, found by its key when it is recomputed.
CREATE INDEX search_document_track_cell_index ON search_document (library_ids, analysis_bucket(id)) WHERE kind = 'track';

-- Marks cells stale: those of the tracks given by id and library set (as text: PostgreSQL has no
-- arrays of arrays of different lengths), creating the ones seen for the first time.
CREATE FUNCTION analysis_touch_cells(track_ids uuid[], libraries text[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO analysis_cell_change (library_ids, bucket)
  SELECT DISTINCT l::uuid[], analysis_bucket(t) FROM unnest(track_ids, libraries) AS x(t, l);
  INSERT INTO analysis_cell (library_ids, bucket)
  SELECT DISTINCT l::uuid[], analysis_bucket(t) FROM unnest(track_ids, libraries) AS x(t, l) ON CONFLICT DO NOTHING;
$$;

-- Marks stale the cells of the given tracks (by their current libraries).
CREATE FUNCTION analysis_touch_tracks(track_ids uuid[]) RETURNS void LANGUAGE sql AS $$
  SELECT analysis_touch_cells(array_agg(d.id), array_agg(d.library_ids::text)) FROM search_document d WHERE d.id = ANY(track_ids) AND d.kind = 'track' 
$$;

CREATE FUNCTION analysis_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM analysis_touch_tracks(ARRAY(SELECT n.track_id FROM new_rows n));
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM analysis_touch_tracks(ARRAY(SELECT o.track_id FROM old_rows o));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER analysis_cell_analysis_insert AFTER INSERT ON track_analysis REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analysis_rows_changed();
CREATE TRIGGER analysis_cell_analysis_update AFTER UPDATE ON track_analysis REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analysis_rows_changed();
CREATE TRIGGER analysis_cell_analysis_delete AFTER DELETE ON track_analysis REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analysis_rows_changed();

-- A track gaining or losing libraries moves between cells: both are stale (their totals changed).
CREATE FUNCTION analysis_documents_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM analysis_touch_cells(array_agg(n.id), array_agg(n.library_ids::text)) FROM new_rows n WHERE n.kind = 'track';
  ELSE
    PERFORM analysis_touch_cells(array_agg(o.id), array_agg(o.library_ids::text)) FROM old_rows o WHERE o.kind = 'track';
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION analysis_documents_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM analysis_touch_cells(array_agg(n.id), array_agg(x.library_ids::text))
  FROM new_rows n JOIN old_rows o ON o.id = n.id, LATERAL (VALUES (n.library_ids), (o.library_ids)) x(library_ids)
  WHERE n.kind = 'track' AND n.library_ids IS DISTINCT FROM o.library_ids;
  RETURN NULL;
END $$;
CREATE TRIGGER analysis_cell_document_insert AFTER INSERT ON search_document REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analysis_documents_changed();
CREATE TRIGGER analysis_cell_document_delete AFTER DELETE ON search_document REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analysis_documents_changed();
CREATE TRIGGER analysis_cell_document_update AFTER UPDATE ON search_document REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analysis_documents_updated();

-- Loudness by release year reads the album's year: a retagged year or a track moved to another album
-- changes its cell.
CREATE FUNCTION analysis_albums_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM analysis_touch_tracks(ARRAY(SELECT t.id FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN track t ON t.album_id = n.id
                                      WHERE n.year IS DISTINCT FROM o.year));
  RETURN NULL;
END $$;
CREATE TRIGGER analysis_cell_album_update AFTER UPDATE ON album REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analysis_albums_updated();
CREATE FUNCTION analysis_tracks_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM analysis_touch_tracks(ARRAY(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.album_id IS DISTINCT FROM o.album_id));
  RETURN NULL;
END $$;
CREATE TRIGGER analysis_cell_track_update AFTER UPDATE ON track REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analysis_tracks_updated();

-- The cells of the music already here, to be computed on their first read.
INSERT INTO analysis_cell (library_ids, bucket) SELECT DISTINCT library_ids, analysis_bucket(id) FROM search_document WHERE kind = 'track';
