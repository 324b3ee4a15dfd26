import type { ListenSource } from "../../core/listens/listening.entity.ts";

/** `listen.source` of listens from /2.0/ and from AudioScrobbler 1.2 (the player's name goes in `client`). */
export const LASTFM_SOURCE: ListenSource = "lastfm";
export const AUDIOSCROBBLER_SOURCE: ListenSource = "audioscrobbler";
