import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { Federation } from "@fedify/fedify";
import type { Request as ExpressRequest, RequestHandler } from "express";
import { isPageLoad } from "./web-ui.ts";

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

/**
 * Mounts Fedify in Express 5 (there is no @fedify/express for Fedify 2). Fedify sees only the paths it
 * routes, and never a page load (an actor URL opened in a browser): Fedify logs every other request as a
 * 404 or 406 warning, though the web UI answers it. What Fedify declines (a missing actor, HTML asked
 * for) falls through to the next middleware untouched too.
 */
export function fedifyMiddleware(federation: Federation<void>, origin: URL): RequestHandler {
  const context = federation.createContext(origin, undefined);
  const routedByFedify = (path: string) => FEDIFY_ENDPOINTS.test(path) || context.parseUri(new URL(path, origin)) !== null;
  return async (req, res, next) => {
    if (isPageLoad(req) || !routedByFedify(req.path)) return next();
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
