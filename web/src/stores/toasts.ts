// Short notices ("Added to playlist", errors) shown in a polite live region.
import { reactive } from "vue";
import { errorMessage } from "../api.ts";

export interface Toast {
  id: number;
  text: string;
  kind: "info" | "error";
}

export const toasts = reactive<Toast[]>([]);
let nextId = 1;

export function notify(text: string, kind: Toast["kind"] = "info"): void {
  const toast = { id: nextId++, text, kind };
  toasts.push(toast);
  setTimeout(() => dismiss(toast.id), kind === "error" ? 8000 : 3500);
}

export function notifyError(error: unknown): void {
  notify(errorMessage(error), "error");
}

export function dismiss(id: number): void {
  const index = toasts.findIndex((t) => t.id === id);
  if (index >= 0) toasts.splice(index, 1);
}
