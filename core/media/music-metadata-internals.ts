/**
 * One of music-metadata's own modules (a path under its lib/, e.g. "ogg/vorbis/Vorbis.js"), the very one the
 * package loaded (same file URL, so the same classes): where the import's speed-ups (ogg-picture-decoding.ts,
 * ogg-picture-skipping.ts, shared-tag-maps.ts) change one method each. Its exports are unknown until
 * checked: a later version may have moved or renamed them.
 */
export async function musicMetadataModule(file: string): Promise<Record<string, unknown>> {
  const url = new URL(`./${file}`, import.meta.resolve("music-metadata"));
  return (await import(url.href)) as Record<string, unknown>;
}
