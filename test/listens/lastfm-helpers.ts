import { createHash } from "node:crypto";
import { parseXml, type XmlElement } from "../subsonic/xml.ts";
import type { TestClient } from "../helpers/client.ts";

export const md5 = (text: string) => createHash("md5").update(text, "utf8").digest("hex");

/** api_sig as Last.fm documents it, written here independently of the server's code. */
export function sign(params: Record<string, string>, secret: string): string {
  const names = Object.keys(params).filter((k) => k !== "format" && k !== "callback").sort();
  return md5(names.map((k) => k + params[k]).join("") + secret);
}

export interface LfmApp {
  id: string;
  apiKey: string;
  secret: string;
  name: string;
  createdAt: string;
}

export async function registerApp(client: TestClient, name: string): Promise<LfmApp> {
  const response = await client.post("/api/v1/lastfm/apps", { name });
  if (response.status !== 201) throw new Error(`app not created: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as LfmApp;
}

export interface LfmReply {
  status: number;
  type: string;
  text: string;
  /** The `<lfm>` root of an XML answer. */
  xml?: XmlElement;
  json?: any;
}

/**
 * One call to /2.0/ as a scrobbler sends it: a form-encoded POST (or a GET with a query), `api_key`
 * added, signed with the secret unless `sig` says otherwise (false: no api_sig; a string: that one).
 */
export async function lastfm(
  baseUrl: string,
  params: Record<string, string>,
  options: { app?: LfmApp; get?: boolean; sig?: false | string; path?: string } = {},
): Promise<LfmReply> {
  const all: Record<string, string> = { ...(options.app ? { api_key: options.app.apiKey } : {}), ...params };
  if (options.sig !== false) all.api_sig = typeof options.sig === "string" ? options.sig : sign(all, options.app?.secret ?? "");
  const body = new URLSearchParams(all).toString();
  const url = new URL(options.path ?? "/2.0/", baseUrl);
  if (options.get) url.search = body;
  const response = await fetch(url, {
    method: options.get ? "GET" : "POST",
    headers: options.get ? {} : { "content-type": "application/x-www-form-urlencoded" },
    body: options.get ? undefined : body,
  });
  const text = await response.text();
  const type = response.headers.get("content-type") ?? "";
  return {
    status: response.status,
    type,
    text,
    xml: type.includes("xml") ? parseXml(text) : undefined,
    json: type.includes("json") ? JSON.parse(text) : undefined,
  };
}

export const child = (element: XmlElement | undefined, name: string): XmlElement => {
  const found = element?.children.find((c) => c.name === name);
  if (!found) throw new Error(`no <${name}> in ${JSON.stringify(element)}`);
  return found;
};

/** `<lfm status="failed"><error code="N">`: the code, or null when the call succeeded. */
export function errorCode(reply: LfmReply): number | null {
  if (reply.json) return reply.json.error ?? null;
  return reply.xml?.attributes.status === "failed" ? Number(child(reply.xml, "error").attributes.code) : null;
}
