/**
 * Domain errors. Services throw these; each protocol (REST, Subsonic, ActivityPub) maps them in one place.
 * `code` is a stable, machine-readable string; `message` is for people.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  readonly details: unknown;
  constructor(message: string, details?: unknown) {
    super(message);
    this.details = details;
  }
}

export class NotFound extends DomainError {
  override name = "NotFound";
  readonly code: string;
  constructor(what = "resource", details?: unknown) {
    super(`The ${what} was not found`, details);
    this.code = "not_found";
  }
}

export class Unauthenticated extends DomainError {
  override name = "Unauthenticated";
  readonly code = "unauthenticated";
}

export class Forbidden extends DomainError {
  override name = "Forbidden";
  readonly code: string;
  constructor(message: string, code = "forbidden", details?: unknown) {
    super(message, details);
    this.code = code;
  }
}

export class Conflict extends DomainError {
  override name = "Conflict";
  readonly code: string;
  constructor(message: string, code = "conflict", details?: unknown) {
    super(message, details);
    this.code = code;
  }
}

export class Invalid extends DomainError {
  override name = "Invalid";
  readonly code: string;
  constructor(message: string, details?: unknown, code = "invalid") {
    super(message, details);
    this.code = code;
  }
}

export class RateLimited extends DomainError {
  override name = "RateLimited";
  readonly code = "rate_limited";
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super(`Too many attempts; try again in ${retryAfterSeconds} seconds`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
