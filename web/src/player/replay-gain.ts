// ReplayGain in the web player (issue 20): off, track or album gain, as chosen in the settings (kept in this
// browser). Each track's gain comes from GET /tracks/:id (its tags, else computed from the measured loudness)
// and is applied by a Web Audio GainNode behind each <audio> element, lowered when the peak would clip.
import { ref, watch } from "vue";
import { api } from "../api.ts";

export type ReplayGainMode = "off" | "track" | "album";
export interface ReplayGain {
  trackGain?: number | null;
  trackPeak?: number | null;
  albumGain?: number | null;
  albumPeak?: number | null;
}

const STORAGE_KEY = "polyphony.replayGain";
const stored = localStorage.getItem(STORAGE_KEY);
export const replayGainMode = ref<ReplayGainMode>(stored === "track" || stored === "album" ? stored : "off");
watch(replayGainMode, (mode) => localStorage.setItem(STORAGE_KEY, mode));

const gains = new Map<string, Promise<ReplayGain | null>>();

/** A track's ReplayGain values, read once per track and page. */
export function replayGainOf(trackId: string): Promise<ReplayGain | null> {
  let gain = gains.get(trackId);
  if (!gain) {
    gain = api.get<{ replayGain?: ReplayGain | null }>(`/tracks/${trackId}`).then((t) => t.replayGain ?? null, () => null);
    gains.set(trackId, gain);
  }
  return gain;
}

/**
 * The gain to apply in dB and as a factor: the album's in album mode (the track's when the album has none)
 * and the other way round, never so much that the peak goes over full scale.
 */
export function gainToApply(gain: ReplayGain | null, mode: ReplayGainMode): { db: number; factor: number } {
  if (mode === "off" || !gain) return { db: 0, factor: 1 };
  const [db, peak] = mode === "album"
    ? [gain.albumGain ?? gain.trackGain, gain.albumPeak ?? gain.trackPeak]
    : [gain.trackGain ?? gain.albumGain, gain.trackPeak ?? gain.albumPeak];
  if (db == null) return { db: 0, factor: 1 };
  let factor = 10 ** (db / 20);
  if (peak && peak > 0) factor = Math.min(factor, 1 / peak);
  return { db: Math.round(20 * Math.log10(factor) * 100) / 100, factor };
}

let context: AudioContext | null = null;
const nodes = new WeakMap<HTMLAudioElement, GainNode>();

/** Routes the element through a GainNode (once; needs a user gesture first, so called when playback starts). */
export function connectGain(audio: HTMLAudioElement): void {
  if (nodes.has(audio) || replayGainMode.value === "off" || typeof AudioContext === "undefined") return;
  context ??= new AudioContext();
  const node = context.createGain();
  context.createMediaElementSource(audio).connect(node).connect(context.destination);
  nodes.set(audio, node);
  void applyGain(audio);
}

export function resumeGain(): void {
  if (context?.state === "suspended") void context.resume();
}

/** Sets the element's gain for the track it holds (`data-track-id`); shown as `data-replay-gain` (dB) and `data-gain-factor`. */
export async function applyGain(audio: HTMLAudioElement): Promise<void> {
  const trackId = audio.dataset.trackId;
  const mode = replayGainMode.value;
  const gain = trackId && mode !== "off" ? await replayGainOf(trackId) : null;
  if (audio.dataset.trackId !== trackId) return; // another track was loaded meanwhile
  const { db, factor } = gainToApply(gain, mode);
  audio.dataset.replayGain = String(db);
  const node = nodes.get(audio);
  if (!node) return;
  node.gain.value = factor;
  audio.dataset.gainFactor = node.gain.value.toFixed(4); // what the GainNode really multiplies by
}
