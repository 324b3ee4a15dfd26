import { bestCopySql, visibleLibraryIdsSql, visiblePlaylistsSql } from "../catalog/catalog-read.ts";
import { discNumberSql } from "../library/track-position.ts";

// Two statements over search_document (migrations/0005-search.sql):
// - PREPARE_SQL ($1 the query as typed, $2 the viewer's id or null) normalises the query, lists the
//   libraries the viewer may see and picks, per group, the visible names that start with the query.
//   It is planned for its values: "the" wants 20 names read in index order, "zyx" a few fetched.
// - SEARCH_SQL ($1 normalised query, $2 tsquery, $3 visible libraries, $4 viewer, $5 limit per
//   group, $6 the prefix candidates, $7 the tsquery on names only) adds word and typo candidates,
//   ranks and shapes each group. It runs as a prepared statement with a generic plan: planning it
//   took longer than running it.

export const GROUPS = ["artists", "albums", "tracks", "playlists"] as const;
export type SearchGroup = (typeof GROUPS)[number];

const KIND: Record<SearchGroup, string> = { artists: "artist", albums: "album", tracks: "track", playlists: "playlist" };

/**
 * How many candidates each way of matching offers a group before ranking. The caps only bite for
 * queries matching thousands of names ("love"); the prefix candidates, read in name order, keep the
 * exact and as-you-type matches among them.
 */
const PREFIX_CANDIDATES = 20;
const WORD_CANDIDATES = 50;
const FUZZY_CANDIDATES = 50;
/**
 * Typos are looked for in queries up to this long (normalised): most names are that short, and a GIN
 * trigram scan grows with the query's trigrams (18 ms for "love night heart dream fire", 120 ms for
 * 200 characters of common words).
 */
const FUZZY_MAX_LENGTH = 32;

/**
 * Music carries the libraries that hold it (with none visible, nothing is read: an anonymous visitor
 * of a private server would otherwise make each index scan check every name); playlists have their
 * own owner and privacy.
 */
const visible = (group: SearchGroup, alias: string, libraries: string, viewer: string) =>
  group === "playlists"
    ? `EXISTS (SELECT 1 FROM playlist p WHERE p.id = ${alias}.id AND ${visiblePlaylistsSql("p", viewer)})`
    : `cardinality(${libraries}) > 0 AND search_visible(${alias}.library_ids, ${libraries})`;

function prefixed(group: SearchGroup): string {
  return `(SELECT d.id FROM search_document d WHERE d.kind = '${KIND[group]}' AND search_normalize($1) <> ''
    AND d.name_key >= search_normalize($1) AND d.name_key < search_normalize($1) || chr(1114111)
    AND ${visible(group, "d", "v.libraries", "$2")} ORDER BY d.name_key LIMIT ${PREFIX_CANDIDATES})`;
}

export const PREPARE_SQL = `WITH viewer AS MATERIALIZED (
    SELECT ${visibleLibraryIdsSql("$2")} AS libraries)
  SELECT search_normalize($1) AS text, search_tsquery($1)::text AS tsquery, search_tsquery($1, 'A')::text AS name_tsquery,
    v.libraries, ARRAY(${GROUPS.map(prefixed).join(" UNION ALL ")}) AS prefixed
  FROM viewer v`;

const QUERY = "$1::text";
const TSQUERY = "$2::tsquery";

const documents = (group: SearchGroup, alias: string) =>
  `SELECT ${alias}.id FROM search_document ${alias} WHERE ${alias}.kind = '${KIND[group]}' AND ${visible(group, alias, "$3::uuid[]", "$4")}`;

/**
 * Candidates of one group: the names starting with the query; when fewer than a group's worth, the
 * names with every word, the last as a prefix (GIN tsvector; "the national ant"); when still fewer,
 * names close in trigrams for typos (GIN trigram; `<%` is word similarity above
 * pg_trgm.word_similarity_threshold). Names starting with the query rank in the top tier (see SCORE),
 * typos in the lowest, so a later way can only add names that would rank below a full group, or tie:
 * with 10 names starting with "love", "Crazy Love" is left out, which spares "the" a bitmap of 25,000
 * tracks.
 */
function candidates(group: SearchGroup): string {
  return `${group}_prefixed AS MATERIALIZED (SELECT d.id FROM search_document d WHERE d.id = ANY($6::uuid[]) AND d.kind = '${KIND[group]}'),
  ${group}_words AS MATERIALIZED (${documents(group, "w")} AND w.document @@ ${TSQUERY}
    AND (SELECT count(*) FROM ${group}_prefixed) < $5 LIMIT ${WORD_CANDIDATES}),
  ${group}_fuzzy AS MATERIALIZED (${documents(group, "f")} AND ${QUERY} <% f.name_key AND length(${QUERY}) <= ${FUZZY_MAX_LENGTH}
    AND (SELECT count(*) FROM ${group}_prefixed) + (SELECT count(*) FROM ${group}_words) < $5 LIMIT ${FUZZY_CANDIDATES})`;
}

/**
 * How close a name is: the whole of it (exact, then short names containing the query), a part of it
 * (as-you-type), whole words of it (typos: "beatels" is nearer "the beatles" than "beatallica").
 */
const CLOSENESS = `similarity(${QUERY}, d.name_key) + word_similarity(${QUERY}, d.name_key) + strict_word_similarity(${QUERY}, d.name_key)`;

/**
 * Best first, in tiers: every word in the name ($7: the tsquery on weight A), then every word in the
 * name and credited artists together ("kid a radiohead"), then typos; within a tier by closeness, and
 * a little by the credited artists ("bjork" puts Björk's albums before Björk Guðmundsdóttir's).
 */
const SCORE = `CASE WHEN d.document @@ $7::tsquery THEN 10 + ${CLOSENESS}
    WHEN d.document @@ ${TSQUERY} THEN 5 + ts_rank(d.document, ${TSQUERY}) ELSE ${CLOSENESS} END
  + 0.5 * similarity(${QUERY}, d.extra_key)`;

function ranked(group: SearchGroup): string {
  return `${candidates(group)},
  ${group}_ranked AS (
    SELECT d.id, d.name_key, ${SCORE} AS score
    FROM (SELECT id FROM ${group}_prefixed UNION SELECT id FROM ${group}_words UNION SELECT id FROM ${group}_fuzzy) c
    JOIN search_document d ON d.id = c.id
    ORDER BY score DESC, d.name_key, d.id LIMIT $5)`;
}

/** The album whose cover stands for a hit, or null without art (the HTTP layer makes it a URL). */
const coverAlbum = (album: string) => `CASE WHEN ${album}.cover_hash IS NOT NULL THEN ${album}.id END`;
/** The credits in order, or the one artist when a row has none. */
const credits = (column: "track_id" | "album_id", id: string, artist: string) =>
  `coalesce((SELECT json_agg(json_build_object('id', c.artist_id, 'name', c.credited_name, 'joinPhrase', c.join_phrase) ORDER BY c.position)
    FROM artist_credit c WHERE c.${column} = ${id}), json_build_array(json_build_object('id', ${artist}.id, 'name', ${artist}.name, 'joinPhrase', '')))`;
/** The duration of the copy the track streams: visible, lossless first, then the highest bitrate. */
const duration = `(${bestCopySql("t.id", { libraries: "$3::uuid[]" }, "u.duration_ms")})`;

/** Each group's item and the rows it is built from: its few ranked rows only. */
const ITEMS: Record<SearchGroup, { item: string; from: string }> = {
  artists: {
    item: `json_build_object('id', ar.id, 'name', ar.name, 'musicBrainzId', ar.mbid)`,
    from: "artists_ranked r JOIN artist ar ON ar.id = r.id",
  },
  albums: {
    item: `json_build_object('id', a.id, 'title', a.title, 'artists', ${credits("album_id", "a.id", "aa")},
      'year', a.year, 'compilation', a.compilation, 'coverAlbumId', ${coverAlbum("a")})`,
    from: "albums_ranked r JOIN album a ON a.id = r.id JOIN artist aa ON aa.id = a.album_artist_id",
  },
  tracks: {
    item: `json_build_object('id', t.id, 'title', t.title, 'artists', ${credits("track_id", "t.id", "ta")},
      'album', json_build_object('id', a.id, 'title', a.title), 'year', a.year, 'discNumber', ${discNumberSql("t")},
      'trackNumber', t.track_number, 'durationMs', ${duration}, 'coverAlbumId', ${coverAlbum("a")})`,
    from: "tracks_ranked r JOIN track t ON t.id = r.id JOIN album a ON a.id = t.album_id JOIN artist ta ON ta.id = t.artist_id",
  },
  playlists: {
    item: `json_build_object('id', p.id, 'name', p.name, 'description', p.description, 'privacy', p.privacy,
      'owner', json_build_object('id', o.id, 'username', coalesce(o.username, ro.username || '@' || ro.domain, pa.username || '@' || pa.domain)),
      'itemCount', (SELECT count(*)::int FROM playlist_item i WHERE i.playlist_id = p.id))`,
    // A playlist followed from another server has no owner here: its remote owner's handle (else its actor's) stands for one.
    from: `playlists_ranked r JOIN playlist p ON p.id = r.id JOIN actor pa ON pa.id = p.actor_id LEFT JOIN app_user o ON o.id = p.owner_id
      LEFT JOIN actor ro ON ro.id = p.remote_owner_id`,
  },
};

/** One statement for every group (one round trip): rows (grp, item), best first within a group. */
export const SEARCH_SQL = `WITH ${GROUPS.map(ranked).join(",\n")}
  ${GROUPS.map((g) => `SELECT '${g}' AS grp, r.score, r.name_key, ${ITEMS[g].item} AS item FROM ${ITEMS[g].from}`).join("\n  UNION ALL ")}
  ORDER BY grp, score DESC, name_key`;
