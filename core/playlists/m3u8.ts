import { checkEntryCount, cleanText, toEntry, validDuration, type ParsedPlaylist, type PlaylistEntry } from "./playlist-entry.ts";

// `#EXTINF:<seconds>[ key="value" ...],<label>`: IPTV-style attributes may hold commas inside quotes.
const EXTINF = /^#EXTINF:\s*(-?\d+(?:\.\d+)?)?((?:\s+[\w-]+="[^"]*")*)\s*,(.*)$/i;

/** Extended M3U in UTF-8: `#EXTINF:<seconds>,<Artist> - <Title>`, then the path or URL line. */
export function parseM3u8(text: string): ParsedPlaylist {
  let name: string | null = null;
  let pending: Partial<PlaylistEntry> | null = null;
  const entries: PlaylistEntry[] = [];
  const push = (values: Partial<PlaylistEntry>) => {
    checkEntryCount(entries.length + 1);
    entries.push(toEntry(values));
  };
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (!line.startsWith("#")) {
      push({ ...pending, location: line });
      pending = null;
    } else if (/^#EXTINF:/i.test(line)) {
      if (pending) push(pending); // an #EXTINF without its path line still names a song
      pending = extinf(line);
    } else if (/^#PLAYLIST:/i.test(line)) name = cleanText(line.slice(10)) || null;
    else if (/^#EXTALB:/i.test(line) && pending) pending.album = line.slice(8);
  }
  if (pending) push(pending);
  return { name, description: null, entries };
}

function extinf(line: string): Partial<PlaylistEntry> {
  const match = EXTINF.exec(line);
  const seconds = match?.[1] ? Number(match[1]) : NaN;
  const label = match ? match[3]! : line.slice(line.indexOf(",") + 1);
  const dash = label.indexOf(" - ");
  return {
    durationMs: validDuration(seconds * 1000),
    artist: dash >= 0 ? label.slice(0, dash) : "",
    title: dash >= 0 ? label.slice(dash + 3) : label,
  };
}

export function toM3u8(name: string, entries: PlaylistEntry[]): string {
  const line = (value: string) => value.replace(/[\r\n]+/g, " ");
  const out = ["#EXTM3U", `#PLAYLIST:${line(name)}`];
  for (const e of entries) {
    const label = e.artist ? `${e.artist} - ${e.title}` : e.title;
    const seconds = e.durationMs === null ? -1 : Math.round(e.durationMs / 1000);
    out.push(`#EXTINF:${seconds},${line(label)}`);
    if (e.album) out.push(`#EXTALB:${line(e.album)}`);
    // A path line must follow #EXTINF; an unavailable song gets a bare name that players skip.
    out.push(line(e.location ?? (label.replace(/[\\/]/g, "_") || "unknown")));
  }
  return out.join("\n") + "\n";
}
