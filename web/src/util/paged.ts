// Page-by-page loading for grids and lists (offset/limit pages of the REST API).
import { ref, shallowRef } from "vue";
import type { Page } from "../types.ts";
import { notifyError } from "../stores/toasts.ts";

/** The REST API's largest page. */
const MAX_LIMIT = 500;

/**
 * `keyOf` names an item: a page that overlaps what is loaded (items were added in front since) adds only
 * the new ones.
 */
export function usePaged<T>(fetchPage: (offset: number, limit: number) => Promise<Page<T>>, limit = 60, keyOf?: (item: T) => string) {
  const items = shallowRef<T[]>([]);
  const total = ref<number | null>(null);
  const loading = ref(false);
  const done = ref(false);
  let generation = 0;

  function append(loaded: T[]): T[] {
    if (!keyOf) return [...items.value, ...loaded];
    const known = new Set(items.value.map(keyOf));
    return [...items.value, ...loaded.filter((item) => !known.has(keyOf(item)))];
  }

  async function more(): Promise<void> {
    if (loading.value || done.value) return;
    loading.value = true;
    const mine = generation;
    try {
      const page = await fetchPage(items.value.length, limit);
      if (mine !== generation) return;
      items.value = append(page.items);
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

  /** Reads again as many items as are loaded, replacing them in place (no empty list in between). */
  async function reload(): Promise<void> {
    const mine = ++generation;
    loading.value = false;
    try {
      const page = await fetchPage(0, Math.min(MAX_LIMIT, Math.max(items.value.length, limit)));
      if (mine !== generation) return;
      items.value = page.items;
      total.value = page.total;
      done.value = items.value.length >= page.total || page.items.length === 0;
    } catch (error) {
      notifyError(error);
    }
  }

  return { items, total, loading, done, more, reset, reload };
}
