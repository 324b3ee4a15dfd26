// Shapes of the REST API's responses that the UI reads (see GET /api/v1/openapi.json for every route).

export interface User {
  id: string;
  username: string;
  email: string | null;
  role: "admin" | "user";
  disabled: boolean;
  createdAt: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Credit {
  id: string;
  name: string;
  joinPhrase: string;
}

export interface Track {
  id: string;
  title: string;
  artists: Credit[];
  artistCredit: string;
  album: { id: string; title: string };
  trackNumber: number | null;
  discNumber: number | null;
  year: number | null;
  durationMs: number | null;
  genres: string[];
  coverUrl: string | null;
  streamUrl: string;
  favorite: boolean;
  rating: number | null;
  playCount: number;
  lastPlayedAt: string | null;
  createdAt: string | null;
}

export interface Album {
  id: string;
  title: string;
  artist: { id: string; name: string };
  artistCredit: string;
  year: number | null;
  compilation: boolean;
  trackCount: number;
  durationMs: number | null;
  coverUrl: string | null;
  favorite: boolean;
  rating: number | null;
  playCount: number;
  createdAt: string | null;
}

export interface AlbumDetail extends Album {
  artists: Credit[];
  tracks: Track[];
}

export interface Artist {
  id: string;
  name: string;
  albumCount: number;
  coverUrl: string | null;
  favorite: boolean;
  rating: number | null;
}

export interface ArtistDetail extends Artist {
  albums: Album[];
}

export interface Genre {
  name: string;
  trackCount: number;
  albumCount: number;
}

export type Privacy = "private" | "instance" | "public";

export interface Library {
  id: string;
  name: string;
  description: string;
  privacy: Privacy;
  isOwner: boolean;
  /** Its ActivityPub URL, which another server follows. */
  apUrl: string | null;
  /** `@lib.…@host`; null where WebFinger does not list it (a private library). */
  handle: string | null;
  /** Another server's library, followed from here. */
  remote?: boolean;
  musicFolder?: string | null;
  lastScanAt?: string | null;
  /** A remote library's latest scan (null before the first). */
  remoteScan?: RemoteScan | null;
  createdAt: string;
}

/** A walk of a remote library's pages (GET /libraries/:id remoteScan). */
export interface RemoteScan {
  id: string;
  status: "queued" | "scanning" | "finished" | "errored";
  /** Why it failed, or what it left out. */
  reason: string | null;
  pages: number;
  itemsSeen: number;
  itemsAdded: number;
  itemsUpdated: number;
  itemsRemoved: number;
  itemsSkipped: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export type UploadStatus = "pending" | "finished" | "errored" | "skipped";

export interface Upload {
  id: string;
  libraryId: string;
  trackId: string | null;
  batchId: string | null;
  originalName: string | null;
  size: number;
  status: UploadStatus;
  error: { code: string; message: string } | null;
  createdAt: string;
  importedAt: string | null;
}

export interface UploadCounts {
  pending: number;
  finished: number;
  errored: number;
  skipped: number;
  total: number;
}

/** GET /api/v1/libraries/:id/import-status. */
export interface ImportStatus {
  scanning: boolean;
  /** Why the last scan of the music folder failed (null while one runs, or when it did not fail). */
  scanError: string | null;
  lastScanAt: string | null;
  counts: UploadCounts;
  /** Files settled a second lately and the time the pending ones need at that rate (null: not known yet). */
  rate?: { filesPerSecond: number | null; secondsLeft: number | null };
}

/** GET /libraries/:id/analysis: the library's tracks by audio analysis, and its latest "analyse what is missing" run. */
export interface LibraryAnalysis {
  tracks: number;
  analysed: number;
  failed: number;
  run: {
    id: string;
    state: "preparing" | "running" | "finished";
    analyserVersion: string | null;
    startedAt: string;
    total: number;
    done: number;
    failed: number;
    tracksPerSecond: number | null;
    secondsLeft: number | null;
  } | null;
}

/** `event: upload` of GET /api/v1/events. */
export interface UploadEvent {
  id: string;
  libraryId: string;
  batchId: string | null;
  status: UploadStatus;
  error: { code: string; message: string } | null;
  trackId: string | null;
}

export interface Playlist {
  id: string;
  name: string;
  description: string;
  privacy: Privacy;
  owner: { id: string | null; username: string };
  isOwner: boolean;
  /** Followed from another server: read-only here. */
  readOnly?: boolean;
  /** Its tracks come from `rules`, evaluated on each read (its items cannot be edited). */
  smart?: boolean;
  rules?: SmartRules | null;
  itemCount: number;
  durationMs: number;
  updatedAt: string;
}

export interface PlaylistItem {
  id: string;
  position: number;
  trackId: string | null;
  available: boolean;
  title: string;
  artist: string;
  album: string | null;
  albumId: string | null;
  durationMs: number | null;
}

export interface PlaylistDetail extends Playlist {
  items: PlaylistItem[];
}

export interface SearchResults {
  artists: { id: string; name: string }[];
  albums: { id: string; title: string; artists: Credit[]; year: number | null; coverUrl: string | null }[];
  tracks: {
    id: string;
    title: string;
    artists: Credit[];
    album: { id: string; title: string };
    durationMs: number | null;
    coverUrl: string | null;
  }[];
  playlists: { id: string; name: string; owner: { username: string }; itemCount: number }[];
}

export interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
}

export type Registration = "open" | "closed" | "invite";

export interface Instance {
  name: string;
  version: string;
  registration: Registration;
}

export type FollowState = "pending" | "accepted" | "rejected";

/** An actor of another server (or of this one), as the follow routes name it. */
export interface ActorSummary {
  fid: string;
  name: string | null;
  /** `@username@domain`. */
  handle: string;
}

/** GET /api/v1/federation/lookup: a library on another server, before following it. */
export interface LibraryPreview {
  fid: string;
  name: string;
  summary: string | null;
  totalItems: number | null;
  privacy: "public" | "restricted";
  actor: ActorSummary;
  owner: ActorSummary | null;
  follow: { id: string; state: FollowState } | null;
}

/** One of your follows of a library on another server (GET /api/v1/federation/follows). */
export interface Following {
  id: string;
  state: FollowState;
  createdAt: string;
  updatedAt: string;
  /** A library's follow; a playlist's has `playlist` instead. */
  library?: { id: string; fid: string; name: string; description: string; lastScanAt: string | null; actor: ActorSummary };
  playlist?: { id: string; fid: string; name: string; description: string; actor: ActorSummary };
}

/** A follower of one of your libraries (GET /api/v1/libraries/:id/followers). */
export interface Follower {
  id: string;
  state: FollowState;
  createdAt: string;
  updatedAt: string;
  actor: ActorSummary & { username: string; domain: string };
}

/** `event: follow` of GET /api/v1/events. */
export interface FollowEvent {
  id: string;
  libraryId: string;
  side: "follower" | "following";
  state: FollowState | "removed";
}

/** A library or playlist a person of this server shares (GET /api/v1/people/:username). */
export interface SharedCollection {
  id: string;
  name: string;
  description: string;
  privacy: Privacy;
  count: number;
}

export interface LocalProfile {
  username: string;
  name: string | null;
  handle: string;
  actorFid: string;
  libraries: SharedCollection[];
  playlists: SharedCollection[];
}

/** A person on another server (GET /api/v1/federation/people/lookup). */
export interface RemoteProfile {
  fid: string;
  handle: string;
  name: string | null;
  summary: string | null;
  avatar: string | null;
  url: string | null;
  libraries: LibraryPreview[];
  playlists: { fid: string; name: string; summary: string | null; totalItems: number | null }[];
}

/** A library of another server the instance follows for everyone here (GET /api/v1/admin/instance-follows). */
export interface InstanceFollow {
  id: string;
  state: FollowState;
  domain: string;
  createdAt: string;
  library: { id: string; fid: string; name: string; lastScanAt: string | null; tracks: number };
}

export interface FeatureRange {
  min?: number;
  max?: number;
}

/** A smart playlist's rules (core/playlists/smart-rules.ts): every one given must hold. */
export interface SmartRules {
  tempo?: FeatureRange;
  keys?: string[];
  mode?: "major" | "minor";
  energy?: FeatureRange;
  danceability?: FeatureRange;
  loudness?: FeatureRange;
  genres?: string[];
  year?: FeatureRange;
  minRating?: number;
  sort: { by: "tempo" | "energy" | "danceability" | "loudness" | "year" | "title" | "added" | "random"; order: "asc" | "desc" };
  limit: number;
}
