-- Imports of a person's listens from a file (issue 18 point 6): a ListenBrainz export (JSON array or
-- JSON lines) or a Last.fm scrobble CSV. The upload is stored under DATA_DIR, this row records it, and a
-- job (queued in the same transaction) feeds it through the listen sink in batches, writing its progress
-- here for the status endpoint. Errors keep the first 100 bad lines (line number and why).
CREATE TABLE listen_import (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL CONSTRAINT listen_import_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  format text NOT NULL CHECK (format IN ('listenbrainz-json', 'listenbrainz-jsonl', 'lastfm-csv', 'lastfm-csv-header')),
  filename text NOT NULL,
  file_path text NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  total integer,
  processed integer NOT NULL DEFAULT 0,
  accepted integer NOT NULL DEFAULT 0,
  duplicates integer NOT NULL DEFAULT 0,
  error_count integer NOT NULL DEFAULT 0,
  errors jsonb NOT NULL DEFAULT '[]',
  failure text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX listen_import_user_id_index ON listen_import (user_id, created_at DESC);
