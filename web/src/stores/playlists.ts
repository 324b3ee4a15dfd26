// The signed-in person's playlists, kept for "Add to playlist" menus.
import { ref } from "vue";
import { api } from "../api.ts";
import type { Page, Playlist } from "../types.ts";
import { notify } from "./toasts.ts";

export const myPlaylists = ref<Playlist[]>([]);
let loaded = false;

export async function loadMyPlaylists(force = false): Promise<Playlist[]> {
  if (loaded && !force) return myPlaylists.value;
  const page = await api.get<Page<Playlist>>("/playlists", { limit: 200 });
  myPlaylists.value = page.items;
  loaded = true;
  return page.items;
}

export async function createPlaylist(name: string): Promise<Playlist> {
  const playlist = await api.post<Playlist>("/playlists", { name });
  await loadMyPlaylists(true);
  return playlist;
}

export async function addToPlaylist(playlist: Playlist, trackIds: string[]): Promise<void> {
  await api.post(`/playlists/${playlist.id}/items`, { trackIds });
  notify(`Added to ${playlist.name}`);
  void loadMyPlaylists(true);
}

export function forgetPlaylists(): void {
  myPlaylists.value = [];
  loaded = false;
}
