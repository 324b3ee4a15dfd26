import type { Request } from "express";
import { getLogger } from "../../config/logging.ts";
import { Unauthenticated } from "../../core/errors.ts";
import type { RemoteActors } from "../../core/fediverse/remote-actors.ts";

const log = getLogger(["polyphony", "fediverse", "authorized-fetch"]);

/**
 * Who signed a GET of our federation documents or media (draft-cavage, `(request-target)` with the
 * query), checked against the URL the remote server used: PUBLIC_URL + the path, and PUBLIC_URL's host
 * rather than the Host header a proxy may have rewritten (nginx's `$host` drops the port). Null when
 * the request carries no Signature: anonymous. A signature that is present but does not verify (forged, another
 * key, a stale Date, an actor we cannot read) is refused with 401 and its reason, as Funkwhale does,
 * never taken as anonymous.
 */
export function requestSigner(deps: { remoteActors: RemoteActors; publicUrl: URL }): (req: Request) => Promise<string | null> {
  return async (req) => {
    if (req.get("signature") === undefined) return null;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const url = new URL(req.originalUrl, deps.publicUrl);
    headers.host = url.host;
    const result = await deps.remoteActors.verify({ method: req.method, url, headers });
    const actor = result.ok ? await deps.remoteActors.find(result.actorFid) : null;
    if (!actor) {
      const reason = result.ok ? `the signer ${result.actorFid} is unknown` : result.reason;
      log.warning("Refused a signed {method} of {url}: {reason}", { method: req.method, url: url.href, reason });
      throw new Unauthenticated(`Invalid HTTP signature: ${reason}`);
    }
    return actor.id;
  };
}
