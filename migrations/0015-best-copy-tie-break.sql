-- The best copy of a track is chosen in one order everywhere (core/catalog/catalog-read.ts
-- BEST_COPY_ORDER): lossless, then bitrate, then the oldest, then by id, since the uploads of one
-- import transaction share created_at and would otherwise tie. The index of 0012 gains the id, so
-- that order is still read from the index without a sort.
CREATE INDEX upload_best_copy_order_index ON upload (track_id, lossless DESC NULLS LAST, bitrate DESC NULLS LAST, created_at, id)
  WHERE status = 'finished';
DROP INDEX upload_best_copy_index;
