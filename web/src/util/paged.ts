// Page-by-page loading for grids and lists (offset/limit pages of the REST API).
import { ref, shallowRef } from "vue";
import type { Page } from "../types.ts";
import { notifyError } from "../stores/toasts.ts";

export function usePaged<T>(fetchPage: (offset: number, limit: number) => Promise<Page<T>>, limit = 60) {
  const items = shallowRef<T[]>([]);
  const total = ref<number | null>(null);
  const loading = ref(false);
  const done = ref(false);
  let generation = 0;

  async function more(): Promise<void> {
    if (loading.value || done.value) return;
    loading.value = true;
    const mine = generation;
    try {
      const page = await fetchPage(items.value.length, limit);
      if (mine !== generation) return;
      items.value = [...items.value, ...page.items];
      total.value = page.total;
      done.value = items.value.length >= page.total || page.items.length === 0;
    } catch (error) {
      notifyError(error);
      done.value = true;
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  /** Starts over (filters or sort changed, or new music arrived). */
  function reset(): Promise<void> {
    generation++;
    items.value = [];
    total.value = null;
    loading.value = false;
    done.value = false;
    return more();
  }

  return { items, total, loading, done, more, reset };
}
