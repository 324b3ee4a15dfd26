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
