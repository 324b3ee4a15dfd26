-- Feature aggregate cells (0029) split in 32 buckets instead of 8, their points kept apart. The first
-- read after a change recomputes the changed cell: an eighth of a 100,000-track library took ~110-240
-- ms on a loaded machine (index probes into track_analysis and album, track by track), a thirty-second
-- takes 35-55 ms; a collection read merges up to 32 cells per set of libraries instead of 8 (a few
-- ms in TypeScript for 100,000 tracks).
--
-- A track's bucket is still the top bits of the hash that ranks it for the sampled chart points, so
-- the lowest ranks (the sample) sit in the lowest buckets. The index on the function is rebuilt with
-- it, and the cells are rebuilt empty, to be computed on their first read.
DROP INDEX search_document_track_cell_index;
CREATE OR REPLACE FUNCTION analysis_bucket(track_id uuid) RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN ((hashtext(track_id::text)::bigint + 2147483648) >> 27)::smallint;
CREATE INDEX search_document_track_cell_index ON search_document (library_ids, analysis_bucket(id)) WHERE kind = 'track';

-- A cell's sample of chart points (up to 500, most of its bytes) moves to its own column: a read
-- needs the points of the lowest buckets only, and reading every cell's stats detoasted them all
-- (1.4 MB for 100,000 tracks). `stats` says how many points the cell holds (`pointCount`).
ALTER TABLE analysis_cell ADD COLUMN points jsonb;

DELETE FROM analysis_cell_change;
DELETE FROM analysis_cell;
INSERT INTO analysis_cell (library_ids, bucket) SELECT DISTINCT library_ids, analysis_bucket(id) FROM search_document WHERE kind = 'track';
