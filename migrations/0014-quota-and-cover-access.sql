-- Bytes of uploads still being received, one row per file in flight. They count against the owner's
-- quota with what is stored, so parallel uploads cannot pass it together (core/library/upload-quota.ts).
-- A row becomes the upload row in one transaction, or goes when the file is rejected or cut short; a
-- row left by a crash stops counting once it is an hour old, and the hourly cleanup deletes it.
CREATE TABLE upload_reservation (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  bytes bigint NOT NULL CHECK (bytes >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX upload_reservation_owner_index ON upload_reservation (owner_id);

-- A cover URL names its content hash; it is served only to who may see an album wearing it
-- (server/api/media.routes.ts), found through this index.
CREATE INDEX album_cover_hash_index ON album (cover_hash);
