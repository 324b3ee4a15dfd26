-- Followed playlists (issue 17, point 1). A playlist is local (an owner, its own actor) or remote: its
-- ActivityPub id (fid), the remote actor speaking for it, and the remote library holding the audio of its
-- items (the playlist document's `library`, scanned like any followed library). A remote playlist is seen
-- only through its accepted followers here (the visibility rule), never by privacy, so it stays 'private';
-- nobody here may edit it. last_scan_at is when its items were last read.
ALTER TABLE playlist ALTER COLUMN owner_id DROP NOT NULL;
ALTER TABLE playlist ADD COLUMN fid text CONSTRAINT playlist_fid_unique UNIQUE;
ALTER TABLE playlist ADD COLUMN library_id uuid CONSTRAINT playlist_library_id_foreign REFERENCES library (id) ON DELETE SET NULL;
ALTER TABLE playlist ADD COLUMN last_scan_at timestamptz;
-- A remote playlist's owner, when its documents name one (shown as its owner here).
ALTER TABLE playlist ADD COLUMN remote_owner_id uuid CONSTRAINT playlist_remote_owner_id_foreign REFERENCES actor (id) ON DELETE SET NULL;
-- A remote actor may speak for several playlists (a Funkwhale 2.0 playlist's is its owner); local
-- playlists keep one actor each.
ALTER TABLE playlist DROP CONSTRAINT playlist_actor_id_unique;
CREATE UNIQUE INDEX playlist_local_actor_unique ON playlist (actor_id) WHERE owner_id IS NOT NULL;
ALTER TABLE playlist ADD CONSTRAINT playlist_local_or_remote_check CHECK (
  (owner_id IS NOT NULL AND fid IS NULL AND library_id IS NULL AND remote_owner_id IS NULL)
  OR (owner_id IS NULL AND fid IS NOT NULL AND privacy = 'private'));
-- The playlists whose audio a remote library holds (who may see it, who signs its scan).
CREATE INDEX playlist_library_id_index ON playlist (library_id) WHERE library_id IS NOT NULL;
