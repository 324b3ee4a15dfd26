import { defineEntity, p, type InferEntity } from "@mikro-orm/core";

/**
 * The shared catalog. The importer writes it with SQL (core/library/catalog-writer.ts); these
 * definitions keep MikroORM's view of the schema whole and serve simple reads. `fid`: the ActivityPub id of
 * a row learnt from another server (null for our own, whose ids derive from `id`).
 */
export const ArtistSchema = defineEntity({
  name: "Artist",
  tableName: "artist",
  properties: {
    id: p.uuid().primary(),
    name: p.text(),
    normalizedName: p.text().index(),
    mbid: p.uuid().nullable().unique(),
    fid: p.text().nullable().unique(),
    createdAt: p.datetime().defaultRaw("now()"),
  },
});

export const AlbumSchema = defineEntity({
  name: "Album",
  tableName: "album",
  properties: {
    id: p.uuid().primary(),
    title: p.text(),
    normalizedTitle: p.text(),
    albumArtist: () => p.manyToOne(ArtistSchema),
    year: p.integer().nullable(),
    releaseDate: p.text().nullable(),
    mbid: p.uuid().nullable().unique(),
    releaseGroupMbid: p.uuid().nullable(),
    compilation: p.boolean().default(false),
    coverHash: p.text().nullable(),
    /** A remote album's cover image as its Audio objects name it (fetched and cached when first asked for). */
    coverSourceUrl: p.text().nullable(),
    fid: p.text().nullable().unique(),
    createdAt: p.datetime().defaultRaw("now()"),
  },
  indexes: [
    { properties: ["albumArtist", "normalizedTitle"] },
    { properties: ["createdAt", "id"] },
    { properties: ["year"] },
    // Who may have a cover URL's bytes: the albums wearing it (migration 0013).
    { name: "album_cover_hash_index", properties: ["coverHash"] },
  ],
});

export const TrackSchema = defineEntity({
  name: "Track",
  tableName: "track",
  properties: {
    id: p.uuid().primary(),
    title: p.text(),
    normalizedTitle: p.text(),
    album: () => p.manyToOne(AlbumSchema).index(),
    artist: () => p.manyToOne(ArtistSchema).index(),
    discNumber: p.integer().nullable(),
    discTotal: p.integer().nullable(),
    trackNumber: p.integer().nullable(),
    trackTotal: p.integer().nullable(),
    mbid: p.uuid().nullable(),
    releaseTrackMbid: p.uuid().nullable().unique(),
    fid: p.text().nullable().unique(),
    createdAt: p.datetime().defaultRaw("now()"),
  },
  // Listens matched by recording MBID (migration 0023).
  indexes: [{ name: "track_mbid_index", properties: ["mbid"] }],
});

export type Artist = InferEntity<typeof ArtistSchema>;
export type Album = InferEntity<typeof AlbumSchema>;
export type Track = InferEntity<typeof TrackSchema>;
