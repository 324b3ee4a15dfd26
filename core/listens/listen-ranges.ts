/**
 * ListenBrainz's statistics ranges (its `range` parameter), over UTC calendar periods. "this_*" is the
 * period under way (up to now: our statistics are live, so unlike ListenBrainz's daily batch there is no
 * "still last week on a Monday"); the others are the last complete period; all_time is everything.
 */
export const STATS_RANGES = ["this_week", "this_month", "this_year", "week", "month", "quarter", "year", "half_yearly", "all_time"] as const;
export type StatsRange = (typeof STATS_RANGES)[number];

export const isStatsRange = (value: string): value is StatsRange => (STATS_RANGES as readonly string[]).includes(value);

/** ListenBrainz's floor for listened_at (2002-10-01, Last.fm's beginnings); all_time starts at the year's start. */
export const LISTEN_MINIMUM_TS = 1033410600;
const ALL_TIME_FROM = Date.UTC(2002, 0, 1);

export interface RangeBounds {
  /** Inclusive start. */
  from: Date;
  /** Exclusive end. */
  to: Date;
  /** The unit listening activity is counted in, and the period before (listening activity shows both). */
  unit: "day" | "month" | "year";
  previousFrom: Date;
}

const utc = (y: number, m: number, d = 1) => new Date(Date.UTC(y, m, d));

/** Monday 00:00 UTC of the week holding `at`. */
function weekStart(at: Date): Date {
  const day = (at.getUTCDay() + 6) % 7;
  return utc(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() - day);
}

/** The period `range` names at instant `now`. */
export function rangeBounds(range: StatsRange, now = new Date()): RangeBounds {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const week = weekStart(now);
  const days = (d: Date, n: number) => utc(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + n);
  const months = (d: Date, n: number) => utc(d.getUTCFullYear(), d.getUTCMonth() + n);
  const period = (from: Date, to: Date, unit: RangeBounds["unit"], previousFrom: Date): RangeBounds => ({ from, to, unit, previousFrom });
  switch (range) {
    case "this_week":
      return period(week, days(week, 7), "day", days(week, -7));
    case "week":
      return period(days(week, -7), week, "day", days(week, -14));
    case "this_month":
      return period(utc(y, m), utc(y, m + 1), "day", utc(y, m - 1));
    case "month":
      return period(utc(y, m - 1), utc(y, m), "day", utc(y, m - 2));
    case "quarter": {
      const q = utc(y, m - (m % 3));
      return period(months(q, -3), q, "month", months(q, -6));
    }
    case "half_yearly": {
      const h = utc(y, m < 6 ? 0 : 6);
      return period(months(h, -6), h, "month", months(h, -12));
    }
    case "this_year":
      return period(utc(y, 0), utc(y + 1, 0), "month", utc(y - 1, 0));
    case "year":
      return period(utc(y - 1, 0), utc(y, 0), "month", utc(y - 2, 0));
    case "all_time":
      return period(new Date(ALL_TIME_FROM), utc(y + 1, 0), "year", new Date(ALL_TIME_FROM));
  }
}
