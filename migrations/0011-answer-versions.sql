-- What a Subsonic answer depends on, as two counters the web server compares before reusing an answer
-- (server/subsonic/answer-cache.ts): the catalog generation of 0009, now moved by any change to what a
-- catalog answer shows, and a per-user counter moved by that user's stars, ratings and plays.

-- The catalog: artists, albums, tracks, credits, genres, finished uploads (which also decide what is
-- visible) and libraries (privacy, owner and name decide who sees what, and musicFolder names).
-- Uploads that are not finished are invisible: their progress does not count. Same deferred,
-- once-a-transaction bump as 0009's triggers, which these include.
CREATE CONSTRAINT TRIGGER catalog_generation_artist_any AFTER INSERT OR UPDATE OR DELETE ON artist
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_album_any AFTER INSERT OR UPDATE OR DELETE ON album
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_track AFTER INSERT OR UPDATE OR DELETE ON track
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_artist_credit AFTER INSERT OR UPDATE OR DELETE ON artist_credit
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_genre AFTER INSERT OR UPDATE OR DELETE ON genre
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_track_genre AFTER INSERT OR UPDATE OR DELETE ON track_genre
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_upload_added AFTER INSERT ON upload DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.status = 'finished') EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_upload_changed AFTER UPDATE ON upload DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.status = 'finished' OR NEW.status = 'finished') EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_upload_removed AFTER DELETE ON upload DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.status = 'finished') EXECUTE FUNCTION catalog_generation_bump();
CREATE CONSTRAINT TRIGGER catalog_generation_library AFTER INSERT OR UPDATE OR DELETE ON library
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_generation_bump();

-- One row a user who has starred, rated or played anything (existing users get theirs here). Bumped at
-- once (these writes are small transactions); a reader sees the new value only with the change, both
-- being committed together. A removal only updates: when a user is deleted, the cascade removing their
-- stars must not make their row again.
CREATE TABLE user_data_generation (
  user_id uuid PRIMARY KEY CONSTRAINT user_data_generation_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  value bigint NOT NULL
);
INSERT INTO user_data_generation (user_id, value) SELECT id, 0 FROM app_user;

CREATE FUNCTION user_data_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    UPDATE user_data_generation SET value = value + 1 WHERE user_id = OLD.user_id;
  ELSE
    INSERT INTO user_data_generation AS g (user_id, value) VALUES (NEW.user_id, 1)
      ON CONFLICT (user_id) DO UPDATE SET value = g.value + 1;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER user_data_generation_favorite AFTER INSERT OR UPDATE OR DELETE ON favorite
  FOR EACH ROW EXECUTE FUNCTION user_data_generation_bump();
CREATE TRIGGER user_data_generation_rating AFTER INSERT OR UPDATE OR DELETE ON rating
  FOR EACH ROW EXECUTE FUNCTION user_data_generation_bump();
CREATE TRIGGER user_data_generation_play_stat AFTER INSERT OR UPDATE OR DELETE ON play_stat
  FOR EACH ROW EXECUTE FUNCTION user_data_generation_bump();
