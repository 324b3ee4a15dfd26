import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { funkwhaleActivityOf } from "../../core/fediverse/funkwhale-activities.ts";
import { digestMatches } from "../../core/fediverse/http-signatures.ts";

// Which activities the raw-JSON inbox takes from Fedify (funkwhale-federation.md §3.5: by raw `type` and
// `object.type`, as Funkwhale routes them), and what they mean for live sync.

const actor = "https://pod.example/federation/actors/bob";
const upload = (n: number) => `https://pod.example/federation/music/uploads/${n}`;
const library = "https://pod.example/federation/music/libraries/0b6e3c1e-5a57-4b1a-9d7a-4c1f1f0c3a11";

describe("funkwhaleActivityOf", () => {
  it("reads Create and Update of an embedded Audio, with or without an activity id", () => {
    expect(funkwhaleActivityOf({ type: "Create", actor, object: { type: "Audio", id: upload(1), duration: 228 } })).toEqual({ kind: "audio", actor, audioIds: [upload(1)] });
    expect(funkwhaleActivityOf({ id: `${upload(1)}/activity/1`, type: "Update", actor: { id: actor }, object: { type: "Audio", id: upload(1) } }))
      .toEqual({ kind: "audio", actor, audioIds: [upload(1)] });
  });

  it("reads Delete(Audio) whose id is a string, a list, or several Audio objects", () => {
    expect(funkwhaleActivityOf({ type: "Delete", actor, object: { type: "Audio", id: [upload(1), upload(2)] } })).toEqual({ kind: "delete", actor, objectIds: [upload(1), upload(2)] });
    expect(funkwhaleActivityOf({ type: "Delete", actor, object: [{ type: "Audio", id: upload(1) }, { type: "Audio", id: upload(2) }] }))
      .toEqual({ kind: "delete", actor, objectIds: [upload(1), upload(2)] });
    expect(funkwhaleActivityOf({ type: "Delete", actor, object: { type: "Audio", id: upload(3) } })).toEqual({ kind: "delete", actor, objectIds: [upload(3)] });
  });

  it("reads Update and Delete of a Library, and Update of a Track, Album or Artist", () => {
    expect(funkwhaleActivityOf({ type: "Update", actor, object: { type: "Library", id: library, name: "New" } })).toEqual({ kind: "update-library", actor, libraryFid: library });
    expect(funkwhaleActivityOf({ type: "Delete", actor, object: { type: "Library", id: library } })).toEqual({ kind: "delete", actor, objectIds: [library] });
    const track = "https://pod.example/federation/music/tracks/1";
    expect(funkwhaleActivityOf({ type: "Update", actor, object: { type: "Track", id: track } })).toEqual({ kind: "update-music", actor, objectType: "Track", objectFid: track });
  });

  it("leaves everything else to Fedify", () => {
    for (const activity of [
      { type: "Follow", actor, object: library },
      { type: "Create", actor, object: upload(1) },
      { type: "Create", actor, object: { type: "Note", id: upload(1) } },
      { type: "Delete", actor, object: { type: "Tombstone", id: upload(1) } },
      { type: "Delete", actor, object: { type: "Album", id: upload(1) } },
      { type: "Create", actor, object: { type: "Audio", id: "not a url" } },
      { type: "Create", actor, object: [{ type: "Audio", id: upload(1) }, { type: "Note", id: upload(2) }] },
      { type: "Create", actor: "nobody", object: { type: "Audio", id: upload(1) } },
      { type: "Delete", actor, object: { type: "Audio", id: [] } },
    ]) {
      expect(funkwhaleActivityOf(activity), JSON.stringify(activity)).toBeNull();
    }
  });
});

describe("digestMatches", () => {
  const body = Buffer.from('{"type":"Create"}');
  const digest = `SHA-256=${createHash("sha256").update(body).digest("base64")}`;
  it("accepts the body's SHA-256, alone or among others, and nothing else", () => {
    expect(digestMatches(digest, body)).toBe(true);
    expect(digestMatches(`sha-512=abc, ${digest.replace("SHA-256", "sha-256")}`, body)).toBe(true);
    expect(digestMatches(digest, Buffer.from('{"type":"Delete"}'))).toBe(false);
    expect(digestMatches(undefined, body)).toBe(false);
  });
});
