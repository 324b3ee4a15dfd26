import { RemoteDocumentError } from "../../core/fediverse/remote-documents.ts";
import { OutboundRefused, type RefusalReason } from "../../core/fediverse/safe-fetch.ts";
import type { ErrorBody } from "./errors.ts";

// Another server failed us (core/fediverse: safeFetch, fetchDocument): a gateway error naming that
// server and what to do, never a 500. 502 when its answer (or its address) is wrong, 503 when it
// cannot be reached, 504 when it is too slow.

const STATUS: Record<RefusalReason, number> = {
  "bad-url": 502,
  "bad-scheme": 502,
  "private-address": 502,
  "too-many-redirects": 502,
  "too-large": 502,
  timeout: 504,
  unreachable: 503,
};

const MESSAGE: Record<RefusalReason, (host: string, detail: string) => string> = {
  "bad-url": (host, detail) => `${host} pointed to an address that is not valid (${detail})`,
  "bad-scheme": (host) => `${host} pointed to an address that is neither http nor https`,
  "private-address": (host) => `${host} is on a private network, which this server does not contact`,
  "too-many-redirects": (host) => `${host} redirected too many times`,
  "too-large": (host) => `${host} sent more data than this server accepts`,
  timeout: (host) => `${host} took too long to answer; try again later`,
  unreachable: (host, detail) => `${host} cannot be reached (${detail}); check the address or try again later`,
};

const hostOf = (url: string) => (URL.canParse(url) ? new URL(url).host : url);

export function remoteErrorResponse(error: unknown): { status: number; body: ErrorBody } | undefined {
  if (error instanceof OutboundRefused) {
    const message = MESSAGE[error.reason](hostOf(error.url), error.detail);
    return { status: STATUS[error.reason], body: { error: { code: `remote_${error.reason.replaceAll("-", "_")}`, message } } };
  }
  if (error instanceof RemoteDocumentError) {
    const message = `${hostOf(error.url)} answered with something this server cannot use: ${error.detail}`;
    return { status: 502, body: { error: { code: "remote_document", message } } };
  }
  return undefined;
}
