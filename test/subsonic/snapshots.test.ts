import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasFfmpeg } from "../fixtures/audio.ts";
import { conformanceCatalog, type ConformanceCatalog } from "./conformance-catalog.ts";
import { rest, tokenParams } from "./helpers.ts";
import { expectXmlLikeJson } from "./schema.ts";
import { formatXml, type XmlElement } from "./xml.ts";

// The JSON and XML of the main response types, kept as files beside this test (__snapshots__/conformance):
// a change of shape (a field renamed, dropped, moved, retyped) fails here and shows in review. What
// changes from run to run (ids, dates, the server version, file sizes) is replaced by placeholders.

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Placeholders numbered in order of appearance, so a song's albumId still visibly equals its album's id. */
function normalizer() {
  const ids = new Map<string, string>();
  const scalar = (key: string, value: unknown): unknown => {
    if (key === "serverVersion") return "{serverVersion}";
    if (key === "size") return "{size}";
    if (typeof value !== "string" || key === "musicBrainzId") return value;
    if (ISO_DATE.test(value)) return "{date}";
    return value.replace(UUID, (id) => ids.get(id) ?? (ids.set(id, `{id${ids.size + 1}}`), ids.get(id)!));
  };
  const json = (value: unknown, key = ""): unknown => {
    if (Array.isArray(value)) return value.map((v) => json(v, key));
    if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, json(v, k)]));
    return scalar(key, value);
  };
  const xml = (node: XmlElement): XmlElement => ({
    name: node.name,
    attributes: Object.fromEntries(Object.entries(node.attributes).map(([k, v]) => [k, String(scalar(k, v))])),
    text: String(scalar(node.name, node.text)),
    children: node.children.map(xml),
  });
  return { json, xml };
}

describe.skipIf(!hasFfmpeg())("Subsonic JSON and XML snapshots of the main types", () => {
  let c: ConformanceCatalog;
  beforeAll(async () => {
    c = await conformanceCatalog();
  });
  afterAll(async () => {
    await c?.close();
  });

  const SNAPSHOTS: [name: string, method: string, params: () => Record<string, string>][] = [
    ["song", "getSong", () => ({ id: c.id["Come Together"]! })],
    ["album-with-songs", "getAlbum", () => ({ id: c.id["Abbey Road"]! })],
    ["artist-with-albums", "getArtist", () => ({ id: c.id["Björk"]! })],
    ["playlist-with-entries", "getPlaylist", () => ({ id: c.id["Road Trip"]! })],
    ["search3", "search3", () => ({ query: "beatles" })],
    ["error", "getAlbum", () => ({ id: "00000000-0000-4000-8000-000000000000" })],
  ];

  for (const [name, method, params] of SNAPSHOTS) {
    it(`${name} (${method})`, async () => {
      const json = (await rest(c.app.url, method, { ...tokenParams(c.alice), f: "json", ...params() })).json;
      const xml = expectXmlLikeJson((await rest(c.app.url, method, { ...tokenParams(c.alice), ...params() })).text, json);
      await expect(`${JSON.stringify(normalizer().json({ "subsonic-response": json }), null, 2)}\n`).toMatchFileSnapshot(
        `__snapshots__/conformance/${name}.json`,
      );
      await expect(`${formatXml(normalizer().xml(xml))}\n`).toMatchFileSnapshot(`__snapshots__/conformance/${name}.xml`);
    });
  }
});
