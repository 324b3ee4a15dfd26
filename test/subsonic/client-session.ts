import type SubsonicAPI from "subsonic-api";
import { conformanceCatalog, type ConformanceCatalog } from "./conformance-catalog.ts";
import { apiClient } from "./helpers.ts";

/**
 * The shared setup of the `subsonic-api` client tests: the conformance catalog, Alice (administrator) by
 * salted token, Bob (a listener) by API key, and the methods either client has called.
 */
export interface ClientSession {
  c: ConformanceCatalog;
  alice: SubsonicAPI;
  bob: SubsonicAPI;
  called: Set<string>;
}

export async function openClientSession(): Promise<ClientSession> {
  const c = await conformanceCatalog();
  const called = new Set<string>();
  const heard = (method: string) => called.add(method);
  return {
    c,
    called,
    alice: apiClient(c.app.url, { username: c.alice.username, password: c.alice.password }, false, heard),
    bob: apiClient(c.app.url, { apiKey: c.bob.apiKey }, false, heard),
  };
}

/** What the client answers when the server refuses: its types only describe success. */
export type Failed = { status: string; error?: { code: number; message?: string } };
export const failure = async (call: Promise<unknown>) => ((await call) as Failed).error?.code;
export const titles = (items: { title?: string; name?: string }[] | undefined) => (items ?? []).map((i) => i.title ?? i.name);
