import { createHash, randomBytes } from "node:crypto";
import SubsonicAPI from "subsonic-api";
import type { TestClient } from "../helpers/client.ts";

export interface Credentials {
  username: string;
  password: string;
  apiKey: string;
}

/** Signs the person up and reads their Subsonic credentials, as the web UI's settings page would. */
export async function subsonicCredentials(client: TestClient, username: string): Promise<Credentials> {
  await client.signup(username);
  return (await client.get("/api/v1/me/subsonic")).body as Credentials;
}

export function tokenParams(creds: Credentials): Record<string, string> {
  const salt = randomBytes(8).toString("hex");
  const t = createHash("md5").update(creds.password + salt).digest("hex");
  return { u: creds.username, t, s: salt, v: "1.16.1", c: "test" };
}

export interface RestResponse {
  status: number;
  type: string;
  text: string;
  headers: Headers;
  bytes: Buffer;
  /** The `subsonic-response` object of a JSON answer. */
  json: any;
}

/** A raw Subsonic call: GET with the parameters in the query, or a formPost body. */
export async function rest(
  baseUrl: string,
  method: string,
  params: Record<string, string | string[]>,
  options: { post?: boolean; headers?: Record<string, string> } = {},
): Promise<RestResponse> {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) for (const v of [value].flat()) search.append(key, v);
  const url = new URL(`/rest/${method}`, baseUrl);
  if (!options.post) url.search = search.toString();
  const response = await fetch(url, {
    method: options.post ? "POST" : "GET",
    headers: { ...(options.post ? { "content-type": "application/x-www-form-urlencoded" } : {}), ...options.headers },
    body: options.post ? search.toString() : undefined,
  });
  const type = response.headers.get("content-type") ?? "";
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = type.includes("audio") || type.includes("image") ? "" : bytes.toString("utf8");
  const json = type.includes("application/json") ? JSON.parse(text)["subsonic-response"] : undefined;
  return { status: response.status, type, text, headers: response.headers, bytes, json };
}

/** A `subsonic-api` client; `onMethod` hears the name of each method it calls (to check coverage). */
export function apiClient(
  baseUrl: string,
  auth: { username: string; password: string } | { apiKey: string },
  post = false,
  onMethod?: (method: string) => void,
) {
  const fetcher: typeof fetch = async (input, init) => {
    onMethod?.(new URL(String(input)).pathname.replace(/^.*\/rest\//, "").replace(/\.view$/, ""));
    return fetch(input, init);
  };
  return new SubsonicAPI({ url: baseUrl, auth, post, fetch: fetcher });
}
