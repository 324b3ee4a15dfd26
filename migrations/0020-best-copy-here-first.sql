-- A track's best copy is the one on this server first (core/catalog/catalog-read.ts BEST_COPY_ORDER):
-- a remote copy is played only when no copy here may be heard, even a better one, since a local file
-- needs no download and plays while the other server is away. Then lossless, bitrate, oldest, id, as
-- before; the index keeps that whole order, so the best copy is still read without a sort.
DROP INDEX upload_best_copy_order_index;
CREATE INDEX upload_best_copy_order_index ON upload (track_id, (storage = 'remote'), lossless DESC NULLS LAST, bitrate DESC NULLS LAST, created_at, id)
  WHERE status = 'finished';
