/**
 * Domain errors. Services throw these; each protocol (REST, Subsonic, ActivityPub) maps them in one place.
 * `code` is a stable, machine-readable string; `message` is for people.
 */
export abstract class DomainError extends Error {
  readonly code: string;
  readonly details: unknown;
  constructor(message: string, code: string, details?: unknown) {
    super(message);
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
