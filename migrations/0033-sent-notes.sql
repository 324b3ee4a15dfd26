-- The Notes posted to a library's microblog followers (Mastodon), by key: the id of the upload that names
-- the Note (core/fediverse/album-announcements.ts). When that upload is deleted, its Note is deleted on
-- their servers too (federation/outbox/note-deletions.ts); a deleted library's Notes go with its actor.
CREATE TABLE sent_note (
  key uuid PRIMARY KEY,
  library_id uuid NOT NULL REFERENCES library (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sent_note_library_id_index ON sent_note (library_id);
