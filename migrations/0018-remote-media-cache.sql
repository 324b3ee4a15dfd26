-- The on-disk cache of remote audio (MEDIA_DIR/remote-cache, core/library/remote-audio.ts): a remote
-- upload played once keeps its copy (cached_path, from 0016) with its size, and when it was last played
-- from there, so the cache stays under REMOTE_CACHE_MAX_MB by evicting the least recently used first.
ALTER TABLE upload ADD COLUMN cached_size bigint;
ALTER TABLE upload ADD COLUMN cache_used_at timestamptz;
-- No remote audio was fetched before this migration; should a copy be recorded, it counts as used now.
UPDATE upload SET cached_size = size, cache_used_at = now() WHERE cached_path IS NOT NULL;
ALTER TABLE upload ADD CONSTRAINT upload_cache_check CHECK (num_nulls(cached_path, cached_size, cache_used_at) IN (0, 3));
-- Eviction walks the copies oldest use first.
CREATE INDEX upload_cache_used_at_index ON upload (cache_used_at) WHERE cached_path IS NOT NULL;

-- Keeping, using and evicting a copy changes no catalog answer: those updates must not move the catalog
-- generation (0011), or every play of a remote track would throw away every user's kept Subsonic answers.
DROP TRIGGER catalog_generation_upload_changed ON upload;
CREATE CONSTRAINT TRIGGER catalog_generation_upload_changed AFTER UPDATE ON upload DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN ((OLD.status = 'finished' OR NEW.status = 'finished')
    AND to_jsonb(OLD) - ARRAY['cached_path', 'cached_size', 'cache_used_at'] IS DISTINCT FROM to_jsonb(NEW) - ARRAY['cached_path', 'cached_size', 'cache_used_at'])
  EXECUTE FUNCTION catalog_generation_bump();
