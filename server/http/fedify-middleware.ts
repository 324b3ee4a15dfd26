import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { Federation } from "@fedify/fedify";
import type { Request as ExpressRequest, RequestHandler } from "express";

/**
 * A body stream that reads the request only when Fedify pulls. `Readable.toWeb(req)` starts reading at
 * once, which drains bodies meant for routes Fedify passes through.
 */
function lazyBody(req: ExpressRequest): ReadableStream<Uint8Array> {
  let iterator: AsyncIterator<Buffer> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        iterator ??= req[Symbol.asyncIterator]();
        const { value, done } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value));
      },
      async cancel() {
        await iterator?.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

function toWebRequest(req: ExpressRequest, origin: URL): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const v of [value].flat()) if (v != null) headers.append(name, v);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  // The public origin, not the Host header: signatures are verified against the URL remote servers used.
  return new Request(new URL(req.originalUrl, origin), {
    method: req.method,
    headers,
    // A body parser before us (the inbox guard) has read the body already: hand Fedify its bytes.
    body: hasBody ? (Buffer.isBuffer(req.body) ? req.body : lazyBody(req)) : undefined,
    duplex: "half",
  } as RequestInit);
}

/** Fedify's own discovery endpoints (WebFinger, NodeInfo), which no dispatcher URI names. */
const FEDIFY_ENDPOINTS = /^\/(\.well-known|nodeinfo)\//;
const HTML_TYPES = new Set(["text/html", "application/xhtml+xml"]);
const JSON_LD_TYPES = new Set(["application/activity+json", "application/ld+json", "application/json"]);

/**
 * Fedify's own negotiation (its acceptsJsonLd, not exported): a GET of an actor or collection gets JSON-LD
 * only when it names a JSON-LD type and does not prefer HTML. Fedify declines any other (a browser,
 * curl's `*\/*`) with a 406 it logs as a warning, and the web UI answers it.
 */
export function asksForJsonLd(req: ExpressRequest): boolean {
  const types = req.accepts() as string[];
  return !HTML_TYPES.has(types[0] ?? "") && types.some((type) => JSON_LD_TYPES.has(type));
}

const NOT_FETCH_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/**
 * Mounts Fedify in Express 5 (there is no @fedify/express for Fedify 2). Fedify sees only the requests it
 * answers: its discovery endpoints, deliveries, and GETs asking for JSON-LD of a path it routes (never
 * the shared inbox, whose GET Fedify would read as a delivery and log as an error). A page load (an actor
 * URL opened in a browser or with curl) goes straight to the web UI: Fedify logs every request it declines
 * as a 404 or 406 warning. What Fedify still declines (a missing actor) falls through untouched too.
 */
export function fedifyMiddleware(federation: Federation<void>, origin: URL): RequestHandler {
  const context = federation.createContext(origin, undefined);
  const forFedify = (req: ExpressRequest) => {
    // Methods a fetch Request cannot carry (its constructor throws): not Fedify's, whatever the path.
    if (NOT_FETCH_METHODS.has(req.method)) return false;
    if (FEDIFY_ENDPOINTS.test(req.path)) return true;
    const route = context.parseUri(new URL(req.path, origin));
    if (!route) return false;
    if (req.method !== "GET" && req.method !== "HEAD") return true;
    return asksForJsonLd(req) && !(route.type === "inbox" && route.identifier === undefined);
  };
  return async (req, res, next) => {
    if (!forFedify(req)) return next();
    let passThrough = false;
    const response = await federation.fetch(toWebRequest(req, origin), {
      contextData: undefined,
      onNotFound: () => {
        passThrough = true;
        return new Response(null, { status: 404 });
      },
      onNotAcceptable: () => {
        passThrough = true;
        return new Response(null, { status: 406 });
      },
    });
    if (passThrough) return next();
    res.status(response.status);
    response.headers.forEach((value, name) => res.append(name, value));
    if (!response.body) return void res.end();
    await pipeline(Readable.fromWeb(response.body as WebReadableStream), res);
  };
}
