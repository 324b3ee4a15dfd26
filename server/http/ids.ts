import { NotFound } from "../../core/errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that is not even well-formed names nothing: 404, like an unknown one. */
export function pathId(value: string | string[] | undefined, what: string): string {
  if (typeof value !== "string" || !UUID.test(value)) throw new NotFound(what);
  return value.toLowerCase();
}
