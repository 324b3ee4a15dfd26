// The `lastfm` package (lastfm-node, MIT) ships no types: what lastfm-client.test.ts uses of it.
declare module "lastfm" {
  import type { EventEmitter } from "node:events";

  export interface LastFmSession extends EventEmitter {
    user: string;
    key: string;
    isAuthorised(): boolean;
    cancel(): void;
  }

  export class LastFmNode {
    constructor(options: { api_key: string; secret: string; host?: string; port?: number; useragent?: string });
    format: string;
    request(method: string, params?: Record<string, unknown>): EventEmitter;
    session(options: { user?: string; key?: string; token?: string; retryInterval?: number; handlers?: Record<string, (...args: any[]) => void> }): LastFmSession;
    update(method: "scrobble" | "nowplaying", session: LastFmSession, options: Record<string, unknown>): EventEmitter;
  }
}
