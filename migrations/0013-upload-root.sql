-- The folder an in-place upload was imported from: its file (and the lyrics and cover beside it) is read
-- only when its real path is inside this folder's real path (core/media/safe-open.ts). NULL for stored
-- uploads, whose boundary is MEDIA_DIR.
ALTER TABLE upload ADD COLUMN root text;

UPDATE upload u SET root = l.music_folder
FROM library l
WHERE u.library_id = l.id AND u.storage = 'in_place' AND l.music_folder IS NOT NULL
  AND starts_with(u.path, rtrim(l.music_folder, '/') || '/');

-- Imported by the command line into a library without that folder: the file's own folder is the
-- narrowest boundary known to hold it; a rescan of the real folder widens it.
UPDATE upload SET root = regexp_replace(path, '/[^/]*$', '')
WHERE storage = 'in_place' AND root IS NULL;
