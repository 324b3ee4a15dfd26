// The play queue: what plays, in which order, shuffle and repeat. Persisted in localStorage so a reload
// keeps the queue and the position. The audio engine (engine.ts) follows `current`.
import { computed, reactive, watch } from "vue";
import type { Track } from "../types.ts";
import { creditText } from "../util/format.ts";

export interface PlayerTrack {
  id: string;
  title: string;
  artist: string;
  album: { id: string; title: string } | null;
  durationMs: number | null;
  coverUrl: string | null;
}

export interface QueueEntry {
  /** Unique per entry: the same track may sit in the queue twice. */
  key: string;
  track: PlayerTrack;
}

export type Repeat = "off" | "all" | "one";

const STORAGE_KEY = "polyphony.player";

export const queue = reactive({
  entries: [] as QueueEntry[],
  index: -1,
  shuffle: false,
  repeat: "off" as Repeat,
  /** Entry keys in their order before shuffling, to restore it when shuffle goes off. */
  unshuffled: null as string[] | null,
  /** Where the current track was when the page was last saved (seconds). */
  savedPosition: 0,
  volume: 1,
  muted: false,
});

export const current = computed<QueueEntry | null>(() => queue.entries[queue.index] ?? null);

let keySeed = Date.now();
const entry = (track: PlayerTrack): QueueEntry => ({ key: (keySeed++).toString(36), track });

export function toPlayerTrack(track: Pick<Track, "id" | "title" | "durationMs" | "coverUrl"> & {
  artists?: { name: string; joinPhrase: string }[];
  artistCredit?: string;
  album?: { id: string; title: string } | null;
}): PlayerTrack {
  return {
    id: track.id,
    title: track.title,
    artist: track.artistCredit ?? creditText(track.artists ?? []),
    album: track.album ?? null,
    durationMs: track.durationMs,
    coverUrl: track.coverUrl,
  };
}

export const streamUrl = (track: PlayerTrack) => `/api/v1/tracks/${track.id}/stream`;

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** Replaces the queue; with shuffle on, the tracks after the chosen one come in random order. */
export function replaceQueue(tracks: PlayerTrack[], start = 0): void {
  const entries = tracks.map(entry);
  queue.savedPosition = 0;
  if (queue.shuffle && entries.length > 1) {
    const [first] = entries.splice(start, 1);
    queue.unshuffled = [first!, ...entries].map((e) => e.key);
    queue.entries = [first!, ...shuffled(entries)];
    queue.index = 0;
  } else {
    queue.unshuffled = null;
    queue.entries = entries;
    queue.index = Math.min(start, entries.length - 1);
  }
}

export function insertNext(tracks: PlayerTrack[]): void {
  queue.entries.splice(queue.index + 1, 0, ...tracks.map(entry));
  if (queue.index < 0) queue.index = 0;
}

export function append(tracks: PlayerTrack[]): void {
  queue.entries.push(...tracks.map(entry));
  if (queue.index < 0) queue.index = 0;
}

export function removeAt(i: number): void {
  if (i < 0 || i >= queue.entries.length) return;
  queue.entries.splice(i, 1);
  if (i < queue.index) queue.index--;
  else if (i === queue.index && queue.index >= queue.entries.length) queue.index = queue.entries.length - 1;
}

/** Moves an entry; the current track stays current wherever it goes. */
export function moveEntry(from: number, to: number): void {
  if (from === to || from < 0 || to < 0 || from >= queue.entries.length || to >= queue.entries.length) return;
  const currentKey = current.value?.key;
  const [moved] = queue.entries.splice(from, 1);
  queue.entries.splice(to, 0, moved!);
  queue.index = queue.entries.findIndex((e) => e.key === currentKey);
}

/** Empties the queue except the track playing now. */
export function clearQueue(): void {
  const now = current.value;
  queue.entries = now ? [now] : [];
  queue.index = now ? 0 : -1;
  queue.unshuffled = null;
}

/** The entry to play after the current one: `auto` when the current one ended by itself (repeat one applies). */
export function nextIndex(auto: boolean): number {
  if (queue.index < 0) return -1;
  if (auto && queue.repeat === "one") return queue.index;
  if (queue.index + 1 < queue.entries.length) return queue.index + 1;
  return queue.repeat === "all" && queue.entries.length ? 0 : -1;
}

export function previousIndex(): number {
  if (queue.index > 0) return queue.index - 1;
  return queue.repeat === "all" ? queue.entries.length - 1 : 0;
}

export function toggleShuffle(): void {
  const now = current.value;
  if (!queue.shuffle) {
    queue.unshuffled = queue.entries.map((e) => e.key);
    const rest = queue.entries.filter((e) => e !== now);
    queue.entries = now ? [now, ...shuffled(rest)] : shuffled(rest);
    queue.index = now ? 0 : -1;
  } else if (queue.unshuffled) {
    const order = new Map(queue.unshuffled.map((key, i) => [key, i]));
    // Entries added while shuffled keep their relative place at the end.
    queue.entries = [...queue.entries].sort((a, b) => (order.get(a.key) ?? Infinity) - (order.get(b.key) ?? Infinity));
    queue.index = now ? queue.entries.indexOf(now) : -1;
    queue.unshuffled = null;
  }
  queue.shuffle = !queue.shuffle;
}

export function cycleRepeat(): void {
  queue.repeat = queue.repeat === "off" ? "all" : queue.repeat === "all" ? "one" : "off";
}

// --- persistence ---

type Saved = Pick<typeof queue, "entries" | "index" | "shuffle" | "repeat" | "unshuffled" | "savedPosition" | "volume" | "muted">;

export function restoreQueue(): void {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null") as Saved | null;
    if (!saved || !Array.isArray(saved.entries)) return;
    Object.assign(queue, saved);
    queue.index = Math.min(Math.max(saved.index, -1), saved.entries.length - 1);
  } catch {
    localStorage.removeItem(STORAGE_KEY);
  }
}

export function saveQueue(position?: number): void {
  if (position !== undefined) queue.savedPosition = position;
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(queue));
  } catch {
    // Storage full or disabled: the queue just won't survive a reload.
  }
}

export function forgetQueue(): void {
  localStorage.removeItem(STORAGE_KEY);
}

watch(() => [queue.entries, queue.index, queue.shuffle, queue.repeat, queue.volume, queue.muted], () => saveQueue(), { deep: true });
