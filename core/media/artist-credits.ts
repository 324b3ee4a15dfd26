/**
 * Artist credits from tags: a list of names (ARTISTS tags) with the join phrases found in the display string
 * (ARTIST), or, with only a display string, the display split on "feat." and its spellings. Never on "&", "and"
 * or ",": those are part of too many names ("Simon & Garfunkel", "Earth, Wind & Fire").
 */
import type { ArtistCreditTag } from "./tags.ts";

/** Trimmed, Unicode NFC, without NUL padding; null when nothing is left. */
export function cleanText(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const text = value.replaceAll("\0", "").normalize("NFC").trim();
  return text === "" ? null : text;
}

export function cleanList(values: readonly unknown[] | undefined): string[] {
  return (values ?? []).map(cleanText).filter((value): value is string => value !== null);
}

/**
 * `names`: the multi-valued artist tag (may be empty); `display`: the display string; `mbids`: MusicBrainz ids,
 * attached by position only when there is exactly one per credit (otherwise we cannot tell whose is whose).
 */
export function artistCredits(display: string | null, names: string[], mbids: string[]): ArtistCreditTag[] {
  const credits = names.length > 0 ? withJoinPhrases(names, display) : splitFeaturing(display);
  const ids = credits.length === mbids.length ? mbids : [];
  return credits.map((credit, i) => ({ name: credit.name, mbid: ids[i] ?? null, joinPhrase: credit.joinPhrase }));
}

type Credit = { name: string; joinPhrase: string };

function withJoinPhrases(names: string[], display: string | null): Credit[] {
  const found = display ? phrasesIn(display, names) : null;
  return names.map((name, i) => ({ name, joinPhrase: tidy(found?.[i] ?? defaultJoin(i, names.length)) }));
}

/** MusicBrainz's usual joining, for names we cannot find in the display string: "A, B & C". */
function defaultJoin(index: number, count: number): string {
  if (index === count - 1) return "";
  return index === count - 2 ? " & " : ", ";
}

/** The text between consecutive names, when every name appears in the display string in order. */
function phrasesIn(display: string, names: string[]): string[] | null {
  const spans: [start: number, end: number][] = [];
  let cursor = 0;
  for (const name of names) {
    const start = display.indexOf(name, cursor);
    if (start === -1) return null;
    cursor = start + name.length;
    spans.push([start, cursor]);
  }
  return spans.map(([, end], i) => (i === spans.length - 1 ? "" : display.slice(end, spans[i + 1]![0])));
}

/** " (feat. " -> " feat. ": the bracket would be left unclosed, since the last credit's join phrase is "". */
function tidy(phrase: string): string {
  return phrase.replace(/^\s*[([]\s*(?=(?:feat\.?|ft\.?|featuring)\s)/iu, " ");
}

/** "feat.", "ft", "featuring" (any case, dot optional, maybe in brackets) between whitespace. */
const FEATURING = /\s+([([]?)\s*(feat\.?|ft\.?|featuring)\s+/iu;

function splitFeaturing(display: string | null): Credit[] {
  if (!display) return [];
  const parts = display.split(new RegExp(FEATURING.source, "giu"));
  // split() with two capture groups yields [name, bracket, word, name, bracket, word, name, ...].
  const credits: Credit[] = [];
  for (let i = 0; i < parts.length; i += 3) {
    let name = parts[i]!;
    const opened = parts[i - 2];
    if (opened) name = name.replace(opened === "(" ? /\)\s*$/u : /\]\s*$/u, "");
    const word = parts[i + 2];
    credits.push({ name: name.trim(), joinPhrase: word === undefined ? "" : ` ${word} ` });
  }
  if (credits.some((credit) => credit.name === "")) return [{ name: display, joinPhrase: "" }];
  return credits;
}
