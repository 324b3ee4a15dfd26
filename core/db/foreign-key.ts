/**
 * PostgreSQL's foreign_key_violation on one of `constraints`: a row being inserted points at one that
 * is gone. After the service checked it exists, that means a request running beside this one deleted it.
 */
export function violatesForeignKey(error: unknown, ...constraints: string[]): boolean {
  const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
  return code === "23503" && typeof constraint === "string" && constraints.includes(constraint);
}
