// The player as the UI sees it: queue operations and playback controls.
export { current, queue, append, insertNext, removeAt, moveEntry, clearQueue, toggleShuffle, cycleRepeat, toPlayerTrack } from "./queue.ts";
export type { PlayerTrack, QueueEntry } from "./queue.ts";
export { playback, playTracks, jumpTo, togglePlay, play, pause, next, previous, seek, setVolume, toggleMute, initPlayer, stopAndForget } from "./engine.ts";
