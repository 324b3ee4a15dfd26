-- Smart playlists (issue 20, point 6): a playlist whose tracks come from rules on the audio features
-- (track_analysis, migration 0027), genre, year and the owner's rating, evaluated on every read over
-- the tracks the owner may see. `rules` is the validated JSON (core/playlists/smart-rules.ts); null
-- for an ordinary playlist. A smart playlist keeps no items, and stays its owner's: it is never
-- shared nor published to other servers (its tracks depend on what its owner may see and has rated).
ALTER TABLE playlist ADD COLUMN rules jsonb;
ALTER TABLE playlist ADD CONSTRAINT playlist_smart_is_owned_and_private CHECK (rules IS NULL OR (owner_id IS NOT NULL AND privacy = 'private'));
