// Plays the queue through two <audio> elements: the active one plays the current track while the standby one
// preloads the next, which is started from memory just before the current one ends (see HANDOVER_SECONDS).
import { reactive, watch } from "vue";
import { notify } from "../stores/toasts.ts";
import { current, nextIndex, previousIndex, queue, replaceQueue, restoreQueue, saveQueue, streamUrl, type PlayerTrack, type QueueEntry } from "./queue.ts";
import { applyGain, connectGain, replayGainMode, resumeGain } from "./replay-gain.ts";
import { listened, seeked, startListening } from "./scrobble.ts";

export const playback = reactive({ playing: false, position: 0, duration: 0, buffering: false });

let active: HTMLAudioElement;
let standby: HTMLAudioElement;
let lastSave = 0;
let handover: ReturnType<typeof setTimeout> | undefined;

/**
 * How long before the end of a track the preloaded next one takes over. Waiting for `ended` and then
 * calling play() leaves tens of milliseconds of silence, which is heard between tracks of a live or
 * classical album; the last 50 ms of a file are the encoder's padding or silence, so cutting them is not.
 */
const HANDOVER_SECONDS = 0.05;

function createElement(): HTMLAudioElement {
  const audio = document.createElement("audio");
  audio.preload = "auto";
  audio.hidden = true;
  audio.dataset.player = "standby";
  document.body.append(audio);
  const ifActive = (handler: () => void) => () => audio === active && handler();
  audio.addEventListener("timeupdate", ifActive(onTimeUpdate));
  audio.addEventListener("durationchange", ifActive(() => (playback.duration = finite(audio.duration, playback.duration))));
  audio.addEventListener("playing", ifActive(() => ((playback.buffering = false), (playback.playing = true), preloadNext())));
  audio.addEventListener("waiting", ifActive(() => (playback.buffering = true)));
  audio.addEventListener("pause", ifActive(() => (clearTimeout(handover), !audio.ended && (playback.playing = false))));
  audio.addEventListener("seeked", ifActive(() => seeked(audio.currentTime)));
  audio.addEventListener("ended", ifActive(onEnded));
  audio.addEventListener("error", ifActive(onError));
  return audio;
}

const finite = (value: number, fallback: number) => (Number.isFinite(value) ? value : fallback);

function load(audio: HTMLAudioElement, entry: QueueEntry): void {
  audio.dataset.key = entry.key;
  audio.dataset.trackId = entry.track.id;
  audio.src = streamUrl(entry.track);
  void applyGain(audio);
}

function swap(): void {
  [active, standby] = [standby, active];
  active.dataset.player = "active";
  standby.dataset.player = "standby";
}

/** Makes the active element hold the current entry (from the standby one when it was preloaded). */
function showCurrent(play: boolean): void {
  clearTimeout(handover);
  const entry = current.value;
  if (!entry) {
    active.pause();
    active.removeAttribute("src");
    delete active.dataset.key;
    Object.assign(playback, { playing: false, position: 0, duration: 0 });
    return;
  }
  if (active.dataset.key !== entry.key) {
    active.pause();
    if (standby.dataset.key === entry.key) swap();
    else load(active, entry);
    if (active.currentTime) active.currentTime = 0;
    playback.position = 0;
    playback.duration = (entry.track.durationMs ?? 0) / 1000;
    startListening(entry.track.id);
  }
  if (play) void start();
  else preloadNext();
}

async function start(): Promise<void> {
  playback.playing = true;
  active.preload = "auto";
  // ReplayGain's GainNodes need an AudioContext, which a browser only lets run after a click: made here.
  connectGain(active);
  connectGain(standby);
  resumeGain();
  try {
    await active.play();
  } catch (error) {
    // AbortError: a newer load replaced this one. NotAllowedError: the browser wants a click first.
    if ((error as DOMException).name !== "AbortError") playback.playing = false;
  }
}

function preloadNext(): void {
  const i = nextIndex(true);
  const entry = queue.entries[i];
  if (!entry || i === queue.index || standby.dataset.key === entry.key) return;
  load(standby, entry);
}

/** Times the handover to the preloaded next track from the latest position (each timeupdate refines it). */
function scheduleHandover(): void {
  clearTimeout(handover);
  const remaining = finite(active.duration, 0) - active.currentTime;
  const i = nextIndex(true);
  const next = queue.entries[i];
  const ready = next && i !== queue.index && standby.dataset.key === next.key && standby.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA;
  if (!ready || active.paused || remaining <= 0 || remaining > 1) return;
  handover = setTimeout(() => !active.paused && onEnded(), ((remaining - HANDOVER_SECONDS) * 1000) / active.playbackRate);
}

function onTimeUpdate(): void {
  playback.position = active.currentTime;
  scheduleHandover();
  listened(active.currentTime, finite(active.duration, playback.duration));
  if (Date.now() - lastSave > 5000) {
    lastSave = Date.now();
    saveQueue(active.currentTime);
  }
}

function onEnded(): void {
  clearTimeout(handover);
  const i = nextIndex(true);
  if (i < 0) {
    playback.playing = false;
    active.currentTime = 0;
    return;
  }
  if (i === queue.index) {
    active.currentTime = 0;
    startListening(current.value!.track.id);
    void start();
    return;
  }
  queue.index = i;
  showCurrent(true);
}

/** Only a track someone asked to hear is worth a notice (a restored queue may point at a track gone since). */
function onError(): void {
  const entry = current.value;
  if (!active.getAttribute("src") || !entry || !playback.playing) return;
  playback.playing = false;
  notify(`“${entry.track.title}” could not be played`, "error");
}

// --- controls used by the UI, the keyboard shortcuts and the Media Session ---

export function playTracks(tracks: PlayerTrack[], start = 0): void {
  if (!tracks.length) return;
  replaceQueue(tracks, start);
  showCurrent(true);
}

export function jumpTo(i: number): void {
  if (i < 0 || i >= queue.entries.length) return;
  queue.index = i;
  showCurrent(true);
}

export function togglePlay(): void {
  if (!current.value) return;
  if (playback.playing) active.pause();
  else void start();
}

export function pause(): void {
  active.pause();
}

export function play(): void {
  if (current.value) void start();
}

export function next(): void {
  const i = nextIndex(false);
  if (i >= 0) {
    queue.index = i;
    showCurrent(playback.playing);
  }
}

/** Back to the start of the track, or to the previous one within its first three seconds. */
export function previous(): void {
  if (active.currentTime > 3 || (queue.index <= 0 && queue.repeat !== "all")) {
    seek(0);
    return;
  }
  queue.index = previousIndex();
  showCurrent(playback.playing);
}

export function seek(seconds: number): void {
  const duration = finite(active.duration, playback.duration);
  const to = Math.max(0, Math.min(seconds, duration || seconds));
  clearTimeout(handover);
  active.currentTime = to;
  playback.position = to;
}

export function setVolume(volume: number): void {
  queue.volume = Math.max(0, Math.min(1, volume));
  queue.muted = false;
}

export function toggleMute(): void {
  queue.muted = !queue.muted;
}

/** Creates the audio elements and restores the saved queue and position (paused). */
export function initPlayer(): void {
  if (active) return;
  active = createElement();
  standby = createElement();
  active.dataset.player = "active";
  restoreQueue();
  const entry = current.value;
  if (entry) {
    const position = queue.savedPosition;
    active.preload = "metadata";
    load(active, entry);
    startListening(entry.track.id);
    playback.duration = (entry.track.durationMs ?? 0) / 1000;
    playback.position = position;
    active.addEventListener("loadedmetadata", () => (active.currentTime = position), { once: true });
  }
  watch(() => current.value?.key, () => showCurrent(playback.playing));
  watch(() => queue.entries[nextIndex(true)]?.key, () => playback.playing && preloadNext());
  watch(
    () => [queue.volume, queue.muted] as const,
    ([volume, muted]) => {
      for (const audio of [active, standby]) {
        audio.volume = volume;
        audio.muted = muted;
      }
    },
    { immediate: true },
  );
  watch(replayGainMode, () => {
    for (const audio of [active, standby]) void applyGain(audio);
  });
  // Keep the position when the page goes away (reload, tab closed, phone locks).
  addEventListener("pagehide", () => saveQueue(active.currentTime));
  document.addEventListener("visibilitychange", () => document.hidden && saveQueue(active.currentTime));
}

/** Stops playback and empties the queue (on log out). */
export function stopAndForget(): void {
  active?.pause();
  replaceQueue([]);
  showCurrent(false);
}
