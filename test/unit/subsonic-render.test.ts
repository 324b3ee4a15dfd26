import { describe, expect, it } from "vitest";
import { render, textElem, type Elem } from "../../server/subsonic/response.ts";

// The JSON writer copies only the elements on the way to a `$text`: the rest is handed to
// JSON.stringify as it is. These pin the shape it must give either way, and that the tree is untouched.

const json = (body: Elem) => JSON.parse(render({ kind: "json" }, body).text)["subsonic-response"];

describe("Subsonic JSON rendering", () => {
  it("names text content `value`, makes text-only children strings and keeps key order, at any depth", () => {
    const body: Elem = {
      status: "ok",
      lyricsList: {
        structuredLyrics: [
          { lang: "eng", synced: true, line: [{ start: 0, $text: "First" }, { start: 1500, $text: "Second" }] },
          { lang: "und", synced: false, line: [{ $text: "Plain" }] },
        ],
      },
      artistInfo2: { biography: textElem("Bio"), similarArtist: [{ id: "a", name: "A" }] },
    };
    const before = structuredClone(body);
    const out = json(body);
    expect(Object.keys(out)).toEqual(["status", "lyricsList", "artistInfo2"]);
    expect(out.lyricsList.structuredLyrics).toEqual([
      { lang: "eng", synced: true, line: [{ start: 0, value: "First" }, { start: 1500, value: "Second" }] },
      { lang: "und", synced: false, line: [{ value: "Plain" }] },
    ]);
    expect(Object.keys(out.lyricsList.structuredLyrics[0].line[0])).toEqual(["start", "value"]);
    expect(out.artistInfo2).toEqual({ biography: "Bio", similarArtist: [{ id: "a", name: "A" }] });
    expect(body).toEqual(before); // the kept tree is never changed by rendering
  });

  it("leaves out undefined values and keeps one-element lists as arrays", () => {
    const out = json({ status: "ok", album: { id: "1", starred: undefined, song: [{ id: "s", genre: undefined, genres: [] }] } });
    expect(out.album).toEqual({ id: "1", song: [{ id: "s", genres: [] }] });
    expect("starred" in out.album).toBe(false);
  });

  it("renders the same tree as XML attributes, text and repeated children", () => {
    const { text } = render({ kind: "xml" }, { status: "ok", genres: { genre: [{ songCount: 2, $text: "Rock & Roll" }] } });
    expect(text).toContain('<genres><genre songCount="2">Rock &amp; Roll</genre></genres>');
  });
});
