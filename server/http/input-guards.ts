import type { RequestHandler } from "express";
import { Invalid } from "../../core/errors.ts";

/**
 * Checks every request meets at the edge, before any handler: text PostgreSQL cannot store (NUL, which
 * its text type refuses) and paths that are not valid percent-encoding are a 400 here, not a database
 * error or a URIError deep inside a handler.
 */

/**
 * Where the first NUL sits in parsed input (a key or a string value), as a dotted path; undefined if none.
 * Walks with its own stack: a body nested a few thousand levels deep would overflow the call stack.
 */
export function findNul(value: unknown): string | undefined {
  const pending: [unknown, string][] = [[value, ""]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, at] = next;
    if (typeof item === "string") {
      if (item.includes("\0")) return at || "(value)";
      continue;
    }
    if (typeof item !== "object" || item === null) continue;
    for (const [key, child] of Object.entries(item)) {
      const here = at ? `${at}.${key}` : key;
      if (key.includes("\0")) return here;
      pending.push([child, here]);
    }
  }
  return undefined;
}

function nulRejection(where: string, path: string): Invalid {
  return new Invalid(`The ${where} contains a NUL character, which no text field accepts`, [
    { path, message: "Contains a NUL character (U+0000)" },
  ]);
}

/** Each path segment must percent-decode, and to no NUL. */
function badPath(rawPath: string): string | undefined {
  for (const segment of rawPath.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return "The URL's path is not valid percent-encoding";
    }
    if (decoded.includes("\0")) return "The URL's path contains a NUL character";
  }
  return undefined;
}

/**
 * Malformed paths for every route; NUL in the query for all but `/rest`, where Subsonic refuses it in
 * its own envelope (see subsonic/params.ts).
 */
export const rejectMalformedUrl: RequestHandler = (req, _res, next) => {
  const pathProblem = badPath(req.path);
  if (pathProblem) return next(new Invalid(pathProblem, undefined, "malformed_url"));
  if (req.path !== "/rest" && !req.path.startsWith("/rest/")) {
    const at = findNul(req.query);
    if (at) return next(nulRejection("query string", at));
  }
  next();
};

/** After a body parser: a parsed body with a NUL in any key or string. */
export const rejectNulInBody: RequestHandler = (req, _res, next) => {
  const at = findNul(req.body);
  next(at ? nulRejection("request body", at) : undefined);
};
