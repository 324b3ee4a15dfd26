import { describe, expect, it } from "vitest";
import { parseActorDocument } from "../../core/fediverse/remote-actors.ts";

const actor = (extra: Record<string, unknown> = {}) => ({
  id: "https://music.example/actors/bob",
  type: "Person",
  preferredUsername: "bob",
  inbox: "https://music.example/actors/bob/inbox",
  endpoints: { sharedInbox: "https://music.example/inbox" },
  ...extra,
});

describe("parseActorDocument", () => {
  it("keeps an actor's id, name and inboxes on its own server", () => {
    expect(parseActorDocument(actor(), "https://music.example/actors/bob")).toMatchObject({
      fid: "https://music.example/actors/bob",
      username: "bob",
      domain: "music.example",
      inboxUrl: "https://music.example/actors/bob/inbox",
      sharedInboxUrl: "https://music.example/inbox",
    });
  });

  it("refuses an actor whose id or inbox is on another server: deliveries would go there unchecked", () => {
    expect(() => parseActorDocument(actor(), "https://other.example/actors/bob")).toThrow(/id is on another server/);
    expect(() => parseActorDocument(actor({ inbox: "http://169.254.169.254/latest/meta-data" }), "https://music.example/actors/bob")).toThrow(
      /inbox is on another server/,
    );
    // A shared inbox elsewhere is only dropped: the personal one still reaches the actor.
    const parsed = parseActorDocument(actor({ endpoints: { sharedInbox: "http://10.0.0.1/inbox" } }), "https://music.example/actors/bob");
    expect(parsed.sharedInboxUrl).toBeNull();
  });

  it("refuses what is not an actor", () => {
    expect(() => parseActorDocument({ id: "https://music.example/x", type: "Note" }, "https://music.example/x")).toThrow(/not an actor/);
  });
});
