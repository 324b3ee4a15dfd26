import type { TestClient } from "./client.ts";
import { waitUntil } from "./wait.ts";

export interface ServerSentEvent {
  event: string;
  data: any;
}

export interface EventStream {
  status: number;
  headers: Headers;
  /** The JSON body of a response that is not a stream (an error). */
  body?: any;
  /** Events received so far, in order (comments such as `: ping` are not events). */
  events: ServerSentEvent[];
  /** Every raw block received, comments included. */
  blocks: string[];
  /** Resolves with the first received event (from the start) matching `match`. */
  waitFor(match: (event: ServerSentEvent) => boolean, timeoutMs?: number): Promise<ServerSentEvent>;
  /** Resolves when the server has ended the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens GET /api/v1/events (or `path`) with the client's cookie or token and parses the stream as it arrives. */
export async function openEventStream(client: TestClient, path = "/api/v1/events"): Promise<EventStream> {
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (client.cookie) headers.cookie = client.cookie;
  if (client.bearer) headers.authorization = `Bearer ${client.bearer}`;
  const response = await fetch(new URL(path, client.baseUrl), { headers, signal: abort.signal });
  const stream: EventStream = {
    status: response.status,
    headers: response.headers,
    events: [],
    blocks: [],
    waitFor: (match, timeoutMs = 60_000) => waitUntil(() => stream.events.find(match), { timeout: timeoutMs, what: "a matching server-sent event" }),
    ended: Promise.resolve(),
    close: () => abort.abort(),
  };
  if (!response.headers.get("content-type")?.startsWith("text/event-stream")) {
    const text = await response.text();
    stream.body = response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text;
    return stream;
  }
  stream.ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          stream.blocks.push(block);
          const fields = block.split("\n").filter((line) => !line.startsWith(":"));
          const event = fields.find((line) => line.startsWith("event: "))?.slice(7);
          const data = fields.filter((line) => line.startsWith("data: ")).map((line) => line.slice(6)).join("\n");
          if (event) stream.events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch (error) {
      if ((error as Error).name !== "AbortError") throw error;
    }
  })();
  stream.ended.catch(() => {});
  return stream;
}
