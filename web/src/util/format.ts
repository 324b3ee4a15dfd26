// Formatting helpers shared by pages.

/** 3:07, or 1:02:03 past an hour. */
export function duration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return "";
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export function creditText(artists: { name: string; joinPhrase: string }[]): string {
  return artists.map((a) => a.name + a.joinPhrase).join("");
}

/** The album cover URL at a size the grid needs (covers are stored at 64, 256 and 600 px). */
export function cover(url: string | null | undefined, size: 64 | 256 | 600 = 256): string | null {
  return url ? `${url}?size=${size}&format=webp` : null;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} kB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function date(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleDateString() : "";
}
