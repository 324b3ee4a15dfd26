// Checks Subsonic answers against the OpenSubsonic response types: JSON against our JSON Schemas in
// ./schemas (written from the OpenSubsonic spec's openapi/ schemas: same fields, types and required
// lists; extra fields allowed, as OpenSubsonic servers add them), XML for well-formedness and for
// carrying exactly what the JSON carries (attributes, repeated elements, text for "value").
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Ajv, type AnySchema } from "ajv";
import addFormats from "ajv-formats";
import { expect } from "vitest";
import { parseXml, type XmlElement } from "./xml.ts";

const BASE = "https://schemas.polyphony.invalid/subsonic/";
const DIR = path.join(import.meta.dirname, "schemas");

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);
for (const file of readdirSync(DIR).filter((f) => f.endsWith(".json"))) {
  ajv.addSchema(JSON.parse(readFileSync(path.join(DIR, file), "utf8")) as AnySchema, `${BASE}${file}`);
}

/** What an ok answer of each method carries: [payload key, type] ("Type[]" for a list), or null for nothing. */
export const RESPONSES: Record<string, [string, string] | null> = {
  ping: null,
  getLicense: ["license", "License"],
  tokenInfo: ["tokenInfo", "TokenInfo"],
  getOpenSubsonicExtensions: ["openSubsonicExtensions", "OpenSubsonicExtension[]"],
  getMusicFolders: ["musicFolders", "MusicFolders"],
  getArtists: ["artists", "ArtistsID3"],
  getArtist: ["artist", "ArtistWithAlbumsID3"],
  getAlbum: ["album", "AlbumID3WithSongs"],
  getSong: ["song", "Child"],
  getAlbumList2: ["albumList2", "AlbumList2"],
  getAlbumList: ["albumList", "AlbumList"],
  getRandomSongs: ["randomSongs", "Songs"],
  getSongsByGenre: ["songsByGenre", "Songs"],
  getGenres: ["genres", "Genres"],
  star: null,
  unstar: null,
  setRating: null,
  scrobble: null,
  getStarred2: ["starred2", "Starred2"],
  getStarred: ["starred", "Starred"],
  getPlaylists: ["playlists", "Playlists"],
  getPlaylist: ["playlist", "PlaylistWithSongs"],
  createPlaylist: ["playlist", "PlaylistWithSongs"],
  updatePlaylist: null,
  deletePlaylist: null,
  getUser: ["user", "User"],
  getScanStatus: ["scanStatus", "ScanStatus"],
  startScan: ["scanStatus", "ScanStatus"],
  getLyricsBySongId: ["lyricsList", "LyricsList"],
  getLyrics: ["lyrics", "Lyrics"],
  getNowPlaying: ["nowPlaying", "NowPlaying"],
  search2: ["searchResult2", "SearchResult2"],
  search3: ["searchResult3", "SearchResult3"],
  getIndexes: ["indexes", "Indexes"],
  getMusicDirectory: ["directory", "Directory"],
  getPlayQueue: ["playQueue", "PlayQueue"],
  savePlayQueue: null,
  getTopSongs: ["topSongs", "Songs"],
  getSimilarSongs: ["similarSongs", "Songs"],
  getSimilarSongs2: ["similarSongs2", "Songs"],
  getArtistInfo2: ["artistInfo2", "ArtistInfo2"],
  getArtistInfo: ["artistInfo", "ArtistInfo"],
  getAlbumInfo2: ["albumInfo", "AlbumInfo"],
  getAlbumInfo: ["albumInfo", "AlbumInfo"],
};

function schemaOf(type: string): object {
  const item = { $ref: `${BASE}${type.replace(/\[\]$/, "")}.json` };
  return type.endsWith("[]") ? { type: "array", items: item } : item;
}

function validatorFor(method: string) {
  if (!(method in RESPONSES)) throw new Error(`No response type listed for ${method} in RESPONSES`);
  const payload = RESPONSES[method];
  const id = `${BASE}response/${method}`;
  return ajv.getSchema(id) ?? (ajv.addSchema({
    $id: id,
    type: "object",
    allOf: [
      { $ref: `${BASE}SubsonicSuccessResponse.json` },
      payload ? { type: "object", properties: { [payload[0]]: schemaOf(payload[1]) }, required: [payload[0]] } : {},
    ],
  }), ajv.getSchema(id)!);
}

/** Paths of nulls: clients parse `null` as a wrong type; absent fields are left out instead. */
function nullsIn(value: unknown, at = ""): string[] {
  if (value === null) return [at];
  if (typeof value !== "object") return [];
  return Object.entries(value as object).flatMap(([k, v]) => nullsIn(v, `${at}/${k}`));
}

function check(validate: ReturnType<typeof ajv.getSchema> & object, envelope: unknown, what: string): void {
  validate(envelope);
  const errors = (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
  expect(errors, `${what} against the OpenSubsonic schema`).toEqual([]);
  expect(nullsIn(envelope), `${what}: null values`).toEqual([]);
}

/** `envelope` is the `subsonic-response` object of an ok JSON answer of `method`. */
export function expectValidJson(method: string, envelope: unknown): void {
  check(validatorFor(method), envelope, `${method} (JSON)`);
}

/** A failed JSON answer with this error code. */
export function expectFailedJson(envelope: { error?: { code: number } }, code: number): void {
  check(ajv.getSchema(`${BASE}SubsonicFailureResponse.json`)!, envelope, `error ${code} (JSON)`);
  expect(envelope.error?.code).toBe(code);
}

/**
 * Parses `xml` (throws unless well-formed) and checks it is the same answer as `json` in Subsonic's XML
 * form: the `subsonic-response` root in the Subsonic namespace, scalars as attributes, objects as one
 * child element, lists as repeated elements (none when empty), "value" as text; nothing more.
 * "shape" compares names only, for two calls that made different things (ids, dates).
 */
export function expectXmlLikeJson(xml: string, json: Record<string, unknown>, compare: "values" | "shape" = "values"): XmlElement {
  const root = parseXml(xml);
  expect(root.name).toBe("subsonic-response");
  expect(root.attributes.xmlns).toBe("http://subsonic.org/restapi");
  const { xmlns: _, ...attributes } = root.attributes;
  sameContent({ ...root, attributes }, json, "subsonic-response", compare === "values");
  return root;
}

function sameContent(node: XmlElement, json: Record<string, unknown>, at: string, values: boolean): void {
  const shown = (value: unknown) => (values ? String(value) : typeof value);
  const attributes: Record<string, string> = {};
  const children: string[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (key === "value" && typeof value !== "object") continue;
    if (typeof value === "object") children.push(...[value].flat().map(() => key));
    else if (key in node.attributes) attributes[key] = shown(value);
    // Not an attribute: then a text-only element (the XSD's xs:string elements, e.g. artistInfo's URLs).
    else children.push(key);
  }
  const actual = Object.fromEntries(Object.entries(node.attributes).map(([k, v]) => [k, values ? v : typeof json[k]]));
  expect(actual, `attributes of ${at}`).toEqual(attributes);
  const text = json.value === undefined || typeof json.value === "object" ? "" : String(json.value);
  expect(values ? node.text : node.text !== "", `text of ${at}`).toBe(values ? text : text !== "");
  expect(node.children.map((c) => c.name).sort(), `child elements of ${at}`).toEqual(children.sort());
  for (const [key, value] of Object.entries(json)) {
    if (!children.includes(key)) continue;
    const elements = node.children.filter((c) => c.name === key);
    for (const [i, item] of [value].flat().entries()) {
      const element = elements[i]!;
      if (typeof item === "object" && item !== null) sameContent(element, item as Record<string, unknown>, `${at}/${key}[${i}]`, values);
      else {
        const seen = { attributes: element.attributes, text: values ? element.text : typeof item, children: element.children };
        expect(seen, `${at}/${key}[${i}]`).toEqual({ attributes: {}, text: shown(item), children: [] });
      }
    }
  }
}
