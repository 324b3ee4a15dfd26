import { ActorSchema } from "../accounts/actor.entity.ts";
import { ApiTokenSchema } from "../accounts/api-token.entity.ts";
import { InviteSchema } from "../accounts/invite.entity.ts";
import { SessionSchema } from "../accounts/session.entity.ts";
import { UserSchema } from "../accounts/user.entity.ts";
import { DomainSchema } from "../fediverse/domain.entity.ts";
import { RemoteScanSchema } from "../fediverse/remote-scan.entity.ts";
import { AlbumSchema, ArtistSchema, TrackSchema } from "../library/catalog.entity.ts";
import { LibrarySchema } from "../library/library.entity.ts";
import { ImportBatchSchema, UploadSchema } from "../library/upload.entity.ts";
import { ListenSchema, NowPlayingSchema, PlayQueueSchema } from "../listens/listening.entity.ts";

/** Every entity MikroORM knows about; listed explicitly (no folder discovery). */
export const entities = [ActorSchema, UserSchema, SessionSchema, ApiTokenSchema, InviteSchema, ArtistSchema, AlbumSchema, TrackSchema, LibrarySchema, ImportBatchSchema, UploadSchema,
  ListenSchema, NowPlayingSchema, PlayQueueSchema, DomainSchema, RemoteScanSchema];

/**
 * Tables written with plain SQL, outside the ORM: infrastructure, and the catalog's join tables,
 * which the importer writes in bulk.
 */
export const sqlOnlyTables = [
  "schema_migrations",
  "rate_limit",
  "worker_heartbeat",
  "fedify_kv",
  "artist_credit",
  "genre",
  "track_genre",
  // Catalog features (issue 4): playlists, search index, per-user favourites, ratings and play counts.
  "playlist",
  "playlist_item",
  "search_document",
  "favorite",
  "rating",
  "play_stat",
  "subsonic_credential",
  "instance_setting",
  "catalog_generation",
  "user_data_generation",
  // Bytes of uploads in flight, reserved against the quota (core/library/upload-quota.ts).
  "upload_reservation",
  // Follows of libraries and playlists (migration 0016): a follow may target a playlist, itself SQL-only.
  "follow",
  // Moderation (migration 0022): people's blocks, reports from other servers, the log of decisions.
  "user_block",
  "report",
  "moderation_log",
  // Listens (migration 0023): scrobblers' listen tokens, import watermarks, statistics rollups.
  "listen_token",
  "listen_import_mark",
  "listen_entity",
  "listen_stat",
  "listen_hour",
  // Last.fm and AudioScrobbler compatibility (migration 0024): applications, tokens, sessions, scrobbler passwords.
  "lastfm_application",
  "lastfm_token",
  "lastfm_session",
  "scrobbler_password",
  "audioscrobbler_session",
  // Listen files being imported (migration 0025): a ListenBrainz export or a Last.fm CSV, with progress.
  "listen_import",
  // Relays of listens to ListenBrainz and Last.fm accounts (migration 0026).
  "listen_relay",
  // Audio analysis (migration 0027): each track's measured features.
  "track_analysis",
  // Feature aggregates per cell of tracks, and the changes that make a cell stale (migration 0029).
  "analysis_cell",
  "analysis_cell_change",
  // Analysis runs of a library and albums' loudness for their ReplayGain (migration 0030).
  "analysis_run",
  "analysis_run_track",
  "album_loudness",
  // The Notes posted to microblog followers, to delete them with their track or item (migration 0033).
  "sent_note",
];
