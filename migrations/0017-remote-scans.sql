-- Scans of remote libraries (issue 16, point 3): each walk of a followed library's collection pages is a
-- row, so its progress shows live and its failure keeps a reason a person can act on. Queued when asked
-- for (an Accept, the Scan button, the daily cron); one scanning at a time per library (the job claims it).
CREATE TABLE remote_scan (
  id uuid PRIMARY KEY,
  library_id uuid NOT NULL CONSTRAINT remote_scan_library_id_foreign REFERENCES library (id) ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'queued' CONSTRAINT remote_scan_status_check
    CHECK (status IN ('queued', 'scanning', 'finished', 'errored')),
  -- Why it failed (errored), or what it could not read (finished with items skipped); for the library page.
  reason text,
  -- Who asked (the Scan button): their follow signs the requests when it is still accepted.
  requested_by_id uuid CONSTRAINT remote_scan_requested_by_id_foreign REFERENCES app_user (id) ON DELETE SET NULL,
  pages int NOT NULL DEFAULT 0,
  items_seen int NOT NULL DEFAULT 0,
  items_added int NOT NULL DEFAULT 0,
  items_updated int NOT NULL DEFAULT 0,
  items_removed int NOT NULL DEFAULT 0,
  -- Items listed but unusable (no title, no audio link): left out, the others are kept.
  items_skipped int NOT NULL DEFAULT 0,
  started_at timestamptz,
  finished_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- A library's latest scan.
CREATE INDEX remote_scan_library_id_created_at_index ON remote_scan (library_id, created_at);

-- A remote album's cover as its Audio objects name it; fetched through the safe client and cached the
-- first time someone asks for it.
ALTER TABLE album ADD COLUMN cover_source_url text;

-- A remote upload's Audio object as last applied (a digest of what we read from it): a rescan skips
-- an unchanged one without touching the catalog.
ALTER TABLE upload ADD COLUMN source_digest text;
