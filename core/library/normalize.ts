/** The key names are matched on: Unicode NFC, case-folded, whitespace collapsed. Accents are kept. */
export function normalizeName(value: string): string {
  return value.normalize("NFC").toLocaleLowerCase("en").replace(/\s+/gu, " ").trim();
}

export const VARIOUS_ARTISTS = { name: "Various Artists", mbid: "89ad4ac3-39f7-470e-963a-56509c546377" };
export const UNKNOWN_ARTIST = "Unknown Artist";
export const UNKNOWN_ALBUM = "Unknown Album";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** MusicBrainz ids from tags are sometimes junk; only well-formed UUIDs are trusted. */
export function validMbid(value: string | null | undefined): string | null {
  const trimmed = value?.trim().toLowerCase();
  return trimmed && UUID.test(trimmed) ? trimmed : null;
}
