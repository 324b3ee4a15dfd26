// A smart playlist's rules in words, for its page: "Tempo 120–160 BPM · minor · by tempo, descending · at most 100".
import type { FeatureRange, SmartRules } from "../types.ts";

function range(label: string, r: FeatureRange | undefined, unit = ""): string | null {
  if (!r || (r.min === undefined && r.max === undefined)) return null;
  const u = unit ? ` ${unit}` : "";
  if (r.min !== undefined && r.max !== undefined) return `${label} ${r.min}–${r.max}${u}`;
  return r.min !== undefined ? `${label} ≥ ${r.min}${u}` : `${label} ≤ ${r.max}${u}`;
}

const SORTS: Record<SmartRules["sort"]["by"], string> = {
  tempo: "tempo", energy: "energy", danceability: "danceability", loudness: "loudness",
  year: "year", title: "title", added: "date added", random: "shuffled",
};

export function describeRules(rules: SmartRules): string {
  const parts = [
    range("Tempo", rules.tempo, "BPM"),
    rules.keys?.length ? `key ${rules.keys.join("/")}` : null,
    rules.mode ?? null,
    range("energy", rules.energy),
    range("danceability", rules.danceability),
    range("loudness", rules.loudness, "LUFS"),
    rules.genres?.length ? `genre ${rules.genres.join(" or ")}` : null,
    range("year", rules.year),
    rules.minRating ? `rated ${"★".repeat(rules.minRating)} or more` : null,
  ].filter((p): p is string => p !== null);
  const order = rules.sort.by === "random" ? SORTS.random : `by ${SORTS[rules.sort.by]}, ${rules.sort.order === "desc" ? "descending" : "ascending"}`;
  return [parts.length ? parts.join(" · ") : "Every track", order, `at most ${rules.limit}`].join(" · ");
}
