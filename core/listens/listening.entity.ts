import { defineEntity, p, type InferEntity } from "@mikro-orm/core";
import { UserSchema } from "../accounts/user.entity.ts";
import { AlbumSchema, ArtistSchema, TrackSchema } from "../library/catalog.entity.ts";

// Listening data (migration 0007). Written with SQL by core/listens/*; these keep MikroORM's view whole.

const LISTEN_DEDUP_KEY =
  "(search_normalize(artist_name) || '|' || search_normalize(track_name) || '|' || coalesce(search_normalize(release_name), '')) stored";

export const LISTEN_SOURCES = ["web", "subsonic", "listenbrainz", "lastfm", "audioscrobbler", "import"] as const;
export type ListenSource = (typeof LISTEN_SOURCES)[number];

/** One play, with the track's names copied in so it outlives the track. */
export const ListenSchema = defineEntity({
  name: "Listen",
  tableName: "listen",
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(UserSchema).deleteRule("cascade"),
    track: () => p.manyToOne(TrackSchema).nullable().deleteRule("set null"),
    artist: () => p.manyToOne(ArtistSchema).nullable().deleteRule("set null"),
    album: () => p.manyToOne(AlbumSchema).nullable().deleteRule("set null"),
    listenedAt: p.datetime(),
    trackName: p.text(),
    artistName: p.text(),
    releaseName: p.text().nullable(),
    recordingMbid: p.uuid().nullable(),
    releaseMbid: p.uuid().nullable(),
    // What a ListenBrainz listen carries beyond names (migration 0023).
    releaseGroupMbid: p.uuid().nullable(),
    artistMbids: p.array().columnType("uuid[]").nullable(),
    trackNumber: p.integer().nullable(),
    additionalInfo: p.json<Record<string, unknown>>().nullable(),
    trackDurationMs: p.integer().nullable(),
    listenedMs: p.integer().nullable(),
    source: p.enum([...LISTEN_SOURCES]),
    client: p.text().nullable(),
    /** Who, what and when make a play the same play, with or without a matched track (migration 0016). */
    dedupKey: p.text().generated(LISTEN_DEDUP_KEY),
    createdAt: p.datetime().defaultRaw("now()"),
  },
  uniques: [{ properties: ["user", "listenedAt", "dedupKey"] }],
  indexes: [
    { properties: ["track", "listenedAt"] },
    { properties: ["artist", "listenedAt"] },
    { properties: ["album", "listenedAt"] },
    // Listens waiting for a track (migration 0023, core/listens/listen-ingest.ts linkUnmatched).
    { name: "listen_unmatched_recording_mbid_index", properties: ["recordingMbid"], where: "track_id IS NULL AND recording_mbid IS NOT NULL" },
    {
      name: "listen_unmatched_track_name_index",
      expression: "CREATE INDEX listen_unmatched_track_name_index ON listen (search_normalize(track_name)) WHERE track_id IS NULL",
    },
  ],
});

/** What a person is playing now on one player, until expiresAt. */
export const NowPlayingSchema = defineEntity({
  name: "NowPlaying",
  tableName: "now_playing",
  properties: {
    user: () => p.manyToOne(UserSchema).primary().deleteRule("cascade"),
    client: p.text().primary(),
    /** Null when a scrobbler's track matched none here (migration 0023): its names say what it is. */
    track: () => p.manyToOne(TrackSchema).nullable().deleteRule("cascade"),
    trackName: p.text(),
    artistName: p.text(),
    releaseName: p.text().nullable(),
    durationMs: p.integer().nullable(),
    source: p.text(),
    additionalInfo: p.json<Record<string, unknown>>().nullable(),
    startedAt: p.datetime(),
    expiresAt: p.datetime(),
  },
});

/** A person's saved play queue (Subsonic savePlayQueue). */
export const PlayQueueSchema = defineEntity({
  name: "PlayQueue",
  tableName: "play_queue",
  properties: {
    // A lone primary-key relation would default to ON UPDATE CASCADE; ids never change.
    user: () => p.manyToOne(UserSchema).primary().deleteRule("cascade").updateRule("no action"),
    trackIds: p.array().columnType("uuid[]"),
    currentTrack: () => p.manyToOne(TrackSchema).nullable().deleteRule("set null"),
    positionMs: p.integer().default(0),
    changedAt: p.datetime().defaultRaw("now()"),
    changedBy: p.text(),
  },
});

export type Listen = InferEntity<typeof ListenSchema>;
export type NowPlaying = InferEntity<typeof NowPlayingSchema>;
export type PlayQueue = InferEntity<typeof PlayQueueSchema>;
