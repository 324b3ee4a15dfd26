import type { Federation } from "@fedify/fedify";
import type { AppConfig } from "../config/env.ts";
import type { ActorService } from "../core/accounts/actors.service.ts";
import type { AccountService } from "../core/accounts/accounts.service.ts";
import type { ApiTokenService } from "../core/accounts/api-tokens.service.ts";
import type { SessionService } from "../core/accounts/sessions.service.ts";
import type { RemoteActors } from "../core/fediverse/remote-actors.ts";
import type { AnalysisStatsService } from "../core/analysis/analysis-stats.service.ts";
import type { CatalogService } from "../core/catalog/catalog.service.ts";
import type { UserDataService } from "../core/catalog/user-data.service.ts";
import type { FollowsService } from "../core/fediverse/follows.service.ts";
import type { PeopleService } from "../core/fediverse/people.service.ts";
import type { InstanceFollowsService } from "../core/fediverse/instance-follows.service.ts";
import type { LibrariesService } from "../core/library/libraries.service.ts";
import type { AnalysisRunsService } from "../core/analysis/analysis-runs.service.ts";
import type { LibraryScansService } from "../core/library/library-scans.service.ts";
import type { RemoteScansService } from "../core/fediverse/remote-scans.service.ts";
import type { ListenIngest } from "../core/listens/listen-ingest.ts";
import type { ListenRelayService } from "../core/listens/listen-relay.service.ts";
import type { ListenStatsService } from "../core/listens/listen-stats.service.ts";
import type { ListenAccessService } from "../core/listens/listen-access.service.ts";
import type { ListenImportsService } from "../core/listens/listen-imports.service.ts";
import type { ListenHistoryService } from "../core/listens/listen-history.service.ts";
import type { NowPlayingService } from "../core/listens/now-playing.service.ts";
import type { LbRateLimits } from "./listenbrainz/lb-http.ts";
import type { ListensService } from "../core/listens/listens.service.ts";
import type { PlayQueueService } from "../core/listens/play-queue.service.ts";
import type { PlaylistFiles } from "../core/playlists/playlist-files.ts";
import type { PlaylistsService } from "../core/playlists/playlists.service.ts";
import type { SearchService } from "../core/search/search.service.ts";
import type { SubsonicCredentialsService } from "../core/subsonic/credentials.service.ts";
import type { SubsonicCatalogService } from "../core/subsonic/subsonic-catalog.service.ts";
import type { SystemStatusService } from "../core/system/system-status.service.ts";
import type { UploadsService } from "../core/library/uploads.service.ts";
import type { PlayableAudioService } from "../core/library/playable-audio.ts";
import type { AlbumCovers } from "../core/library/remote-covers.ts";
import type { Database } from "../core/db/database.ts";
import type { Transcoder } from "../core/media/transcoder.ts";
import type { RateLimiter } from "../core/rate-limit/rate-limiter.ts";
import type { InstanceSettings } from "../core/system/instance-settings.ts";
import type { Moderation } from "../core/moderation/moderation.ts";
import type { LiveEvents } from "./live-events.ts";
import type { LastfmAppsService } from "../core/lastfm/lastfm-apps.service.ts";
import type { LastfmAuthService } from "../core/lastfm/lastfm-auth.service.ts";
import type { AudioscrobblerService } from "../core/lastfm/audioscrobbler.service.ts";
import type { ListenSink } from "../core/listens/listen-submission.ts";

/** Everything the web process's routers need, built once by the composition root. */
export interface ServerDeps {
  config: AppConfig;
  db: Database;
  federation: Federation<void>;
  accounts: AccountService;
  sessions: SessionService;
  tokens: ApiTokenService;
  signupLimiter: RateLimiter;
  /** Inbound federation requests per remote domain and address. */
  federationLimiter: RateLimiter;
  actors: ActorService;
  /** Remote actors: fetched, stored, and checked as signers of requests to us. */
  remoteActors: RemoteActors;
  libraries: LibrariesService;
  uploads: UploadsService;
  /** The bytes of what is streamed: local files, and remote audio fetched into the cache on first play. */
  playback: PlayableAudioService;
  /** Album cover hashes; a remote album's cover is fetched and stored the first time it is asked for. */
  covers: AlbumCovers;
  scans: LibraryScansService;
  /** Libraries' "analyse what is missing" runs and their progress (issue 20). */
  analysisRuns: AnalysisRunsService;
  /** Scans of followed remote libraries: asking for one, and their state for the library page. */
  remoteScans: RemoteScansService;
  catalog: CatalogService;
  userData: UserDataService;
  /** The one listen model every source writes through (ListenSink), and linking listens to newly imported tracks. */
  listenIngest: ListenIngest;
  /** Live listening statistics (rollups kept by the listen table's triggers). */
  listenStats: ListenStatsService;
  /** Audio feature aggregates per scope (precomputed cells for the collection and libraries) and per track. */
  analysisStats: AnalysisStatsService;
  /** Listen tokens (scrobblers' `Authorization: Token`), listen privacy and who may read whose listens. */
  listenAccess: ListenAccessService;
  listenHistory: ListenHistoryService;
  /** What people play now, for the web UI (who may see whom by listen privacy). */
  nowPlaying: NowPlayingService;
  /** Relays of listens to the person's ListenBrainz and Last.fm accounts (credentials sealed). */
  listenRelays: ListenRelayService;
  /** Listen files people import (ListenBrainz export, Last.fm CSV), fed through the sink by a job. */
  listenImports: ListenImportsService;
  /** ListenBrainz API requests per 10 s, per token owner and per address. */
  listenBrainzLimits: LbRateLimits;
  listens: ListensService;
  playQueue: PlayQueueService;
  playlists: PlaylistsService;
  playlistFiles: PlaylistFiles;
  search: SearchService;
  settings: InstanceSettings;
  system: SystemStatusService;
  /** The Subsonic password and API key of each user (REST to show them, Subsonic to check them). */
  subsonicCredentials: SubsonicCredentialsService;
  subsonicCatalog: SubsonicCatalogService;
  /** Failed Subsonic sign-ins per username and per client address. */
  subsonicLimits: { perUser: RateLimiter; perAddress: RateLimiter };
  /** Following remote libraries, and answering follows of ours. */
  follows: FollowsService;
  /** People's profiles, here and on other servers, and following a person's libraries. */
  people: PeopleService;
  /** The instance actor's follows of other servers' public libraries, for everyone here (administrators'). */
  instanceFollows: InstanceFollowsService;
  /** Blocked, silenced and allowed servers, people's blocks, reports from other servers, the moderation log. */
  moderation: Moderation;
  /** Live event streams (GET /api/v1/events), fed by the LISTEN connection; started and closed by main.ts. */
  events: LiveEvents;
  /**
   * Last.fm 2.0 (/2.0/) and AudioScrobbler 1.2: applications and their sealed secrets, tokens and
   * session keys, scrobbler passwords; `limiter` counts their requests per address; `sink` takes the listens.
   */
  lastfm: { apps: LastfmAppsService; auth: LastfmAuthService; audioscrobbler: AudioscrobblerService; limiter: RateLimiter; sink: ListenSink };
  /** ffmpeg for Subsonic streams; detect() has run before the server listens. */
  transcoder: Transcoder;
}
