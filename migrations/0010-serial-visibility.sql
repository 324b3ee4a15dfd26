-- Catalog queries filtered by visibility (search_visible, 0005) run in one process. The planner
-- guesses that the filter keeps few rows, so a newest-first page of 50 albums was planned as a
-- parallel scan: starting the worker cost ~5 ms where the serial walk of the index takes 0.6 ms, and
-- under concurrent requests the workers only compete with the other connections for the same cores.
ALTER FUNCTION search_visible(uuid[], uuid[]) PARALLEL UNSAFE;
