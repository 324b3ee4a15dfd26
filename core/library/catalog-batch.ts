import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { ArtistCreditTag, TrackTags } from "../media/tags.ts";
import { albumArtistCredits, catalogLockKeys, creditsOrUnknown, type CreatedRows, lockKeys } from "./catalog-writer.ts";
import { normalizeName, UNKNOWN_ALBUM, validMbid } from "./normalize.ts";
import { sameDisc } from "./track-position.ts";

/**
 * The bulk path of the importer: one transaction and about a dozen statements for a whole chunk of
 * first-time imports, with the same matching rules as catalog-writer.ts (MusicBrainz ids first, then
 * normalised names), applied in memory to the candidate rows fetched in one query per table.
 */

export interface BatchItem {
  uploadId: string;
  libraryId: string;
  originalName: string;
  tags: TrackTags;
  checksum: string;
}

export type BatchOutcome = { kind: "finished"; trackId: string } | { kind: "skipped"; duplicateOf: string };

interface ArtistRow { id: string; mbid: string | null; normalized_name: string }
interface AlbumRow { id: string; mbid: string | null; cover_hash: string | null; album_artist_id: string; normalized_title: string; year: number | null }
interface TrackRow { id: string; album_id: string; mbid: string | null; release_track_mbid: string | null; normalized_title: string; disc_number: number | null; track_number: number | null }

const json = (rows: object[]) => JSON.stringify(rows);

/** `created`, when given, collects the ids of the artists, albums and tracks inserted (not matched). */
export async function commitBatch(
  client: pg.PoolClient,
  items: (BatchItem & { coverHash: string | null })[],
  created?: CreatedRows,
): Promise<Map<string, BatchOutcome>> {
  await lockKeys(client, items.flatMap((i) => [`dup:${i.libraryId}:${i.checksum}`, ...catalogLockKeys(i.tags)]));
  const outcomes = new Map<string, BatchOutcome>();
  const fresh = await dropDuplicates(client, items, outcomes);
  await coverDuplicatesAlbums(client, items.filter((i) => i.coverHash && outcomes.get(i.uploadId)?.kind === "skipped"));
  const artists = await new ArtistResolver(client, created).resolveAll(fresh.map((i) => i.tags));
  const albumIds = await resolveAlbums(client, fresh, artists, created);
  const trackIds = await resolveTracks(client, fresh, albumIds, artists, created);
  fresh.forEach((item, n) => outcomes.set(item.uploadId, { kind: "finished", trackId: trackIds[n]! }));
  return outcomes;
}

/** Same bytes already finished in the library, or earlier in this chunk: the later one is skipped. */
async function dropDuplicates<T extends BatchItem>(client: pg.PoolClient, items: T[], outcomes: Map<string, BatchOutcome>): Promise<T[]> {
  const { rows } = await client.query<{ library_id: string; checksum: string; original_name: string }>(
    `SELECT library_id, checksum, original_name FROM upload WHERE status = 'finished'
       AND library_id = ANY($1::uuid[]) AND checksum = ANY($2::text[])
       AND (library_id, checksum) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))`,
    [items.map((i) => i.libraryId), items.map((i) => i.checksum)],
  );
  const seen = new Map(rows.map((r) => [`${r.library_id}|${r.checksum}`, r.original_name]));
  return items.filter((item) => {
    const key = `${item.libraryId}|${item.checksum}`;
    const duplicateOf = seen.get(key);
    if (duplicateOf !== undefined) outcomes.set(item.uploadId, { kind: "skipped", duplicateOf });
    else seen.set(key, item.originalName);
    return duplicateOf === undefined;
  });
}

/**
 * A copy of a file already in the library may come with the cover its first copy lacked (a folder
 * imported after the files were uploaded): the album that has none takes it.
 */
async function coverDuplicatesAlbums(client: pg.PoolClient, skipped: (BatchItem & { coverHash: string | null })[]): Promise<void> {
  if (!skipped.length) return;
  await client.query(
    `UPDATE album a SET cover_hash = x.cover_hash
     FROM jsonb_to_recordset($1::jsonb) AS x(library_id uuid, checksum text, cover_hash text)
     JOIN upload u ON u.library_id = x.library_id AND u.checksum = x.checksum AND u.status = 'finished'
     JOIN track t ON t.id = u.track_id
     WHERE a.id = t.album_id AND a.cover_hash IS NULL`,
    [json(skipped.map((i) => ({ library_id: i.libraryId, checksum: i.checksum, cover_hash: i.coverHash })))],
  );
}

const artistKey = (c: ArtistCreditTag) => `${normalizeName(c.name)}|${validMbid(c.mbid) ?? ""}`;

class ArtistResolver {
  readonly #client: pg.PoolClient;
  readonly #created: CreatedRows | undefined;
  readonly #byKey = new Map<string, string>();
  #rows: (ArtistRow & { order: number })[] = [];

  constructor(client: pg.PoolClient, created?: CreatedRows) {
    this.#client = client;
    this.#created = created;
  }

  /** Every credit of every file resolved to an artist id, keyed by artistKey. */
  async resolveAll(tagsList: TrackTags[]): Promise<Map<string, string>> {
    const credits = tagsList.flatMap((t) => [...creditsOrUnknown(t.artists), ...albumArtistCredits(t, creditsOrUnknown(t.artists))]);
    const { rows } = await this.#client.query<ArtistRow>(
      `SELECT id, mbid, normalized_name FROM artist WHERE mbid = ANY($1::uuid[]) OR normalized_name = ANY($2::text[])
       ORDER BY created_at`,
      [credits.flatMap((c) => validMbid(c.mbid) ?? []), credits.map((c) => normalizeName(c.name))],
    );
    this.#rows = rows.map((r, order) => ({ ...r, order }));
    const inserts: object[] = [];
    const adoptions: object[] = [];
    for (const credit of credits) {
      const key = artistKey(credit);
      if (!this.#byKey.has(key)) this.#byKey.set(key, this.#resolve(credit, inserts, adoptions));
    }
    if (inserts.length) {
      await this.#client.query(
        `INSERT INTO artist (id, name, normalized_name, mbid)
         SELECT id, name, normalized_name, mbid FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, name text, normalized_name text, mbid uuid)`,
        [json(inserts)],
      );
    }
    if (adoptions.length) {
      await this.#client.query(
        `UPDATE artist a SET mbid = x.mbid, name = x.name FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, mbid uuid, name text)
         WHERE a.id = x.id AND a.id = ANY($2::uuid[])`,
        [json(adoptions), adoptions.map((a) => (a as { id: string }).id)],
      );
    }
    return this.#byKey;
  }

  /** As catalog-writer's resolveArtist: id match, else a name match that has no conflicting id. */
  #resolve(credit: ArtistCreditTag, inserts: object[], adoptions: object[]): string {
    const normalized = normalizeName(credit.name);
    const mbid = validMbid(credit.mbid);
    const byId = mbid ? this.#rows.find((r) => r.mbid === mbid) : undefined;
    if (byId) return byId.id;
    const byName = this.#rows
      .filter((r) => r.normalized_name === normalized)
      .sort((a, b) => Number(a.mbid !== null) - Number(b.mbid !== null) || a.order - b.order)[0];
    if (byName && (!mbid || !byName.mbid)) {
      if (mbid) {
        byName.mbid = mbid;
        adoptions.push({ id: byName.id, mbid, name: credit.name });
      }
      return byName.id;
    }
    const row = { id: randomUUID(), mbid, normalized_name: normalized, order: this.#rows.length };
    this.#rows.push(row);
    inserts.push({ id: row.id, name: credit.name, normalized_name: normalized, mbid });
    this.#created?.artists.add(row.id);
    return row.id;
  }
}

async function resolveAlbums(
  client: pg.PoolClient,
  items: (BatchItem & { coverHash: string | null })[],
  artists: Map<string, string>,
  created?: CreatedRows,
): Promise<string[]> {
  const keys = items.map(({ tags, coverHash }) => {
    const credits = albumArtistCredits(tags, creditsOrUnknown(tags.artists));
    const title = tags.album ?? UNKNOWN_ALBUM;
    return { tags, coverHash, credits, title, normalized: normalizeName(title), mbid: validMbid(tags.mbids.release), artistId: artists.get(artistKey(credits[0]!))! };
  });
  const { rows } = await client.query<AlbumRow>(
    `SELECT id, mbid, cover_hash, album_artist_id, normalized_title, year FROM album
     WHERE mbid = ANY($1::uuid[]) OR (album_artist_id = ANY($2::uuid[]) AND normalized_title = ANY($3::text[])) ORDER BY created_at`,
    [keys.flatMap((k) => k.mbid ?? []), keys.map((k) => k.artistId), keys.map((k) => k.normalized)],
  );
  const inserts: object[] = [];
  const credits: object[] = [];
  const updates = new Map<string, AlbumRow>();
  const ids = keys.map((k) => {
    const found =
      (k.mbid ? rows.find((r) => r.mbid === k.mbid) : undefined) ??
      rows.find((r) => r.album_artist_id === k.artistId && r.normalized_title === k.normalized && r.year === k.tags.year && (!k.mbid || !r.mbid));
    if (found) {
      if ((k.mbid && !found.mbid) || (k.coverHash && !found.cover_hash)) {
        found.mbid ??= k.mbid;
        found.cover_hash ??= k.coverHash;
        updates.set(found.id, found);
      }
      return found.id;
    }
    const row: AlbumRow = { id: randomUUID(), mbid: k.mbid, cover_hash: k.coverHash, album_artist_id: k.artistId, normalized_title: k.normalized, year: k.tags.year };
    rows.push(row);
    created?.albums.add(row.id);
    inserts.push({ ...row, title: k.title, release_date: k.tags.date, release_group_mbid: validMbid(k.tags.mbids.releaseGroup), compilation: k.tags.compilation });
    k.credits.forEach((c, position) => credits.push({ album_id: row.id, artist_id: artists.get(artistKey(c)), position, credited_name: c.name, join_phrase: c.joinPhrase }));
    return row.id;
  });
  if (inserts.length) {
    await client.query(
      `INSERT INTO album (id, title, normalized_title, album_artist_id, year, release_date, mbid, release_group_mbid, compilation, cover_hash)
       SELECT id, title, normalized_title, album_artist_id, year, release_date, mbid, release_group_mbid, compilation, cover_hash
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, title text, normalized_title text, album_artist_id uuid, year int,
         release_date text, mbid uuid, release_group_mbid uuid, compilation boolean, cover_hash text)`,
      [json(inserts)],
    );
    await insertCredits(client, "album_id", credits);
  }
  if (updates.size) {
    await client.query(
      `UPDATE album a SET mbid = coalesce(a.mbid, x.mbid), cover_hash = coalesce(a.cover_hash, x.cover_hash)
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, mbid uuid, cover_hash text) WHERE a.id = x.id AND a.id = ANY($2::uuid[])`,
      [json([...updates.values()]), [...updates.keys()]],
    );
  }
  return ids;
}

async function insertCredits(client: pg.PoolClient, owner: "track_id" | "album_id", credits: object[]): Promise<void> {
  await client.query(
    `INSERT INTO artist_credit (id, ${owner}, artist_id, position, credited_name, join_phrase)
     SELECT gen_random_uuid(), ${owner}, artist_id, position, credited_name, join_phrase
     FROM jsonb_to_recordset($1::jsonb) AS x(${owner} uuid, artist_id uuid, position int, credited_name text, join_phrase text)`,
    [json(credits)],
  );
}

/** As catalog-writer's findTrack: release-track id, then recording id on the album, then title + disc + number (if named by tags or folders). */
function matchTrack(rows: TrackRow[], albumId: string, tags: TrackTags, normalized: string): TrackRow | undefined {
  const releaseTrack = validMbid(tags.mbids.track);
  const recording = validMbid(tags.mbids.recording);
  return (
    (releaseTrack ? rows.find((r) => r.release_track_mbid === releaseTrack) : undefined) ??
    (recording ? rows.find((r) => r.album_id === albumId && r.mbid === recording) : undefined) ??
    (tags.identifiedByBytesOnly
      ? undefined
      : rows.find((r) => r.album_id === albumId && r.normalized_title === normalized && sameDisc(r.disc_number, tags.discNumber) && r.track_number === tags.trackNumber))
  );
}

async function resolveTracks(
  client: pg.PoolClient,
  items: BatchItem[],
  albumIds: string[],
  artists: Map<string, string>,
  created?: CreatedRows,
): Promise<string[]> {
  const { rows } = await client.query<TrackRow>(
    `SELECT id, album_id, mbid, release_track_mbid, normalized_title, disc_number, track_number FROM track
     WHERE release_track_mbid = ANY($1::uuid[]) OR album_id = ANY($2::uuid[])`,
    [items.flatMap((i) => validMbid(i.tags.mbids.track) ?? []), [...new Set(albumIds)]],
  );
  const inserts: object[] = [];
  const credits: object[] = [];
  const genres: { track_id: string; name: string }[] = [];
  const ids = items.map(({ tags }, n) => {
    const title = tags.title ?? "Untitled";
    const normalized = normalizeName(title);
    const found = matchTrack(rows, albumIds[n]!, tags, normalized);
    if (found) return found.id;
    const trackCredits = creditsOrUnknown(tags.artists);
    const row: TrackRow = {
      id: randomUUID(), album_id: albumIds[n]!, mbid: validMbid(tags.mbids.recording), release_track_mbid: validMbid(tags.mbids.track),
      normalized_title: normalized, disc_number: tags.discNumber, track_number: tags.trackNumber,
    };
    rows.push(row);
    created?.tracks.add(row.id);
    inserts.push({ ...row, title, artist_id: artists.get(artistKey(trackCredits[0]!)), disc_total: tags.discTotal, track_total: tags.trackTotal });
    trackCredits.forEach((c, position) => credits.push({ track_id: row.id, artist_id: artists.get(artistKey(c)), position, credited_name: c.name, join_phrase: c.joinPhrase }));
    for (const name of tags.genres) genres.push({ track_id: row.id, name });
    return row.id;
  });
  if (inserts.length) {
    await client.query(
      `INSERT INTO track (id, title, normalized_title, album_id, artist_id, disc_number, disc_total, track_number, track_total, mbid, release_track_mbid)
       SELECT id, title, normalized_title, album_id, artist_id, disc_number, disc_total, track_number, track_total, mbid, release_track_mbid
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, title text, normalized_title text, album_id uuid, artist_id uuid,
         disc_number int, disc_total int, track_number int, track_total int, mbid uuid, release_track_mbid uuid)`,
      [json(inserts)],
    );
    await insertCredits(client, "track_id", credits);
    await insertGenres(client, genres);
  }
  return ids;
}

async function insertGenres(client: pg.PoolClient, links: { track_id: string; name: string }[]): Promise<void> {
  if (!links.length) return;
  // One spelling per genre key: ON CONFLICT DO UPDATE may not touch a row twice in one statement.
  const spellings = new Map<string, string>();
  for (const { name } of links) if (!spellings.has(normalizeName(name))) spellings.set(normalizeName(name), name);
  await client.query(
    `WITH g AS (
       INSERT INTO genre (id, name, normalized_name) SELECT gen_random_uuid(), n, k FROM unnest($1::text[], $2::text[]) AS x(n, k)
       ON CONFLICT (normalized_name) DO UPDATE SET name = genre.name RETURNING id, normalized_name)
     INSERT INTO track_genre (track_id, genre_id)
     SELECT DISTINCT l.track_id, g.id FROM jsonb_to_recordset($3::jsonb) AS l(track_id uuid, k text) JOIN g ON g.normalized_name = l.k
     ON CONFLICT DO NOTHING`,
    [[...spellings.values()], [...spellings.keys()], json(links.map((l) => ({ track_id: l.track_id, k: normalizeName(l.name) })))],
  );
}
