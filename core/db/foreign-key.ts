/**
 * PostgreSQL's foreign_key_violation on one of `constraints`: a row being inserted points at one that
 * is gone. After the service checked it exists, that means a request running beside this one deleted it.
 */
export function violatesForeignKey(error: unknown, ...constraints: string[]): boolean {
  const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
  return code === "23503" && typeof constraint === "string" && constraints.includes(constraint);
}

/**
 * For `.catch()` on a write: a row it points at (through one of `constraints`) was deleted beside it
 * after it was checked, so the write answers as if that row had never been there (`instead`).
 */
export function orGone(instead: () => Error, ...constraints: string[]): (error: unknown) => never {
  return (error) => {
    throw violatesForeignKey(error, ...constraints) ? instead() : error;
  };
}
