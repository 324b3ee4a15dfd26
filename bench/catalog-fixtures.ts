// A synthetic catalog written straight into the tables with set-based SQL (no audio, no importer):
// artists, albums of ten tracks, credits (some "feat."), and one finished upload per track in one
// library. Names are drawn from word lists with a skew (common words are common), with accents, and
// with a few hundred real names ("The Beatles", "Björk", "Sigur Rós") among the generated ones.
import type pg from "pg";

const WORDS = `Love Night Heart Dream Fire Light Time Rain Blue Home Road River Sky Moon Sun Star Ocean Summer Winter
Heaven Ghost Shadow Gold Silver Glass Stone Paper Wild Young Lonely Broken Golden Electric Silent Secret Velvet
Midnight Morning Evening Sunday Monday Yesterday Tomorrow Forever Never Always Again Together Alone Slow Fast
Dance Song Soul Blood Tears Smile Kiss Eyes Hands Girl Boy Man Woman Baby Angel Devil King Queen City Street
Train Highway Mountain Valley Garden Forest Island Desert Window Door Wall Bridge Mirror Memory Promise Story
Letter Radio Television Machine Engine Signal Echo Thunder Lightning Storm Wind Snow Ice Flame Smoke Ashes Dust
Diamond Crystal Honey Sugar Cherry Lemon Orange Violet Scarlet Black White Red Green Silver Little Big Sweet
Bitter Strange Crazy Happy Sad Cold Warm Deep High Low Lost Found Free Open Closed Falling Rising Running Walking
Talking Dreaming Burning Shining Waiting Calling Breaking Holding Dancing Singing Crying Flying Sleeping Waking
Paradise Revolution Emotion Motion Nation Station Vision Illusion Horizon Universe Planet Galaxy Satellite Rocket
Spirit Wonder Magic Mystery Freedom Kingdom Wisdom Harmony Melody Symphony Rhapsody Serenade Lullaby Anthem Ballad
Waltz Tango Blues Boogie Groove Funk Disco Fever Heat Pressure Gravity Distance Silence Noise Static Wave Tide
Café Été Mañana Señorita Niño Corazón Canción Noël Château Garçon Fiancée Déjà Éclair Über Straße Mädchen Schön
Smörgåsbord Fjörd Ísland Ångström Hjärta Sønner Kærlighed Nuit Rêve Lumière Ciel Étoile Amour Vérité Olá Coração
Saudade Ação São Zürich Dvořák Łódź Kraków Ełk`.split(/\s+/);

const FIRST_NAMES = `John Paul George Ringo Mary Anna José Zoë Renée Björn Søren François Łukasz Chloé Inés Jürgen Noémie
Ana María Héctor Joaquín Ольга Miguel Céline Agnès Hélène Åsa Kåre Nils Ingrid Olivia Emma Liam Noah Lucas Mateo`.split(/\s+/);
const LAST_NAMES = `Smith Jones García Müller Dvořák Núñez Sørensen Dubois Lefèvre Kowalski Nowak Bräutigam Öberg
Hernández Martínez Jiménez Schröder Åberg Þórsson Brontë Gómez Rodríguez Fernández Pérez Sánchez Ramírez`.split(/\s+/);

/** Real names, so searches for them (and their misspellings) have something real to find. */
export const KNOWN_ARTISTS = `The Beatles|Björk|Sigur Rós|Radiohead|The National|Mötley Crüe|Beyoncé|Motörhead|Blue Öyster Cult
|Daft Punk|Queensrÿche|Sinéad O'Connor|Röyksopp|Múm|Hüsker Dü|Mägo de Oz|Café Tacvba|Maná|Héroes del Silencio
|Édith Piaf|Françoise Hardy|Serge Gainsbourg|Stromae|Ólafur Arnalds|Jóhann Jóhannsson|Emilíana Torrini|Of Monsters and Men
|Nirvana|Metallica|Pink Floyd|Led Zeppelin|The Rolling Stones|The Who|The Doors|The Clash|The Cure|The Smiths
|Joy Division|New Order|Depeche Mode|Kraftwerk|Massive Attack|Portishead|Air|Phoenix|Justice|Caribou|Four Tet
|Aphex Twin|Boards of Canada|Bonobo|Burial|Moderat|Apparat|Nils Frahm|Max Richter|Arvo Pärt|Antonín Dvořák
|Frédéric Chopin|Claude Debussy|Erik Satie|Maurice Ravel|Béla Bartók|Leoš Janáček|Mikael Åkerfeldt|Opeth|Mastodon
|Tool|Deftones|Bon Iver|Fleet Foxes|Arcade Fire|LCD Soundsystem|Vampire Weekend|The Strokes|Interpol|Beach House
|Grizzly Bear|Animal Collective|Sufjan Stevens|Joanna Newsom|Fiona Apple|PJ Harvey|Kate Bush|David Bowie|Prince
|Madonna|Michael Jackson|Stevie Wonder|Marvin Gaye|Aretha Franklin|Nina Simone|Miles Davis|John Coltrane
|Thelonious Monk|Charles Mingus|Bill Evans|Chet Baker|Ella Fitzgerald|Billie Holiday|Bob Dylan|Leonard Cohen
|Joni Mitchell|Neil Young|Tom Waits|Nick Cave and the Bad Seeds|Radiohead Tribute Band|Radio Birdman|Beach Boys
|The Beatles Revival|Beatallica|Sigur Rós Ensemble|Björk Guðmundsdóttir|Mùm|Jónsi|Amiina|GusGus|Hjaltalín`
  .split("|").map((n) => n.trim());

export const KNOWN_TITLES = `The National Anthem|Everything in Its Right Place|Paranoid Android|Karma Police|Hey Jude
|Yesterday|Let It Be|Come Together|Hyperballad|Jóga|Army of Me|Hoppípolla|Svefn-g-englar|Glósóli|Smells Like Teen Spirit
|Enter Sandman|Bohemian Rhapsody|Wish You Were Here|Stairway to Heaven|Paint It Black|Riders on the Storm
|London Calling|Just Like Heaven|There Is a Light That Never Goes Out|Love Will Tear Us Apart|Blue Monday
|Enjoy the Silence|Das Modell|Teardrop|Glory Box|Around the World|Harder Better Faster Stronger|One More Time
|Kid A|OK Computer|In Rainbows|Abbey Road|Revolver|Homogenic|Ágætis byrjun|Takk...|Nevermind|Dummy|Mezzanine
|Non, je ne regrette rien|La Vie en rose|Je t'aime... moi non plus|Alors on danse|Clair de lune|Gymnopédie No. 1
|Boléro|Für Elise|Spiegel im Spiegel|Kind of Blue|A Love Supreme|Blue in Green|So What|Strange Fruit|Hallelujah
|Suzanne|Both Sides Now|Heart of Gold|Hurricane|Like a Rolling Stone|Purple Rain|Billie Jean|Superstition
|Respect|Feeling Good|Heroes|Life on Mars?|Wuthering Heights|Running Up That Hill|Holocene|Skinny Love
|Wake Up|Rebellion (Lies)|Dance Yrself Clean|All My Friends|Someone Great|Last Nite|Myth|Two Weeks|My Girls`
  .split("|").map((n) => n.trim());

export interface CatalogCounts {
  artists: number;
  albums: number;
  tracks: number;
}

/** 1 + a skewed index into an array of length n (power > 1 favours the first entries), from a seed expression. */
const pick = (array: string, seed: string, power = 1.6) =>
  `(${array})[1 + floor(cardinality(${array}) * power((hashint4(${seed}) & 2147483647)::float8 / 2147483648, ${power}))::int]`;
/** 0 <= x < n from a seed expression, evenly. */
const uniform = (n: number | string, seed: string) => `((hashint4(${seed}) & 2147483647) % ${n})`;
/** One to `max` words joined by spaces, each from its own seed. */
const words = (seed: string, max: number) =>
  `array_to_string((ARRAY[${Array.from({ length: max }, (_, w) => pick("$1::text[]", `${seed} * 7 + ${w + 1}`)).join(", ")}])[1:1 + ${uniform(max, `${seed} * 13`)}], ' ')`;
/** Row ids derived from a namespace, a kind and a number: rows find each other without lookups. */
const id = (ns: string, kind: string, n: string) => `md5('${ns}-${kind}-' || ${n})::uuid`;

/**
 * Fills the catalog of `libraryId` with `tracks` tracks (ten an album, two albums an artist), all
 * visible through finished uploads of that library; about 15 s for 100k tracks. Another namespace
 * makes another catalog (same names, new rows) beside it.
 */
export async function loadCatalogFixture(pool: pg.Pool, libraryId: string, tracks = 100_000, namespace = "fixture"): Promise<CatalogCounts> {
  const counts = { tracks, albums: Math.ceil(tracks / 10), artists: Math.ceil(tracks / 20) };
  const ns = namespace.replace(/\W/g, "");
  // The search index's triggers run as they do for an import.
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(insertArtists(ns, counts.artists), [WORDS, KNOWN_ARTISTS, FIRST_NAMES, LAST_NAMES]);
    await client.query(insertAlbums(ns, counts), [WORDS, KNOWN_TITLES]);
    await client.query(insertTracks(ns, counts), [WORDS, KNOWN_TITLES]);
    await client.query(insertCredits(ns, counts));
    await client.query(insertUploads(ns, tracks), [libraryId]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
  // As a settled database would be: GIN pending lists merged, statistics, the visibility map.
  for (const table of ["artist", "album", "track", "artist_credit", "upload", "search_document"]) await pool.query(`VACUUM ANALYZE ${table}`);
  return counts;
}

/** Known names first, then "Word Word", "The Words", "First Last" and single words. */
function insertArtists(ns: string, n: number): string {
  return `
    INSERT INTO artist (id, name, normalized_name)
    SELECT ${id(ns, "artist", "i")}, name, lower(normalize(name, NFC))
    FROM (SELECT i, CASE
        WHEN i <= cardinality($2::text[]) THEN ($2::text[])[i]
        WHEN i % 4 = 0 THEN ${words("i", 2)}
        WHEN i % 4 = 1 THEN 'The ' || ${pick("$1::text[]", "i * 3")} || 's'
        WHEN i % 4 = 2 THEN ${pick("$3::text[]", "i * 5", 1)} || ' ' || ${pick("$4::text[]", "i * 11", 1)}
        ELSE ${pick("$1::text[]", "i * 17")} END AS name
      FROM generate_series(1, ${n}) i) x`;
}

/** Album j belongs to artist (j - 1) % artists + 1; one in twenty carries a real title. */
function insertAlbums(ns: string, { albums, artists }: CatalogCounts): string {
  return `
    INSERT INTO album (id, title, normalized_title, album_artist_id, year)
    SELECT ${id(ns, "album", "j")}, title, lower(normalize(title, NFC)), ${id(ns, "artist", `((j - 1) % ${artists} + 1)`)},
           1960 + ${uniform(65, "j * 19")}
    FROM (SELECT j, CASE WHEN j % 20 = 0 THEN ${pick("$2::text[]", "j * 23", 1)} ELSE ${words("j * 29", 3)} END AS title
          FROM generate_series(1, ${albums}) j) x`;
}

function insertTracks(ns: string, { tracks, artists }: CatalogCounts): string {
  return `
    INSERT INTO track (id, title, normalized_title, album_id, artist_id, disc_number, track_number, track_total)
    SELECT ${id(ns, "track", "k")}, title, lower(normalize(title, NFC)), ${id(ns, "album", "((k - 1) / 10 + 1)")},
           ${id(ns, "artist", `(((k - 1) / 10) % ${artists} + 1)`)}, 1, (k - 1) % 10 + 1, 10
    FROM (SELECT k, CASE WHEN k % 37 = 0 THEN ${pick("$2::text[]", "k * 31", 1)} ELSE ${words("k * 41", 4)} END AS title
          FROM generate_series(1, ${tracks}) k) x`;
}

/** Every album and track credits its artist; one track in twenty adds a featured artist. */
function insertCredits(ns: string, { tracks, albums, artists }: CatalogCounts): string {
  const feat = (k: string) => `${uniform(20, `${k} * 43`)} = 0`;
  return `
    INSERT INTO artist_credit (id, album_id, track_id, artist_id, position, credited_name, join_phrase)
    SELECT gen_random_uuid(), a.id, NULL, a.album_artist_id, 0, ar.name, ''
      FROM album a JOIN artist ar ON ar.id = a.album_artist_id WHERE a.id IN (SELECT ${id(ns, "album", "j")} FROM generate_series(1, ${albums}) j)
    UNION ALL
    SELECT gen_random_uuid(), NULL, ${id(ns, "track", "k")}, ${id(ns, "artist", `(((k - 1) / 10) % ${artists} + 1)`)}, 0,
           (SELECT name FROM artist WHERE id = ${id(ns, "artist", `(((k - 1) / 10) % ${artists} + 1)`)}),
           CASE WHEN ${feat("k")} THEN ' feat. ' ELSE '' END
      FROM generate_series(1, ${tracks}) k
    UNION ALL
    SELECT gen_random_uuid(), NULL, ${id(ns, "track", "k")}, ${id(ns, "artist", `(${uniform(artists, "k * 47")} + 1)`)}, 1,
           (SELECT name FROM artist WHERE id = ${id(ns, "artist", `(${uniform(artists, "k * 47")} + 1)`)}), ''
      FROM generate_series(1, ${tracks}) k WHERE ${feat("k")}`;
}

function insertUploads(ns: string, tracks: number): string {
  return `
    INSERT INTO upload (id, library_id, track_id, storage, path, original_name, size, mime_type, duration_ms, bitrate,
                        sample_rate, channels, codec, lossless, status, imported_at)
    SELECT ${id(ns, "upload", "k")}, $1, ${id(ns, "track", "k")}, 'in_place', '/${ns}/' || k || '.mp3', k || '.mp3',
           4000000 + ${uniform(4000000, "k * 53")}, 'audio/mpeg', 120000 + ${uniform(300000, "k * 59")}, 256000,
           44100, 2, 'MPEG 1 Layer 3', false, 'finished', now()
    FROM generate_series(1, ${tracks}) k`;
}
