import type { ListenSource } from "../../core/listens/listening.entity.ts";

/** The `listen.source` of listens from /2.0/ and AudioScrobbler 1.2 (the player's name goes in `client`). */
export const LASTFM_SOURCE = "lastfm" as ListenSource;
