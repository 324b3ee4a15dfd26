import { Invalid } from "../errors.ts";
import { LISTEN_MINIMUM_TS } from "./listen-ranges.ts";
import type { SubmittedListen } from "./listen-submission.ts";

// ListenBrainz's limits (listenbrainz/webserver/views/api_tools.py), and its messages verbatim: clients
// show them to people, and some match on them.
export const MAX_LISTEN_SIZE = 10240;
export const MAX_LISTENS_PER_REQUEST = 1000;
export const MAX_LISTEN_PAYLOAD_SIZE = MAX_LISTEN_SIZE * MAX_LISTENS_PER_REQUEST;
export const MAX_TAGS_PER_LISTEN = 50;
export const MAX_TAG_SIZE = 64;
const MAX_DURATION_LIMIT = 24 * 24 * 60 * 60;
const MAX_DURATION_MS_LIMIT = MAX_DURATION_LIMIT * 1000;
/** listened_at may be this far ahead of our clock (clients' clocks drift). */
export const LISTENED_AT_ALLOWED_SKEW_S = 3600;

export type ListenType = "single" | "playing_now" | "import";

export interface ListenBrainzSubmission {
  type: ListenType;
  listens: SubmittedListen[];
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const fail = (message: string): never => {
  throw new Invalid(message);
};

/** A UUID as Python's uuid.UUID reads it (hyphens optional, braces and urn: too), normalised. */
function mbid(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const bare = value.trim().replace(/^urn:uuid:/i, "").replace(/^\{(.*)\}$/, "$1");
  if (!UUID.test(bare)) return null;
  const hex = bare.replace(/-/g, "").toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function hasNul(value: unknown): string | undefined {
  if (typeof value === "string") return value.includes("\u0000") ? value : undefined;
  if (Array.isArray(value)) return value.map(hasNul).find((v) => v !== undefined);
  if (isObject(value)) return Object.values(value).map(hasNul).find((v) => v !== undefined);
  return undefined;
}

/**
 * The body of POST /1/submit-listens, checked as ListenBrainz checks it, as listens for the sink. `raw`
 * is the body's bytes (the size limits are on them). Throws Invalid with ListenBrainz's message.
 */
export function parseListenBrainzSubmission(raw: Buffer): ListenBrainzSubmission {
  if (raw.length > MAX_LISTEN_PAYLOAD_SIZE) fail(`Payload too large. Payload cannot exceed ${MAX_LISTEN_PAYLOAD_SIZE} bytes`);
  let data: unknown;
  try {
    data = JSON.parse(raw.toString("utf8"));
  } catch (error) {
    fail(`Cannot parse JSON document: ${(error as Error).message}`);
  }
  if (!isObject(data)) fail("Invalid JSON document submitted. Top level of JSON document should be a json object.");
  const body = data as Record<string, unknown>;
  if (!("payload" in body) || !("listen_type" in body)) fail("Invalid JSON document submitted.");
  const payload = body.payload;
  if (!Array.isArray(payload)) return fail("The payload in the JSON document should be a list of listens.");
  if (payload.length === 0) fail("JSON document does not contain any listens");
  if (payload.length > MAX_LISTENS_PER_REQUEST) {
    fail(`Too many listens. You may not submit more than ${MAX_LISTENS_PER_REQUEST} listens at once.`);
  }
  if (raw.length > payload.length * MAX_LISTEN_SIZE) {
    fail(`JSON document is too large. Each listens may not be larger than ${MAX_LISTEN_SIZE} bytes.`);
  }
  const type = body.listen_type;
  if (type !== "single" && type !== "playing_now" && type !== "import") return fail("JSON document requires a valid listen_type key.");
  if (type !== "import" && payload.length > 1) {
    fail("JSON document contains more than listen for a single/playing_now. It should contain only one.");
  }
  return { type, listens: payload.map((listen) => validateListen(listen, type)) };
}

function validateListen(listen: unknown, type: ListenType): SubmittedListen {
  if (listen === null || listen === undefined) fail("Listen is empty and cannot be validated.");
  if (!isObject(listen)) return fail("JSON document must contain the key track_metadata at the top level.");
  let listenedAt = new Date();
  if (type === "playing_now") {
    if ("listened_at" in listen) fail("JSON document must not contain listened_at while submitting playing_now.");
    if (!("track_metadata" in listen)) fail("JSON document must contain the key track_metadata at the top level.");
    if (Object.keys(listen).length > 1) fail("JSON document may only contain track_metadata as top level key when submitting playing_now.");
  } else {
    listenedAt = new Date(validListenedAt(listen) * 1000);
    if (!("track_metadata" in listen)) fail("JSON document must contain the key track_metadata at the top level.");
    if (Object.keys(listen).length > 2) fail("JSON document may only contain listened_at and track_metadata top level keys");
  }
  const meta = listen.track_metadata;
  if (meta === null) fail("JSON document may not have track_metadata with null value.");
  if (!isObject(meta)) return fail("JSON document does not contain required field track_metadata.track_name.");
  const trackName = basic(meta, "track_name", true)!;
  const artistName = basic(meta, "artist_name", true)!;
  const releaseName = basic(meta, "release_name", false);
  const info = isObject(meta.additional_info) ? { ...meta.additional_info } : {};
  const durationMs = validInfo(info);
  const nul = hasNul(listen);
  if (nul !== undefined) fail(`${nul} contains a unicode null`);
  return {
    listenedAt,
    trackName,
    artistName,
    releaseName,
    durationMs,
    recordingMbid: (info.recording_mbid as string | undefined) ?? null,
    releaseMbid: (info.release_mbid as string | undefined) ?? null,
    releaseGroupMbid: (info.release_group_mbid as string | undefined) ?? null,
    artistMbids: (info.artist_mbids as string[] | undefined) ?? [],
    trackNumber: trackNumberOf(info.tracknumber ?? info.track_number),
    client: typeof info.submission_client === "string" ? info.submission_client : typeof info.media_player === "string" ? info.media_player : null,
    additionalInfo: Object.keys(info).length ? info : null,
  };
}

function validListenedAt(listen: Record<string, unknown>): number {
  if (!("listened_at" in listen)) fail("JSON document must contain the key listened_at at the top level.");
  // Python's int(): an int, a float (truncated) or a string of an int.
  const raw = listen.listened_at;
  const value = typeof raw === "number" && Number.isFinite(raw) ? Math.trunc(raw)
    : typeof raw === "string" && /^\s*[-+]?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value)) fail("JSON document must contain an int value for listened_at.");
  if (value >= Math.floor(Date.now() / 1000) + LISTENED_AT_ALLOWED_SKEW_S) fail("Value for key listened_at is too high.");
  if (value < LISTEN_MINIMUM_TS) {
    fail("Value for key listened_at is too low. listened_at timestamp should be greater than 1033410600 (2002-10-01 00:00:00 UTC).");
  }
  return value;
}

/** track_name, artist_name, release_name: strings, trimmed, not empty. */
function basic(meta: Record<string, unknown>, key: string, required: boolean): string | null {
  if (!(key in meta)) return required ? fail(`JSON document does not contain required field track_metadata.${key}.`) : null;
  const value = meta[key];
  if (typeof value !== "string") fail(`track_metadata.${key} must be a single string.`);
  const trimmed = (value as string).trim();
  if (!trimmed) fail(`field track_metadata.${key} is empty.`);
  return trimmed;
}

/** Checks additional_info (tags, duration, MBIDs; drops empty MBIDs, as LB does); returns the duration in ms. */
function validInfo(info: Record<string, unknown>): number | null {
  if ("tags" in info) {
    const tags = Array.isArray(info.tags) ? info.tags : [];
    if (tags.length > MAX_TAGS_PER_LISTEN) {
      fail(`JSON document may not contain more than ${MAX_TAGS_PER_LISTEN} items in track_metadata.additional_info.tags.`);
    }
    if (tags.some((tag) => String(tag).length > MAX_TAG_SIZE)) {
      fail(`JSON document may not contain track_metadata.additional_info.tags longer than ${MAX_TAG_SIZE} characters.`);
    }
  }
  if ("duration" in info && "duration_ms" in info) fail("JSON document should not contain both duration and duration_ms.");
  const seconds = duration(info, "duration", MAX_DURATION_LIMIT);
  const ms = duration(info, "duration_ms", MAX_DURATION_MS_LIMIT);
  for (const key of ["release_mbid", "recording_mbid", "release_group_mbid", "track_mbid"]) {
    if (!(key in info)) continue;
    if (!info[key]) {
      delete info[key];
      continue;
    }
    info[key] = mbid(info[key]) ?? fail(`${key} MBID format invalid.`);
  }
  for (const key of ["artist_mbids", "work_mbids"]) {
    if (!(key in info)) continue;
    const list = Array.isArray(info[key]) ? (info[key] as unknown[]).filter(Boolean) : info[key] ? [info[key]] : [];
    if (!list.length) {
      delete info[key];
      continue;
    }
    info[key] = list.map((v) => mbid(v) ?? fail(`${key} MBID format invalid.`));
  }
  return ms ?? (seconds === null ? null : seconds * 1000);
}

function duration(info: Record<string, unknown>, key: string, max: number): number | null {
  if (!(key in info)) return null;
  const raw = info[key];
  const value = typeof raw === "number" ? Math.trunc(raw) : typeof raw === "string" && /^\s*[-+]?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) fail(`Value for ${key} is invalid, should be a positive integer.`);
  if (value > max) fail(`Value for ${key} is too large, max permitted value is ${max}`);
  info[key] = value;
  return value;
}

function trackNumberOf(value: unknown): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number.parseInt(value, 10) : NaN;
  return Number.isSafeInteger(n) && n > 0 && n < 100_000 ? n : null;
}
