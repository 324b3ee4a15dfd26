-- Audio analysis jobs and ReplayGain from loudness (issue 20).
--
-- album_loudness: an album's loudness as ReplayGain 2.0 measures an album, from its analysed tracks: the
-- duration-weighted power mean of their integrated loudness, and the highest true peak. Kept current by
-- the worker whenever a track of the album is analysed; the album gain is -18 - loudness_lufs.
CREATE TABLE album_loudness (
  album_id uuid PRIMARY KEY CONSTRAINT album_loudness_album_id_foreign REFERENCES album (id) ON DELETE CASCADE,
  loudness_lufs real NOT NULL,
  true_peak_dbtp real,
  track_count int NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The one computation of an album's loudness: the power mean 10*log10(sum(d*10^(L/10)) / sum(d)) of its
-- analysed tracks' loudness L weighted by their duration d (a track without one weighs 1), and their
-- highest true peak. No analysed track: no row. Called by the worker after each analysis (album row locked).
CREATE FUNCTION refresh_album_loudness(p_album uuid) RETURNS void LANGUAGE sql AS $$
  WITH measured AS (
    SELECT coalesce(ta.duration_seconds, 1)::float8 AS d, ta.loudness_lufs::float8 AS l, ta.true_peak_dbtp AS peak
    FROM track t JOIN track_analysis ta ON ta.track_id = t.id
    WHERE t.album_id = p_album AND ta.status = 'done' AND ta.loudness_lufs IS NOT NULL AND coalesce(ta.duration_seconds, 1) > 0
  ), album_mean AS (
    SELECT count(*)::int AS n, 10 * log(sum(d * power(10::float8, l / 10)) / sum(d)) AS lufs, max(peak) AS peak FROM measured
  ), emptied AS (
    DELETE FROM album_loudness WHERE album_id = p_album AND (SELECT n FROM album_mean) = 0
  )
  INSERT INTO album_loudness (album_id, loudness_lufs, true_peak_dbtp, track_count)
  SELECT p_album, lufs, peak, n FROM album_mean WHERE n > 0 AND EXISTS (SELECT 1 FROM album WHERE id = p_album)
  ON CONFLICT (album_id) DO UPDATE SET loudness_lufs = EXCLUDED.loudness_lufs, true_peak_dbtp = EXCLUDED.true_peak_dbtp,
    track_count = EXCLUDED.track_count, updated_at = now();
$$;

-- A track deleted (its last upload gone) or moved to another album changes the loudness of the albums
-- it left and joined: those with a row are computed again, in the same statement's transaction.
CREATE FUNCTION album_loudness_after_track_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM refresh_album_loudness(x.album_id) FROM (SELECT DISTINCT album_id FROM old_tracks) x
      WHERE EXISTS (SELECT 1 FROM album_loudness al WHERE al.album_id = x.album_id);
  ELSE
    PERFORM refresh_album_loudness(x.album_id) FROM (
      SELECT o.album_id FROM old_tracks o JOIN new_tracks n ON n.id = o.id WHERE o.album_id <> n.album_id
      UNION SELECT n.album_id FROM old_tracks o JOIN new_tracks n ON n.id = o.id WHERE o.album_id <> n.album_id) x;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER album_loudness_track_deleted AFTER DELETE ON track REFERENCING OLD TABLE AS old_tracks
  FOR EACH STATEMENT EXECUTE FUNCTION album_loudness_after_track_change();
CREATE TRIGGER album_loudness_track_moved AFTER UPDATE ON track REFERENCING OLD TABLE AS old_tracks NEW TABLE AS new_tracks
  FOR EACH STATEMENT EXECUTE FUNCTION album_loudness_after_track_change();

-- A request to analyse what a library is missing. The worker picks the tracks (none analysed at its
-- analyser's version) into analysis_run_track and queues a job for each; progress is counted from
-- track_analysis rows written since the run was created, so a track analysed by any job counts.
CREATE TABLE analysis_run (
  id uuid PRIMARY KEY,
  library_id uuid NOT NULL CONSTRAINT analysis_run_library_id_foreign REFERENCES library (id) ON DELETE CASCADE,
  requested_by uuid CONSTRAINT analysis_run_requested_by_foreign REFERENCES app_user (id) ON DELETE SET NULL,
  analyser_version text,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Set once the worker has picked the run's tracks.
  prepared_at timestamptz
);
CREATE INDEX analysis_run_library_index ON analysis_run (library_id, created_at DESC);

CREATE TABLE analysis_run_track (
  run_id uuid NOT NULL CONSTRAINT analysis_run_track_run_id_foreign REFERENCES analysis_run (id) ON DELETE CASCADE,
  track_id uuid NOT NULL CONSTRAINT analysis_run_track_track_id_foreign REFERENCES track (id) ON DELETE CASCADE,
  PRIMARY KEY (run_id, track_id)
);
CREATE INDEX analysis_run_track_track_index ON analysis_run_track (track_id);
CREATE INDEX track_analysis_analysed_at_index ON track_analysis (analysed_at);

-- Subsonic answers (songs' replayGain) and REST tracks show ReplayGain computed from these loudness values:
-- a change to one moves the catalog generation (0009, 0011), so no kept answer shows the old gain. A track
-- analysed again with the same loudness moves nothing.
CREATE CONSTRAINT TRIGGER catalog_generation_track_loudness_added AFTER INSERT OR DELETE ON track_analysis
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_track_loudness_changed AFTER UPDATE ON track_analysis DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN ((OLD.status, OLD.loudness_lufs, OLD.true_peak_dbtp) IS DISTINCT FROM (NEW.status, NEW.loudness_lufs, NEW.true_peak_dbtp))
  EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_album_loudness_added AFTER INSERT OR DELETE ON album_loudness
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_album_loudness_changed AFTER UPDATE ON album_loudness DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN ((OLD.loudness_lufs, OLD.true_peak_dbtp) IS DISTINCT FROM (NEW.loudness_lufs, NEW.true_peak_dbtp))
  EXECUTE FUNCTION catalog_generation_bump();
