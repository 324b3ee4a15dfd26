// Counts a play like a scrobbler does: once the track has really been heard for half its length or
// four minutes, whichever comes first (seeking ahead does not count as listening); and reports the track
// as playing now once it really plays.
import { api } from "../api.ts";
import { session } from "../stores/session.ts";

const FOUR_MINUTES = 240;

let trackId: string | null = null;
let heard = 0;
let last = 0;
let sent = false;
let announced = false;

export function startListening(id: string): void {
  trackId = id;
  heard = 0;
  last = 0;
  sent = false;
  announced = false;
}

/** Called on every timeupdate of the playing element. */
export function listened(currentTime: number, duration: number): void {
  const step = currentTime - last;
  last = currentTime;
  if (step > 0 && step < 2) heard += step;
  // Playing for real (not just loaded): what the user plays now, for the people here who may see it.
  if (!announced && heard > 0 && trackId && session.user) {
    announced = true;
    api.post(`/tracks/${trackId}/now-playing`).catch((error: unknown) => console.warn("now playing not reported", error));
  }
  if (sent || !trackId || !session.user || !Number.isFinite(duration) || duration <= 0) return;
  if (heard >= Math.min(duration / 2, FOUR_MINUTES)) {
    sent = true;
    api.post(`/tracks/${trackId}/plays`).catch((error: unknown) => console.warn("play not recorded", error));
  }
}

/** A seek jumps without listening. */
export function seeked(currentTime: number): void {
  last = currentTime;
}
