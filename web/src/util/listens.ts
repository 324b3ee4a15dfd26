// The listens API of the web UI: history, statistics (ListenBrainz range names) and now playing.
import { api, request } from "../api.ts";

export const STATS_RANGES = [
  ["this_week", "This week"],
  ["this_month", "This month"],
  ["this_year", "This year"],
  ["week", "Last week"],
  ["month", "Last month"],
  ["quarter", "Last quarter"],
  ["half_yearly", "Last half year"],
  ["year", "Last year"],
  ["all_time", "All time"],
] as const;
export type StatsRange = (typeof STATS_RANGES)[number][0];

export interface Listen {
  listenedAt: number;
  recordingMsid: string;
  trackName: string;
  artistName: string;
  releaseName: string | null;
  trackId: string | null;
  durationMs: number | null;
  source: string;
  client: string | null;
}

export interface EntityCount {
  name: string;
  artistName: string | null;
  releaseName: string | null;
  listenCount: number;
}

export interface NowPlaying {
  username: string;
  trackName: string;
  artistName: string;
  releaseName: string | null;
  trackId: string | null;
  durationMs: number | null;
  client: string;
  startedAt: string;
  expiresAt: string;
}

const stats = (username: string) => `/people/${encodeURIComponent(username)}/listen-stats`;

export const listensApi = {
  history: (cursor: string | null, count = 50) =>
    api.get<{ listens: Listen[]; next: string | null }>("/me/listens", { cursor, count }),
  remove: (listen: Listen) =>
    request<void>("DELETE", "/me/listens", { body: { listenedAt: listen.listenedAt, recordingMsid: listen.recordingMsid } }),
  top: (username: string, kind: "artist" | "release" | "recording", range: StatsRange, count = 10) =>
    api.get<{ total: number; entities: EntityCount[] }>(`${stats(username)}/top`, { kind, range, count }),
  activity: (username: string, range: StatsRange) =>
    api.get<{ unit: "day" | "month" | "year"; from: string; buckets: { from: string; listenCount: number }[] }>(`${stats(username)}/activity`, { range }),
  daily: (username: string, range: StatsRange) =>
    api.get<{ hours: { weekday: number; hour: number; listenCount: number }[] }>(`${stats(username)}/daily`, { range }),
  nowPlaying: () => api.get<NowPlaying[]>("/now-playing"),
};
