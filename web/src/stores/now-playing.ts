// What the people here who share their listens play now: loaded once, then kept by the `now_playing`
// events; each report is dropped when it lapses (the track's end), as the server stops answering it then.
import { computed, reactive } from "vue";
import { notifyError } from "./toasts.ts";
import { onEventsResync, onNowPlayingEvent } from "./events.ts";
import { listensApi, type NowPlaying } from "../util/listens.ts";

const byUser = reactive(new Map<string, NowPlaying>());
const timers = new Map<string, ReturnType<typeof setTimeout>>();
let started = false;

function put(username: string, playing: NowPlaying | null): void {
  clearTimeout(timers.get(username));
  timers.delete(username);
  const left = playing ? Date.parse(playing.expiresAt) - Date.now() : 0;
  if (!playing || left <= 0) return void byUser.delete(username);
  byUser.set(username, playing);
  timers.set(username, setTimeout(() => put(username, null), left));
}

async function load(): Promise<void> {
  try {
    const list = await listensApi.nowPlaying();
    for (const username of [...byUser.keys()]) if (!list.some((n) => n.username === username)) put(username, null);
    for (const playing of list) put(playing.username, playing);
  } catch (error) {
    notifyError(error);
  }
}

/** Starts following now playing (once per page load). */
export function useNowPlaying() {
  if (!started) {
    started = true;
    onNowPlayingEvent((event) => put(event.username, event.playing));
    onEventsResync(() => void load());
    void load();
  }
  return {
    all: computed(() => [...byUser.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt))),
  };
}
