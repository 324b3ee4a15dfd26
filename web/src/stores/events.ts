// Live updates from GET /api/v1/events (server-sent events): upload status changes of the user's libraries,
// follows (someone asking to follow one of them; an answer to one of the user's own follows), and changes
// to the music of a library the user follows on another server (`catalog`: its scan, its live updates), and
// the user's new listens (`listens`), analysed tracks of the user's libraries (`analysis`), what people here play now (`now_playing`, for those whose listen privacy lets the user see it).
// Pages subscribe; `catalogVersion` goes up (batched) when the music the user sees changed, so lists refresh.
import { ref } from "vue";
import type { FollowEvent, UploadEvent } from "../types.ts";
import type { NowPlaying } from "../util/listens.ts";

type Listener = (event: UploadEvent) => void;
type FollowListener = (event: FollowEvent) => void;

const listeners = new Set<Listener>();
const followListeners = new Set<FollowListener>();
const resyncListeners = new Set<() => void>();
const nowPlayingListeners = new Set<(event: NowPlayingEvent) => void>();
const listensListeners = new Set<() => void>();
const analysisListeners = new Set<(libraryId: string) => void>();

/** Someone's now playing changed (`playing` null: it stopped). */
export interface NowPlayingEvent {
  username: string;
  playing: NowPlaying | null;
}
let openedBefore = false;
let source: EventSource | null = null;
let bumpTimer: ReturnType<typeof setTimeout> | undefined;

/** True while the stream is open; pages fall back to polling when it is not. */
export const live = ref(false);
export const catalogVersion = ref(0);

export function connectEvents(): void {
  if (source) return;
  source = new EventSource("/api/v1/events", { withCredentials: true });
  source.onopen = () => {
    live.value = true;
    // Open again after a drop: what was sent meanwhile is lost, so what shows it reloads.
    if (openedBefore) {
      catalogChanged();
      for (const listener of resyncListeners) listener();
    }
    openedBefore = true;
  };
  source.onerror = () => {
    // EventSource reconnects by itself unless the server refused (readyState CLOSED).
    live.value = source?.readyState === EventSource.OPEN;
  };
  source.addEventListener("upload", (message) => {
    const event = JSON.parse((message as MessageEvent<string>).data) as UploadEvent;
    for (const listener of listeners) listener(event);
    if (event.status === "finished") catalogChanged();
  });
  source.addEventListener("catalog", catalogChanged);
  source.addEventListener("listens", () => {
    for (const listener of listensListeners) listener();
  });
  source.addEventListener("analysis", (message) => {
    const { libraryId } = JSON.parse((message as MessageEvent<string>).data) as { libraryId: string };
    for (const listener of analysisListeners) listener(libraryId);
  });
  source.addEventListener("now_playing", (message) => {
    const event = JSON.parse((message as MessageEvent<string>).data) as NowPlayingEvent;
    for (const listener of nowPlayingListeners) listener(event);
  });
  source.addEventListener("follow", (message) => {
    const event = JSON.parse((message as MessageEvent<string>).data) as FollowEvent;
    for (const listener of followListeners) listener(event);
    // An accepted or ended follow changes which libraries (and so which music) the user sees.
    if (event.side === "following") catalogVersion.value++;
  });
}

/** Many changes in a row (an import, a scan's pages) refresh the lists once, when they pause. */
function catalogChanged(): void {
  clearTimeout(bumpTimer);
  bumpTimer = setTimeout(() => catalogVersion.value++, 800);
}

export function disconnectEvents(): void {
  source?.close();
  source = null;
  live.value = false;
  openedBefore = false;
}

/** Called when the stream opens again after a drop (events sent meanwhile were lost): reload. */
export function onEventsResync(listener: () => void): () => void {
  resyncListeners.add(listener);
  return () => resyncListeners.delete(listener);
}

export function onUploadEvent(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function onFollowEvent(listener: FollowListener): () => void {
  followListeners.add(listener);
  return () => followListeners.delete(listener);
}

export function onNowPlayingEvent(listener: (event: NowPlayingEvent) => void): () => void {
  nowPlayingListeners.add(listener);
  return () => nowPlayingListeners.delete(listener);
}

/** Listens of the user were added (any player or scrobbler): history and statistics read again. */
export function onListensEvent(listener: () => void): () => void {
  listensListeners.add(listener);
  return () => listensListeners.delete(listener);
}

/** A track of one of the user's libraries was analysed (issue 20): its analysis progress reads again. */
export function onAnalysisEvent(listener: (libraryId: string) => void): () => void {
  analysisListeners.add(listener);
  return () => analysisListeners.delete(listener);
}
