import { apiSignature } from "../lastfm/signature.ts";
import { OutboundRefused, safeFetch, type OutboundPolicy } from "../fediverse/safe-fetch.ts";
import type { RelayCredentials, RelayedListen } from "./listen-relay.service.ts";

/**
 * What a target answered: `delivered`; `refused` (the credentials: stop relaying until new ones are
 * saved); `rejected` (this batch will never be taken: recorded, not retried); `retry` (429, 5xx,
 * unreachable: graphile-worker tries again later).
 */
export type RelayOutcome = { kind: "delivered" } | { kind: "refused" | "rejected" | "retry"; reason: string };

// Last.fm error codes: 4 authentication failed, 9 invalid session key, 10 invalid API key, 14 unauthorized
// token, 26 suspended API key; 11 offline, 16 temporarily unavailable, 29 rate limited.
const LASTFM_REFUSED = new Set([4, 9, 10, 14, 26]);
const LASTFM_RETRY = new Set([8, 11, 16, 29]);

/** Sends listens (or, with `playingNow`, the one listen playing now) to a target. */
export async function sendToTarget(
  policy: OutboundPolicy,
  baseUrl: string,
  credentials: RelayCredentials,
  listens: RelayedListen[],
  playingNow = false,
): Promise<RelayOutcome> {
  try {
    return credentials.target === "listenbrainz"
      ? await sendToListenBrainz(policy, baseUrl, credentials.token, listens, playingNow)
      : await sendToLastfm(policy, baseUrl, credentials, listens, playingNow);
  } catch (error) {
    if (!(error instanceof OutboundRefused)) throw error;
    const again = error.reason === "timeout" || error.reason === "unreachable";
    return { kind: again ? "retry" : "refused", reason: error.message };
  }
}

/** A ListenBrainz listen: https://listenbrainz.readthedocs.io (submit-listens), empty keys left out. */
export function listenBrainzListen(l: RelayedListen, withTime: boolean): Record<string, unknown> {
  const info: Record<string, unknown> = { ...(l.additionalInfo ?? {}) };
  const put = (key: string, value: unknown) => {
    if (value !== null && value !== undefined && !(Array.isArray(value) && !value.length) && info[key] === undefined) info[key] = value;
  };
  put("recording_mbid", l.recordingMbid);
  put("release_mbid", l.releaseMbid);
  put("release_group_mbid", l.releaseGroupMbid);
  put("artist_mbids", l.artistMbids);
  put("tracknumber", l.trackNumber);
  // Exactly one of duration_ms and duration.
  if (info.duration === undefined) put("duration_ms", l.durationMs);
  put("submission_client", l.client);
  const metadata: Record<string, unknown> = { artist_name: l.artistName, track_name: l.trackName };
  if (l.releaseName) metadata.release_name = l.releaseName;
  if (Object.keys(info).length) metadata.additional_info = info;
  return withTime && l.listenedAt ? { listened_at: l.listenedAt, track_metadata: metadata } : { track_metadata: metadata };
}

async function sendToListenBrainz(policy: OutboundPolicy, baseUrl: string, token: string, listens: RelayedListen[], playingNow: boolean): Promise<RelayOutcome> {
  const url = new URL("1/submit-listens", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  const listenType = playingNow ? "playing_now" : listens.length === 1 ? "single" : "import";
  const res = await safeFetch(url, {
    policy,
    method: "POST",
    headers: { Authorization: `Token ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ listen_type: listenType, payload: listens.map((l) => listenBrainzListen(l, !playingNow)) }),
  });
  const text = await res.text();
  if (res.ok) return { kind: "delivered" };
  const message = errorText(text, "error");
  const reason = `ListenBrainz answered ${res.status}${message ? `: ${message}` : ""}`;
  if (res.status === 401) return { kind: "refused", reason };
  if (res.status === 429 || res.status >= 500) return { kind: "retry", reason };
  return { kind: "rejected", reason };
}

/** Last.fm track.scrobble (up to 50 listens, `name[i]` parameters) or track.updateNowPlaying, signed with api_sig. */
export function lastfmParams(credentials: Extract<RelayCredentials, { target: "lastfm" }>, listens: RelayedListen[], playingNow: boolean): Record<string, string> {
  const params: Record<string, string> = { method: playingNow ? "track.updateNowPlaying" : "track.scrobble", api_key: credentials.apiKey, sk: credentials.sessionKey };
  listens.forEach((l, i) => {
    const name = (key: string) => (playingNow ? key : `${key}[${i}]`);
    params[name("artist")] = l.artistName;
    params[name("track")] = l.trackName;
    if (!playingNow && l.listenedAt) params[name("timestamp")] = String(l.listenedAt);
    if (l.releaseName) params[name("album")] = l.releaseName;
    if (l.trackNumber) params[name("trackNumber")] = String(l.trackNumber);
    if (l.recordingMbid) params[name("mbid")] = l.recordingMbid;
    if (l.durationMs) params[name("duration")] = String(Math.round(l.durationMs / 1000));
  });
  params.api_sig = apiSignature(params, credentials.secret);
  params.format = "json";
  return params;
}

async function sendToLastfm(
  policy: OutboundPolicy,
  baseUrl: string,
  credentials: Extract<RelayCredentials, { target: "lastfm" }>,
  listens: RelayedListen[],
  playingNow: boolean,
): Promise<RelayOutcome> {
  const res = await safeFetch(baseUrl, {
    policy,
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(lastfmParams(credentials, listens, playingNow)).toString(),
  });
  const text = await res.text();
  let code: number | undefined;
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === "number") code = body.error;
  } catch {
    // Not JSON (a proxy's error page): the HTTP status decides.
  }
  if (res.ok && code === undefined) return { kind: "delivered" };
  const message = errorText(text, "message");
  const reason = `Last.fm answered ${res.status}${code !== undefined ? ` (error ${code})` : ""}${message ? `: ${message}` : ""}`;
  if (code !== undefined && LASTFM_REFUSED.has(code)) return { kind: "refused", reason };
  if ((code !== undefined && LASTFM_RETRY.has(code)) || res.status === 429 || res.status >= 500) return { kind: "retry", reason };
  if (code === undefined && res.status === 401) return { kind: "refused", reason };
  return { kind: "rejected", reason };
}

function errorText(text: string, key: string): string {
  try {
    const value = (JSON.parse(text) as Record<string, unknown>)[key];
    return typeof value === "string" ? value.slice(0, 300) : "";
  } catch {
    return text.slice(0, 200);
  }
}
