-- The Notes posted to microblog followers (Mastodon), by key: the id of the library's upload or the
-- playlist's item that names the Note (core/fediverse/album-announcements.ts, playlist-announcements.ts).
-- When that upload or item goes, its Note is deleted on their servers too (federation/outbox/note-deletions.ts);
-- a deleted library's or playlist's Notes go with its actor.
CREATE TABLE sent_note (
  key uuid PRIMARY KEY,
  library_id uuid REFERENCES library (id) ON DELETE CASCADE,
  playlist_id uuid REFERENCES playlist (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT sent_note_one_collection CHECK (num_nonnulls(library_id, playlist_id) = 1)
);
CREATE INDEX sent_note_library_id_index ON sent_note (library_id) WHERE library_id IS NOT NULL;
CREATE INDEX sent_note_playlist_id_index ON sent_note (playlist_id) WHERE playlist_id IS NOT NULL;
