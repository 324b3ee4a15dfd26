/**
 * SQLSTATEs with which PostgreSQL refuses a value a client sent, not a fault of ours: a NUL or an
 * unconvertible character in text (22021, 22P05), text that is not a number or uuid (22P02), a number
 * out of its column's range (22003), a negative LIMIT or OFFSET (2201W, 2201X), a bad date (22007, 22008).
 * Input is checked at the edge; this is the safety net that keeps one we missed a 400, not a 500.
 */
const BAD_VALUE_STATES = new Set(["22021", "22P05", "22P02", "22003", "2201W", "2201X", "22007", "22008"]);

/** True for pg's errors and MikroORM's DriverException (which keeps pg's `code`) with such a state. */
export function isBadValueError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && BAD_VALUE_STATES.has(code);
}
