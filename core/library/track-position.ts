/**
 * A track's place on its album, the one rule every list, queue and match follows: a track without a disc
 * number is on disc 1. Taggers often write DISCNUMBER on some files of an album only, and a missing one
 * must neither sort before the tagged ones nor make a second copy of a song look like another track.
 *
 * The column keeps what the file said (null: no tag) and the rule applies when rows are read or matched,
 * so it holds for rows imported before it, and an album that later gains a disc 2 needs no rewrite.
 */

/** SQL: the disc a track of row alias `t` is on. */
export const discNumberSql = (t: string) => `coalesce(${t}.disc_number, 1)`;

/** SQL ORDER BY terms: disc, then track number (unnumbered tracks last on their disc), then title. */
export const albumOrderSql = (t: string) => `${discNumberSql(t)}, ${t}.track_number NULLS LAST, ${t}.normalized_title, ${t}.id`;

/** Whether two disc numbers (null: no tag) name the same disc. */
export const sameDisc = (a: number | null, b: number | null) => (a ?? 1) === (b ?? 1);
