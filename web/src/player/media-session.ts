// Lock-screen and media-key controls (Media Session API): the current track's title, artist and artwork,
// play/pause/next/previous/seek actions and the position.
import { watch } from "vue";
import { cover } from "../util/format.ts";
import { next, pause, play, playback, previous, seek } from "./engine.ts";
import { current } from "./queue.ts";

export function initMediaSession(): void {
  if (!("mediaSession" in navigator)) return;
  const media = navigator.mediaSession;
  const actions: [MediaSessionAction, MediaSessionActionHandler][] = [
    ["play", play],
    ["pause", pause],
    ["nexttrack", next],
    ["previoustrack", previous],
    ["seekto", (details) => details.seekTime !== undefined && seek(details.seekTime)],
    ["seekbackward", (details) => seek(playback.position - (details.seekOffset ?? 10))],
    ["seekforward", (details) => seek(playback.position + (details.seekOffset ?? 10))],
  ];
  for (const [action, handler] of actions) {
    try {
      media.setActionHandler(action, handler);
    } catch {
      // Browsers without this action.
    }
  }

  watch(
    () => current.value?.track,
    (track) => {
      if (!track) {
        media.metadata = null;
        return;
      }
      const artwork = [64, 256, 600].flatMap((size) => {
        const src = cover(track.coverUrl, size as 64 | 256 | 600);
        return src ? [{ src: new URL(src, location.href).href, sizes: `${size}x${size}`, type: "image/webp" }] : [];
      });
      media.metadata = new MediaMetadata({ title: track.title, artist: track.artist, album: track.album?.title ?? "", artwork });
    },
    { immediate: true },
  );
  watch(() => playback.playing, (playing) => (media.playbackState = playing ? "playing" : "paused"));

  let lastUpdate = 0;
  watch(
    () => playback.position,
    (position) => {
      if (Math.abs(position - lastUpdate) < 5 && position > lastUpdate) return;
      lastUpdate = position;
      if (playback.duration > 0 && position <= playback.duration) {
        media.setPositionState?.({ duration: playback.duration, position, playbackRate: 1 });
      }
    },
  );
}
