-- Newest albums first (Subsonic getAlbumList2 type=newest, REST sort=date_added) read the index in
-- order and stop at the page's last visible row: created_at with the id as the tie-break (albums of
-- one import transaction share created_at), which the order uses in the same direction.
DROP INDEX album_created_at_index;
CREATE INDEX album_created_at_id_index ON album (created_at, id);

-- A counter of the catalog changes that alter Subsonic's artist index (getArtists: album artists with
-- a visible album, album counts, covers): which libraries hold an album, and an album's artist, cover
-- or year, an artist's name or MusicBrainz id. The web server keeps the built index while the counter
-- stays the same (server/subsonic/artist-index.ts).
CREATE TABLE catalog_generation (
  id boolean PRIMARY KEY DEFAULT true CHECK (id), -- one row
  value bigint NOT NULL
);
INSERT INTO catalog_generation (value) VALUES (0);

-- Deferred to commit and once a transaction: the row is locked only while the transaction commits
-- (concurrent imports wait for each other there, not for each other's whole chunk), and a reader that
-- sees the new value also sees what changed. Constraint triggers are per row, hence the flag.
CREATE FUNCTION catalog_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('polyphony.catalog_generation_bumped', true) = 'on' THEN RETURN NULL; END IF;
  PERFORM set_config('polyphony.catalog_generation_bumped', 'on', true);
  UPDATE catalog_generation SET value = value + 1;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER catalog_generation_album_visible AFTER INSERT ON search_document DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.kind = 'album') EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_album_libraries AFTER UPDATE ON search_document DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.kind = 'album' AND OLD.library_ids IS DISTINCT FROM NEW.library_ids) EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_album_hidden AFTER DELETE ON search_document DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.kind = 'album') EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_album AFTER UPDATE ON album DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN ((OLD.album_artist_id, OLD.cover_hash, OLD.year) IS DISTINCT FROM (NEW.album_artist_id, NEW.cover_hash, NEW.year))
  EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_artist AFTER UPDATE ON artist DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN ((OLD.name, OLD.mbid) IS DISTINCT FROM (NEW.name, NEW.mbid)) EXECUTE FUNCTION catalog_generation_bump();
