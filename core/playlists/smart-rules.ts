import { z } from "zod";
import { KEY_TONICS } from "../analysis/track-features.ts";

// A smart playlist's rules (issue 20, point 6): every condition given must hold (AND); a condition on
// an audio feature leaves out tracks not analysed, or whose feature could not be measured. Stored as
// JSON in playlist.rules (migration 0028) and evaluated on each read (smart-playlist.queries.ts).

export const SMART_SORTS = ["tempo", "energy", "danceability", "loudness", "year", "title", "added", "random"] as const;
export type SmartSort = (typeof SMART_SORTS)[number];

export const MAX_SMART_LIMIT = 1000;

/** An inclusive range; either end may be left open, and min never exceeds max. */
const range = (lowest: number, highest: number, integer = false) => {
  const bound = integer ? z.number().int().min(lowest).max(highest) : z.number().min(lowest).max(highest);
  return z
    .strictObject({ min: bound.optional(), max: bound.optional() })
    .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, { message: "min must not exceed max", path: ["min"] });
};

export const smartRulesSchema = z.strictObject({
  /** Beats per minute. */
  tempo: range(0, 400).optional(),
  /** Any of these tonics. */
  keys: z.array(z.enum(KEY_TONICS)).min(1).max(12).optional(),
  mode: z.enum(["major", "minor"]).optional(),
  /** 0..1. */
  energy: range(0, 1).optional(),
  danceability: range(0, 1).optional(),
  /** Integrated loudness, LUFS. */
  loudness: range(-70, 10).optional(),
  /** Any of these genres (compared as the catalog compares names: case and accents aside). */
  genres: z.array(z.string().trim().min(1).max(100)).min(1).max(20).optional(),
  /** The album's year. */
  year: range(0, 9999, true).optional(),
  /** The owner's own rating of the track, at least this many stars. */
  minRating: z.number().int().min(1).max(5).optional(),
  sort: z
    .strictObject({ by: z.enum(SMART_SORTS), order: z.enum(["asc", "desc"]).default("asc") })
    .default({ by: "random", order: "asc" }),
  limit: z.number().int().min(1).max(MAX_SMART_LIMIT).default(100),
});

export type SmartRules = z.infer<typeof smartRulesSchema>;
