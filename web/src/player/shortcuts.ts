// Keyboard shortcuts: space play/pause, ←/→ seek 10 s, ↑/↓ volume, n/p next/previous track.
// Ignored while typing in a field (sliders are inputs too), and space is left to a focused button or link.
import { next, playback, previous, seek, setVolume, togglePlay } from "./engine.ts";
import { queue } from "./queue.ts";

const TYPING = new Set(["INPUT", "TEXTAREA", "SELECT"]);

function ignored(event: KeyboardEvent): boolean {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return true;
  const target = event.target as HTMLElement | null;
  if (!target) return false;
  if (TYPING.has(target.tagName) || target.isContentEditable) return true;
  return event.key === " " && (target.tagName === "BUTTON" || target.tagName === "A" || target.getAttribute("role") === "slider");
}

export function initShortcuts(): void {
  addEventListener("keydown", (event) => {
    if (ignored(event)) return;
    const actions: Record<string, () => void> = {
      " ": togglePlay,
      ArrowRight: () => seek(playback.position + 10),
      ArrowLeft: () => seek(playback.position - 10),
      ArrowUp: () => setVolume(queue.volume + 0.1),
      ArrowDown: () => setVolume(queue.volume - 0.1),
      n: next,
      p: previous,
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
}
