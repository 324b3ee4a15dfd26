// C0 and C1 control characters but tab and newline: a file's bytes quoted in a message (an MP4 box
// type of four zero bytes) would otherwise carry NULs, which PostgreSQL's text type refuses.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/gu;

/** Text for people and for text columns: control characters written out as `\xNN`. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * Domain errors. Services throw these; each protocol (REST, Subsonic, ActivityPub) maps them in one place.
 * `code` is a stable, machine-readable string; `message` is for people.
 */
export abstract class DomainError extends Error {
  readonly code: string;
  readonly details: unknown;
  constructor(message: string, code: string, details?: unknown) {
    super(printable(message));
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

export class NotFound extends DomainError {
  constructor(what = "resource", details?: unknown) {
    super(`The ${what} was not found`, "not_found", details);
  }
}

export class Unauthenticated extends DomainError {
  constructor(message: string) {
    super(message, "unauthenticated");
  }
}

export class Forbidden extends DomainError {
  constructor(message: string, code = "forbidden", details?: unknown) {
    super(message, code, details);
  }
}

export class Conflict extends DomainError {
  constructor(message: string, code = "conflict", details?: unknown) {
    super(message, code, details);
  }
}

export class Invalid extends DomainError {
  constructor(message: string, details?: unknown, code = "invalid") {
    super(message, code, details);
  }
}

/** The request or a file in it exceeds a size limit or quota. */
export class TooLarge extends DomainError {
  constructor(message: string, code = "too_large", details?: unknown) {
    super(message, code, details);
  }
}

export class RateLimited extends DomainError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, message = `Too many attempts; try again in ${retryAfterSeconds} seconds`, code = "rate_limited") {
    super(message, code);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Another server could not give us what was asked for (a remote track's audio): `refused` when it
 * answered no or wrongly (HTTP 502), `unreachable` (503) or `timeout` (504). The message names the server
 * and what to do.
 */
export class RemoteUnavailable extends DomainError {
  readonly kind: "refused" | "unreachable" | "timeout";
  constructor(kind: "refused" | "unreachable" | "timeout", message: string) {
    super(message, `remote_${kind}`);
    this.kind = kind;
  }
}
