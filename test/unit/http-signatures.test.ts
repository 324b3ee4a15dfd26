import { describe, expect, it } from "vitest";
import { generateActorKeys } from "../../core/accounts/key-pairs.ts";
import { actorOfKeyId, parseSignatureHeader, signatureHeaders, verifySignature } from "../../core/fediverse/http-signatures.ts";
import { alternateLink } from "../../core/fediverse/remote-documents.ts";

const keys = await generateActorKeys();
const other = await generateActorKeys();
const keyId = "https://a.example/actors/alice#main-key";
const url = new URL("https://b.example/federation/libraries/1?page=2");
const sign = () => signatureHeaders("GET", url, { keyId, privateJwk: keys.rsaPrivateJwk });
const publicKeyOf = async (id: string) => (id === keyId ? keys.rsaPublicJwk : null);

describe("draft-cavage signatures of our signed GETs", () => {
  it("signs (request-target) with the query, host and date, rsa-sha256, as Funkwhale expects", () => {
    const headers = sign();
    const fields = parseSignatureHeader(headers.signature!)!;
    expect(fields).toMatchObject({ keyId, algorithm: "rsa-sha256", headers: "(request-target) host date" });
    expect(headers.host).toBe("b.example");
    expect(Math.abs(Date.parse(headers.date!) - Date.now())).toBeLessThan(2000);
  });

  it("verifies what it signed, and names the signer's actor", async () => {
    const result = await verifySignature({ method: "GET", url, headers: sign() }, publicKeyOf);
    expect(result).toEqual({ ok: true, keyId });
    expect(actorOfKeyId(keyId)).toBe("https://a.example/actors/alice");
  });

  it("refuses another query, path or method: the query is signed", async () => {
    const headers = sign();
    for (const [method, other] of [
      ["GET", "https://b.example/federation/libraries/1?page=3"],
      ["GET", "https://b.example/federation/libraries/2?page=2"],
      ["POST", url.href],
    ] as const) {
      const result = await verifySignature({ method, url: new URL(other), headers }, publicKeyOf);
      expect(result).toEqual({ ok: false, reason: "signature does not match" });
    }
  });

  it("refuses a signature made with another key, an unknown key, a stale date, a missing header", async () => {
    const forged = signatureHeaders("GET", url, { keyId, privateJwk: other.rsaPrivateJwk });
    expect(await verifySignature({ method: "GET", url, headers: forged }, publicKeyOf)).toMatchObject({ ok: false, reason: "signature does not match" });
    const stranger = signatureHeaders("GET", url, { keyId: "https://c.example/x#main-key", privateJwk: keys.rsaPrivateJwk });
    expect(await verifySignature({ method: "GET", url, headers: stranger }, publicKeyOf)).toMatchObject({ ok: false, reason: /unknown key/ });
    const later = Date.now() + 10 * 60_000;
    expect(await verifySignature({ method: "GET", url, headers: sign() }, publicKeyOf, later)).toMatchObject({ ok: false, reason: /Date/ });
    expect(await verifySignature({ method: "GET", url, headers: {} }, publicKeyOf)).toMatchObject({ ok: false, reason: "no Signature header" });
    const withoutHost = { ...sign(), signature: sign().signature!.replace('headers="(request-target) host date"', 'headers="(request-target) date"') };
    expect(await verifySignature({ method: "GET", url, headers: withoutHost }, publicKeyOf)).toMatchObject({ ok: false, reason: "host is not signed" });
  });

  it("signs a body's Digest when there is one", async () => {
    const headers = signatureHeaders("POST", url, { keyId, privateJwk: keys.rsaPrivateJwk }, "{}");
    expect(headers.digest).toBe("SHA-256=RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=");
    expect(parseSignatureHeader(headers.signature!)!.headers).toBe("(request-target) host date digest");
    expect(await verifySignature({ method: "POST", url, headers }, publicKeyOf)).toEqual({ ok: true, keyId });
  });
});

describe("alternateLink", () => {
  it("finds the first ActivityPub alternate of a page's head, absolute", () => {
    const html = `<html><head><link rel="stylesheet" href="/a.css"><link rel="alternate" type="application/rss+xml" href="/feed">
      <link rel="alternate" type="application/activity+json" href="/federation/libraries/9?x=1&amp;y=2"></head></html>`;
    expect(alternateLink(html, "https://a.example/libraries/9")).toBe("https://a.example/federation/libraries/9?x=1&y=2");
    expect(alternateLink("<html><head></head></html>", "https://a.example/")).toBeNull();
  });
});
