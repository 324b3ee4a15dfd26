-- Audio analysis (issue 20): what the worker measured in each track's audio.
--
-- One row per track, measured from one of its files (the upload named here; any copy of the same
-- recording would do). `analyser_version` names the analyser that wrote the row: a newer version
-- analyses the track again. A file that could not be analysed leaves a row with status 'failed' and
-- the reason, and no features.
--
-- Units: tempo in beats per minute; key as its tonic ('C', 'C#', ... 'B') and mode; loudness in LUFS
-- (EBU R128 integrated), loudness range in LU, true peak in dBTP; energy, danceability and the
-- confidences and strengths on 0..1; dynamic complexity in dB (Essentia's measure). `extra` holds
-- further measures by name (documented in the README).
CREATE TABLE track_analysis (
  track_id uuid PRIMARY KEY CONSTRAINT track_analysis_track_id_foreign REFERENCES track (id) ON DELETE CASCADE,
  upload_id uuid CONSTRAINT track_analysis_upload_id_foreign REFERENCES upload (id) ON DELETE SET NULL,
  analyser_version text NOT NULL,
  status text NOT NULL CHECK (status IN ('done', 'failed')),
  error_message text,
  analysed_at timestamptz NOT NULL DEFAULT now(),
  duration_seconds real,
  tempo_bpm real,
  tempo_confidence real,
  key_tonic text CHECK (key_tonic IN ('C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B')),
  key_mode text CHECK (key_mode IN ('major', 'minor')),
  key_strength real,
  loudness_lufs real,
  loudness_range_lu real,
  true_peak_dbtp real,
  energy real,
  danceability real,
  dynamic_complexity real,
  extra jsonb NOT NULL DEFAULT '{}',
  CONSTRAINT track_analysis_done_has_features CHECK (status = 'failed' OR loudness_lufs IS NOT NULL OR duration_seconds IS NOT NULL)
);
CREATE INDEX track_analysis_upload_id_index ON track_analysis (upload_id);
CREATE INDEX track_analysis_status_version_index ON track_analysis (status, analyser_version);
