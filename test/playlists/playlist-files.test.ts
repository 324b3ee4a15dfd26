import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { seedTracks, type TrackSeed } from "../helpers/factories.ts";
import { countRows } from "../helpers/imports.ts";

const MBID = randomUUID();
const M3U = { "content-type": "audio/x-mpegurl" };
const XSPF = { "content-type": "application/xspf+xml" };

/** Problems that would make `xml` not well-formed: unbalanced tags, stray `<`, bare `&`. */
function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml [^?]*\?>/, "");
  for (const m of body.matchAll(/<(\/?)([\w:.-]+)(?:\s+[\w:.-]+="[^"<&]*")*\s*(\/?)>|([^<]+)|(<)/g)) {
    if (m[5]) problems.push(`stray < at ${m.index}`);
    else if (m[4] !== undefined && /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(m[4])) problems.push(`bare & in ${m[4]}`);
    else if (m[1]) {
      if (stack.pop() !== m[2]) problems.push(`unexpected </${m[2]}>`);
    } else if (m[2] && !m[3]) stack.push(m[2]);
  }
  return stack.length ? [...problems, `unclosed ${stack.join(", ")}`] : problems;
}

describe("playlist files", () => {
  let app: TestApp;
  let alice: TestClient;
  const track: Record<string, string> = {};

  beforeAll(async () => {
    app = await startTestApp();
    alice = new TestClient(app.url);
    await alice.signup("alice");
    const songs: TrackSeed[] = [
      { name: "deja", seconds: 3, tags: { TITLE: "Déjà Vu", ARTIST: "Beyoncé", ALBUM: "B'Day" } },
      { name: "recorded", tags: { TITLE: "Recorded", ARTIST: "Band", ALBUM: "Ids", MUSICBRAINZ_TRACKID: MBID } },
      { name: "weird name", tags: { TITLE: "Filename Song", ARTIST: "Somebody", ALBUM: "Files" } },
      { name: "tom", tags: { TITLE: "Tom & Jerry <Live>", ARTIST: "Duo", ALBUM: "Cartoons" } },
    ];
    const library = (await alice.post("/api/v1/libraries", { name: "Music" })).body.id;
    await seedTracks(app, library, songs);
    const { body } = await alice.get(`/api/v1/uploads?library=${library}&status=finished`);
    for (const u of body.items) track[u.originalName.replace(/\.mp3$/, "")] = u.trackId;
  });
  afterAll(async () => {
    await app?.close();
  });

  const importFile = (text: string, headers: Record<string, string>, query = "") =>
    alice.request("POST", `/api/v1/playlists/import${query}`, { body: text, headers });
  const itemsOf = async (id: string) => (await alice.get(`/api/v1/playlists/${id}`)).body.items;
  const summary = (items: any[]) => items.map(({ trackId, available, title, artist, album, durationMs, mbid }) => ({
    trackId, available, title, artist, album, durationMs, mbid,
  }));

  it("import M3U8 by artist, title and duration (any case or accents), then by file name; unmatched kept", async () => {
    const m3u = [
      "#EXTM3U", "#PLAYLIST:Imported mix",
      "#EXTINF:3,BEYONCE - deja vu", "/music/Beyonce/whatever.mp3",
      "#EXTINF:2,Nobody - Nothing", "nothing.mp3",
      "#EXTINF:60,Beyoncé - Déjà Vu", "too-long.mp3",
      "C:\\Users\\me\\Music\\weird name.mp3",
      "#EXTINF:-1,duo - TOM & JERRY <LIVE>", "https://elsewhere.example/a.mp3",
    ].join("\r\n");
    const res = await importFile(m3u, M3U);
    expect(res.status).toBe(201);
    expect(res.body.playlist).toMatchObject({ name: "Imported mix", privacy: "private", itemCount: 5, isOwner: true });
    expect(res.body.matched).toBe(3);
    expect(res.body.unmatched).toEqual([
      { position: 1, artist: "Nobody", title: "Nothing", reason: "no_match" },
      { position: 2, artist: "Beyoncé", title: "Déjà Vu", reason: "no_match" },
    ]);
    const items = await itemsOf(res.body.playlist.id);
    expect(items.map((i: any) => i.trackId)).toEqual([track.deja, null, null, track["weird name"], track.tom]);
    expect(items[0]).toMatchObject({ title: "Déjà Vu", artist: "Beyoncé", album: "B'Day", available: true });
    expect(items[1]).toMatchObject({ position: 1, title: "Nothing", artist: "Nobody", album: "", durationMs: 2000, available: false });

    const named = await importFile("#EXTINF:3,Beyonce - Deja Vu\nx.mp3\n", { "content-type": "text/plain" }, "?format=m3u8&name=Mine&privacy=instance");
    expect([named.status, named.body.playlist.name, named.body.playlist.privacy, named.body.matched]).toEqual([201, "Mine", "instance", 1]);
    const apple = await importFile("#EXTM3U\n", { "content-type": "application/vnd.apple.mpegurl" });
    expect(apple.body).toMatchObject({ playlist: { name: "Imported playlist", itemCount: 0 }, matched: 0, unmatched: [] });
  });

  it("import XSPF by MusicBrainz id first, then names, then location; entities decoded, never expanded", async () => {
    const xspf = `<?xml version="1.0" encoding="UTF-8"?>
<!-- <track><title>commented out</title></track> -->
<playlist version="1" xmlns="http://xspf.org/ns/0/">
  <title>From &lt;XSPF&gt;</title>
  <annotation>Notes &amp; more</annotation>
  <trackList>
    <track>
      <identifier>https://musicbrainz.org/recording/${MBID.toUpperCase()}</identifier>
      <title>Completely different</title><creator>Someone else</creator>
    </track>
    <track><title><![CDATA[Tom & Jerry <Live>]]></title><creator>DUO</creator><duration>1500</duration></track>
    <track><location>file:///C:/Music/weird%20name.mp3</location></track>
    <track>
      <title>Unknown &#x26; gone &xxe;</title><creator>Ghost</creator><album>Nowhere</album><duration>123000</duration>
      <extension application="https://example.org/app"><title>not this one</title></extension>
    </track>
    <track/>
  </trackList>
</playlist>`;
    const res = await importFile(xspf, XSPF);
    expect(res.status).toBe(201);
    expect(res.body.playlist).toMatchObject({ name: "From <XSPF>", description: "Notes & more", itemCount: 4 });
    expect(res.body.matched).toBe(3);
    expect(res.body.unmatched).toEqual([{ position: 3, artist: "Ghost", title: "Unknown & gone &xxe;", reason: "no_match" }]);
    const items = await itemsOf(res.body.playlist.id);
    expect(items.map((i: any) => i.trackId)).toEqual([track.recorded, track.tom, track["weird name"], null]);
    expect(items[0]).toMatchObject({ title: "Recorded", artist: "Band", mbid: MBID });
    expect(items[3]).toMatchObject({ title: "Unknown & gone &xxe;", artist: "Ghost", album: "Nowhere", durationMs: 123000, available: false });
  });

  it("export XSPF and M3U8 files that import back to the same entries", async () => {
    const source = await importFile(
      `<playlist version="1" xmlns="http://xspf.org/ns/0/"><title>Round "trip" &amp; back</title><trackList>
        <track><identifier>https://musicbrainz.org/recording/${MBID}</identifier></track>
        <track><title>Tom &amp; Jerry &lt;Live&gt;</title><creator>Duo</creator></track>
        <track><title>Gone &lt;for&gt; good</title><creator>Ghost &amp; Co</creator><album>Lost</album><duration>61000</duration></track>
        <track><title>Déjà Vu</title><creator>Beyoncé</creator></track>
      </trackList></playlist>`,
      XSPF,
    );
    const id = source.body.playlist.id;
    const original = summary(await itemsOf(id));
    expect(original.map((i) => i.available)).toEqual([true, true, false, true]);

    const xspf = await alice.get(`/api/v1/playlists/${id}/export?format=xspf`);
    expect(xspf.status).toBe(200);
    expect(xspf.headers.get("content-type")).toBe("application/xspf+xml; charset=utf-8");
    expect(xspf.headers.get("content-disposition")).toBe('attachment; filename="Round _trip_ & back.xspf"');
    expect(xmlProblems(xspf.body)).toEqual([]);
    expect(xspf.body).toContain("<title>Round &quot;trip&quot; &amp; back</title>");
    expect(xspf.body).toContain("<title>Tom &amp; Jerry &lt;Live&gt;</title>");
    expect(xspf.body).toContain(`<location>${TEST_ORIGIN}/api/v1/tracks/${track.tom}/stream</location>`);
    expect(xspf.body).toContain(`<identifier>https://musicbrainz.org/recording/${MBID}</identifier>`);
    const fromXspf = await importFile(xspf.body, XSPF);
    expect(fromXspf.body.playlist.name).toBe('Round "trip" & back');
    expect(summary(await itemsOf(fromXspf.body.playlist.id))).toEqual(original);

    const m3u = await alice.get(`/api/v1/playlists/${id}/export?format=m3u8`);
    expect(m3u.headers.get("content-type")).toBe("audio/x-mpegurl; charset=utf-8");
    expect(m3u.headers.get("content-disposition")).toBe('attachment; filename="Round _trip_ & back.m3u8"');
    expect(m3u.body.split("\n").slice(0, 5)).toEqual([
      "#EXTM3U", '#PLAYLIST:Round "trip" & back', "#EXTINF:2,Band - Recorded", "#EXTALB:Ids",
      `${TEST_ORIGIN}/api/v1/tracks/${track.recorded}/stream`,
    ]);
    const fromM3u = await importFile(m3u.body, M3U);
    expect(fromM3u.body.matched).toBe(3);
    const roundTrip = summary(await itemsOf(fromM3u.body.playlist.id));
    // M3U8 has no MusicBrainz ids: the unavailable entry comes back without one (it had none anyway).
    expect(roundTrip).toEqual(original);
  });

  it("refuse XSPF with a document type declaration, so no entity is ever defined", async () => {
    const before = await countRows(app.db.pool, "playlist");
    const xxe = `<?xml version="1.0"?>
<!DOCTYPE playlist [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<playlist version="1" xmlns="http://xspf.org/ns/0/"><title>&xxe;</title>
<trackList><track><title>&xxe;</title></track></trackList></playlist>`;
    const res = await importFile(xxe, XSPF);
    expect([res.status, res.body.error.code]).toEqual([400, "xml_dtd_not_allowed"]);
    expect(JSON.stringify(res.body)).not.toContain("root:");
    const notXspf = await importFile("<html><body>hello</body></html>", XSPF);
    expect([notXspf.status, notXspf.body.error.code]).toEqual([400, "invalid_playlist"]);
    expect(await countRows(app.db.pool, "playlist")).toBe(before);
  });

  it("refuse files over 5 MB (413) or 10000 entries (400), and unknown formats (400 naming the field)", async () => {
    const before = await countRows(app.db.pool, "playlist");
    const huge = await importFile("#EXTM3U\n" + "x".repeat(5 * 1024 * 1024), M3U);
    expect([huge.status, huge.body.error.code]).toEqual([413, "payload_too_large"]);
    const many = await importFile("a.mp3\n".repeat(10_001), M3U);
    expect([many.status, many.body.error.code]).toEqual([400, "too_many_entries"]);
    const unknown = await importFile("#EXTM3U\n", { "content-type": "text/plain" });
    expect([unknown.status, unknown.body.error.details]).toEqual([400, [{ path: "format", message: "Unknown playlist format" }]]);
    const badFormat = await importFile("#EXTM3U\n", M3U, "?format=pls");
    expect([badFormat.status, badFormat.body.error.details[0].path]).toEqual([400, "format"]);
    const json = await alice.post("/api/v1/playlists/import", { entries: [] });
    expect([json.status, json.body.error.details[0].path]).toEqual([400, "body"]);
    expect(await countRows(app.db.pool, "playlist")).toBe(before);
    const atLimit = await importFile("a.mp3\n".repeat(10_000), M3U);
    expect([atLimit.status, atLimit.body.playlist.itemCount, atLimit.body.unmatched.length]).toEqual([201, 10_000, 10_000]);
  });
});
