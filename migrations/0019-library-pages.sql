-- A library's federated pages list its finished uploads by id (core/fediverse/library-collection.queries.ts):
-- read in that order from this index instead of sorting every upload of the library for each page.
CREATE INDEX upload_library_id_id_index ON upload (library_id, id) WHERE status = 'finished';
