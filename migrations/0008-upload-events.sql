-- Live upload events and instance settings.

-- Every upload created or changing status is announced on the channel `polyphony_upload`, from whichever
-- process wrote it (the worker imports, the web process creates), once the transaction commits. The
-- web process LISTENs on one connection and forwards each event to the library owner's live streams.
-- One notification per library and 32 rows: {"l": library, "o": owner, "r": [[id, batch, status, track]]},
-- about 4 kB, well under NOTIFY's 8000-byte payload limit. Error details are not sent: the listener
-- reads them for the (rare) errored rows, so the import path pays one pg_notify per chunk and no query.
CREATE FUNCTION upload_events_notify(ids uuid[], libraries uuid[], batches uuid[], statuses text[], tracks uuid[])
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('polyphony_upload', json_build_object(
            'l', x.library_id, 'o', x.owner_id, 'r', json_agg(json_build_array(x.id, x.batch_id, x.status, x.track_id)))::text)
  FROM (SELECT r.*, l.owner_id, (row_number() OVER (PARTITION BY r.library_id) - 1) / 32 AS chunk
        FROM unnest(ids, libraries, batches, statuses, tracks) AS r(id, library_id, batch_id, status, track_id)
        JOIN library l ON l.id = r.library_id) x
  GROUP BY x.library_id, x.owner_id, x.chunk;
END $$;

-- Statement-level with transition tables: one call per statement, however many rows it touched.
-- PostgreSQL refuses transition tables on a trigger with a column list (AFTER UPDATE OF status), so
-- the update trigger fires on every UPDATE and keeps only the rows whose status changed.
CREATE FUNCTION upload_events_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM upload_events_notify(array_agg(n.id), array_agg(n.library_id), array_agg(n.batch_id), array_agg(n.status), array_agg(n.track_id))
    FROM new_rows n HAVING count(*) > 0;
  ELSE
    PERFORM upload_events_notify(array_agg(n.id), array_agg(n.library_id), array_agg(n.batch_id), array_agg(n.status), array_agg(n.track_id))
    FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE o.status IS DISTINCT FROM n.status HAVING count(*) > 0;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER upload_events_insert AFTER INSERT ON upload REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION upload_events_changed();
CREATE TRIGGER upload_events_update AFTER UPDATE ON upload REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION upload_events_changed();

-- Settings an administrator changes at run time (GET/PATCH /api/v1/admin/settings). A missing key means
-- "the environment's value" (REGISTRATION for `registration`).
CREATE TABLE instance_setting (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
