import { Temporal } from "@js-temporal/polyfill";

/**
 * Node 24 has no global Temporal; Fedify's types name the ambient one, so polyfill instances are cast
 * to it at this single boundary.
 */
export function toInstant(date: Date): globalThis.Temporal.Instant {
  return Temporal.Instant.fromEpochMilliseconds(date.getTime()) as unknown as globalThis.Temporal.Instant;
}
