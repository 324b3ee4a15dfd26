import { expect } from "vitest";
import { actorOfKeyId, digestMatches, verifySignature } from "../../core/fediverse/http-signatures.ts";

const AP = { accept: "application/activity+json" };

/**
 * Verifies a delivery as Mastodon does: Digest of the body, draft-cavage signature by the key its actor
 * document publishes (or `knownKeyPem`: the key Mastodon stored, for an actor that is gone now). Returns the keyId.
 */
export async function verifyAsMastodon(request: { url: string; headers: Headers; body: string }, origin: string, knownKeyPem?: string): Promise<string> {
  expect(digestMatches(request.headers.get("digest") ?? undefined, Buffer.from(request.body))).toBe(true);
  const result = await verifySignature(
    { method: "POST", url: new URL(request.url, origin), headers: Object.fromEntries(request.headers) },
    async (keyId) => {
      if (knownKeyPem) return knownKeyPem;
      const actor = (await fetch(actorOfKeyId(keyId), { headers: AP }).then((r) => r.json())) as { publicKey: { id: string; publicKeyPem: string } };
      return actor.publicKey.id === keyId ? actor.publicKey.publicKeyPem : null;
    },
  );
  expect(result).toMatchObject({ ok: true });
  return result.ok ? result.keyId : "";
}
