// A library's import status (uploads counted by status, whether a folder scan is queued), kept current:
// re-read shortly after upload events of that library arrive, and polled while a scan is queued (the
// scan walks the folder before any upload event) or, without the live stream, while imports are pending.
import { computed, onBeforeUnmount, ref, watch } from "vue";
import { api } from "../api.ts";
import { live, onUploadEvent } from "../stores/events.ts";
import type { ImportStatus } from "../types.ts";

const EVENT_DELAY_MS = 400;
const POLL_MS = 1500;

/** `libraryId` gives null while there is nothing to follow (the library is not loaded yet, or not the viewer's). */
export function useImportStatus(libraryId: () => string | null) {
  const status = ref<ImportStatus | null>(null);
  let eventTimer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;

  async function refresh(): Promise<void> {
    const id = libraryId();
    if (!id) return;
    const mine = ++generation;
    const next = await api.get<ImportStatus>(`/libraries/${id}/import-status`).catch(() => null);
    if (next && mine === generation) status.value = next;
  }

  /** A scan was just asked for: show it at once, the poll takes over from there. */
  function scanRequested(): void {
    if (status.value) status.value = { ...status.value, scanning: true };
  }

  const unsubscribe = onUploadEvent((event) => {
    if (!libraryId() || event.libraryId !== libraryId() || eventTimer) return;
    eventTimer = setTimeout(() => {
      eventTimer = undefined;
      void refresh();
    }, EVENT_DELAY_MS);
  });
  const busy = computed(() => !!status.value && (status.value.scanning || (!live.value && status.value.counts.pending > 0)));
  const poll = setInterval(() => busy.value && void refresh(), POLL_MS);
  watch(libraryId, () => {
    status.value = null;
    void refresh();
  }, { immediate: true });
  onBeforeUnmount(() => {
    unsubscribe();
    clearInterval(poll);
    clearTimeout(eventTimer);
  });

  return { status, refresh, scanRequested };
}
