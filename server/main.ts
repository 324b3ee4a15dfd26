import http from "node:http";
import path from "node:path";
import v8 from "node:v8";
import type { AddressInfo } from "node:net";
import { ConfigError, type AppConfig } from "../config/env.ts";
import { getLogger } from "../config/logging.ts";
import { AccountService } from "../core/accounts/accounts.service.ts";
import { ActorService } from "../core/accounts/actors.service.ts";
import { ApiTokenService } from "../core/accounts/api-tokens.service.ts";
import { SessionService } from "../core/accounts/sessions.service.ts";
import type { Database } from "../core/db/database.ts";
import { AnalysisStatsService } from "../core/analysis/analysis-stats.service.ts";
import { CatalogService } from "../core/catalog/catalog.service.ts";
import { UserDataService } from "../core/catalog/user-data.service.ts";
import { LibrariesService } from "../core/library/libraries.service.ts";
import { AnalysisRunsService } from "../core/analysis/analysis-runs.service.ts";
import { LibraryScansService } from "../core/library/library-scans.service.ts";
import { RemoteScansService } from "../core/fediverse/remote-scans.service.ts";
import { ListenIngest } from "../core/listens/listen-ingest.ts";
import { ListenRelayService, listenRelayKey } from "../core/listens/listen-relay.service.ts";
import { ListenStatsService } from "../core/listens/listen-stats.service.ts";
import { ListenAccessService } from "../core/listens/listen-access.service.ts";
import { NowPlayingService } from "../core/listens/now-playing.service.ts";
import { ListenImportsService } from "../core/listens/listen-imports.service.ts";
import { ListenHistoryService } from "../core/listens/listen-history.service.ts";
import { ListensService } from "../core/listens/listens.service.ts";
import { PlayQueueService } from "../core/listens/play-queue.service.ts";
import { PlaylistFiles } from "../core/playlists/playlist-files.ts";
import { PlaylistsService } from "../core/playlists/playlists.service.ts";
import { SearchService } from "../core/search/search.service.ts";
import { SubsonicCredentialsService } from "../core/subsonic/credentials.service.ts";
import { deriveKey, serverSecretKey } from "../core/subsonic/secret-key.ts";
import { SubsonicCatalogService } from "../core/subsonic/subsonic-catalog.service.ts";
import { SystemStatusService } from "../core/system/system-status.service.ts";
import { LastfmAppsService } from "../core/lastfm/lastfm-apps.service.ts";
import { LastfmAuthService } from "../core/lastfm/lastfm-auth.service.ts";
import { AudioscrobblerService } from "../core/lastfm/audioscrobbler.service.ts";
import { buildModeration } from "../core/moderation/moderation.ts";
import { RemoteActors } from "../core/fediverse/remote-actors.ts";
import { outboundPolicy } from "../core/fediverse/safe-fetch.ts";
import { serverDirs } from "../core/library/music-folder.ts";
import { buildUploadsService } from "../core/library/uploads.service.ts";
import { buildPlayableAudio } from "../core/library/playable-audio.ts";
import { AlbumCovers } from "../core/library/remote-covers.ts";
import { Transcoder } from "../core/media/transcoder.ts";
import { RateLimiter } from "../core/rate-limit/rate-limiter.ts";
import { InstanceSettings } from "../core/system/instance-settings.ts";
import { FollowsService } from "../core/fediverse/follows.service.ts";
import { LibraryLookup } from "../core/fediverse/library-lookup.ts";
import { InstanceFollowsService } from "../core/fediverse/instance-follows.service.ts";
import { PeopleService } from "../core/fediverse/people.service.ts";
import { PersonLookup } from "../core/fediverse/person-lookup.ts";
import { GraphileMessageQueue } from "../federation/backends/graphile-message-queue.ts";
import { PostgresKvStore } from "../federation/backends/postgres-kv-store.ts";
import { buildFederation } from "../federation/index.ts";
import { createApp } from "./app.ts";
import { trackLinks } from "./api/catalog-urls.ts";
import type { ServerDeps } from "./deps.ts";
import { handlersSettled } from "./http/handle.ts";
import { buildLiveEvents } from "./live-events.ts";

const log = getLogger(["polyphony", "web"]);

export interface WebServer {
  readonly url: string;
  readonly deps: ServerDeps;
  /** Stops accepting connections and waits for in-flight requests, up to the shutdown timeout. Idempotent. */
  close(): Promise<void>;
}

/** Composition root of the web process. */
export function buildServerDeps(config: AppConfig, db: Database): ServerDeps {
  const actors = new ActorService({ publicUrl: config.http.publicUrl });
  const uploads = buildUploadsService(config, db);
  const loginLimit = (max: number) => new RateLimiter({ db: db.pool, max, windowSeconds: config.auth.loginWindowSeconds });
  const settings = new InstanceSettings({ db: db.pool, defaults: { registration: config.registration } });
  const pool = db.pool;
  const playlists = new PlaylistsService({ pool, orm: db.orm, actors });
  const catalog = new CatalogService({ pool });
  // Every source's listens go through this one sink (web player, Subsonic, the ListenBrainz API, imports).
  const listenIngest = new ListenIngest({ db });
  const policy = outboundPolicy(config);
  const federation = buildFederation({
    config,
    orm: db.orm,
    pool,
    kv: new PostgresKvStore(db),
    queue: new GraphileMessageQueue(db.pool),
    registration: () => settings.registration(),
  });
  const remoteActors = new RemoteActors({ pool, policy });
  const lookup = new LibraryLookup({ remoteActors, publicUrl: config.http.publicUrl });
  const moderation = buildModeration(config, { pool, orm: db.orm }, { remoteActors, uploads });
  // Each lookup (of a library or a person) costs a few requests to another server.
  const lookupLimiter = new RateLimiter({ db: pool, max: 30, windowSeconds: 60 });
  const follows = new FollowsService({
    pool, orm: db.orm, lookup, uploads, lookupLimiter, publicUrl: config.http.publicUrl, policy: moderation.policy,
  });
  const sessions = new SessionService({
    orm: db.orm,
    sessionTtlDays: config.auth.sessionTtlDays,
    perUser: loginLimit(config.auth.loginMaxAttempts),
    // One address may hold several people (a household behind NAT): a wider budget.
    perAddress: loginLimit(config.auth.loginMaxAttempts * 5),
  });
  // Application secrets and scrobbler passwords must be opened to compute md5 signatures: sealed, not hashed.
  const lastfmKey = deriveKey(serverSecretKey(config), "lastfm secrets");
  const lastfmApps = new LastfmAppsService({ pool, key: lastfmKey });
  const lastfmAuth = new LastfmAuthService({ pool, passwordAttempt: (who, attempt) => sessions.passwordAttempt(who, attempt) });
  return {
    config,
    db,
    federation,
    // Read at each sign-up, so an admin's change applies at once in every web process.
    accounts: new AccountService({ pool: db.pool, orm: db.orm, actors, registration: () => settings.registration() }),
    sessions,
    tokens: new ApiTokenService({ orm: db.orm }),
    signupLimiter: new RateLimiter({ db: db.pool, max: 20, windowSeconds: 3600 }),
    federationLimiter: new RateLimiter({ db: db.pool, max: config.federation.requestsPerMinute, windowSeconds: 60 }),
    actors,
    remoteActors,
    uploads,
    playback: buildPlayableAudio(config, pool, policy),
    covers: new AlbumCovers({ pool, catalog, coversDir: path.join(config.mediaDir, "covers"), policy, timeoutMs: config.media.remoteTimeoutMs }),
    libraries: new LibrariesService({ pool, orm: db.orm, actors, uploads, serverDirs: serverDirs(config) }),
    scans: new LibraryScansService({ pool }),
    analysisRuns: new AnalysisRunsService({ pool, orm: db.orm, queues: config.analysis.concurrency }),
    remoteScans: new RemoteScansService({ pool, orm: db.orm }),
    catalog,
    userData: new UserDataService({ pool }),
    listenIngest,
    listenStats: new ListenStatsService({ pool }),
    analysisStats: new AnalysisStatsService({ pool }),
    listenAccess: new ListenAccessService({ pool }),
    listenHistory: new ListenHistoryService({ pool }),
    nowPlaying: new NowPlayingService({ pool }),
    listenRelays: new ListenRelayService({ pool, key: listenRelayKey(config) }),
    listenImports: new ListenImportsService({ db, sink: listenIngest, dataDir: config.dataDir, maxBytes: config.listenBrainz.importMaxBytes }),
    // More with a listen token than without (as ListenBrainz gives its token holders more).
    listenBrainzLimits: {
      perUser: new RateLimiter({ db: pool, max: config.listenBrainz.requestsPer10s.user, windowSeconds: 10 }),
      perAddress: new RateLimiter({ db: pool, max: config.listenBrainz.requestsPer10s.address, windowSeconds: 10 }),
      max: config.listenBrainz.requestsPer10s,
    },
    listens: new ListensService({ pool, sink: listenIngest }),
    playQueue: new PlayQueueService({ pool }),
    playlists,
    playlistFiles: new PlaylistFiles({ pool, playlists, links: trackLinks(config.http.publicUrl) }),
    search: new SearchService({ pool }),
    settings,
    system: new SystemStatusService({ db: pool }),
    subsonicCredentials: new SubsonicCredentialsService({ pool, key: deriveKey(serverSecretKey(config), "subsonic credentials") }),
    subsonicCatalog: new SubsonicCatalogService({ pool }),
    subsonicLimits: { perUser: loginLimit(config.auth.loginMaxAttempts), perAddress: loginLimit(config.auth.loginMaxAttempts * 5) },
    follows,
    people: new PeopleService({
      pool,
      lookup: new PersonLookup({ remoteActors, libraryLookup: lookup, publicUrl: config.http.publicUrl }),
      follows,
      lookupLimiter,
      publicUrl: config.http.publicUrl,
      policy: moderation.policy,
    }),
    instanceFollows: new InstanceFollowsService({
      pool, orm: db.orm, remoteActors, lookup, uploads, publicUrl: config.http.publicUrl, policy: moderation.policy,
    }),
    moderation,
    events: buildLiveEvents(db),
    lastfm: {
      apps: lastfmApps,
      auth: lastfmAuth,
      audioscrobbler: new AudioscrobblerService({
        pool, key: lastfmKey, apps: lastfmApps, sessionUser: (appId, key) => lastfmAuth.userBySessionKey(appId, key),
      }),
      // Last.fm allows about 5 requests a second per key; a player sends far fewer.
      limiter: new RateLimiter({ db: pool, max: 300, windowSeconds: 60 }),
      sink: listenIngest,
    },
    transcoder: new Transcoder(config.transcoding),
  };
}

/** A URL for the bound address from this machine: a wildcard address is reached through loopback. */
function hostForUrl(address: string): string {
  if (address === "0.0.0.0") return "127.0.0.1";
  if (address === "::") return "[::1]";
  return address.includes(":") ? `[${address}]` : address;
}

/** PUBLIC_URL, or when it is the default (http://localhost:$PORT) the same with the port really bound (PORT=0). */
function urlToOpen(http: AppConfig["http"], boundPort: number): string {
  const byDefault = http.publicUrl.href === `http://localhost:${http.port}/`;
  return byDefault ? `http://localhost:${boundPort}/` : http.publicUrl.href;
}

/** A port in use or not ours to take is a configuration problem: say which variable, not a stack trace. */
function listenFailure(error: unknown, { host, port }: AppConfig["http"]): unknown {
  const reasons: Record<string, string> = {
    EADDRINUSE: `PORT: port ${port} on ${host} is already in use (another Polyphony?); stop what listens there or choose another PORT`,
    EACCES: `PORT: port ${port} on ${host} needs privileges this process lacks; choose a PORT above 1023`,
    EADDRNOTAVAIL: `HOST: ${host} is not an address of this machine`,
  };
  const reason = reasons[(error as NodeJS.ErrnoException).code ?? ""];
  return reason ? new ConfigError(`Invalid configuration:\n  ${reason}`) : error;
}

/**
 * V8 starts a major GC when the old generation comes within a young generation's size (~100 MB here)
 * of its limit, which it sets at ~2.3x the live heap (~60 MB): under sustained load marking begins
 * again almost as soon as it ends, every 0.3-1 s, each time taking CPU from requests for ~100 ms.
 * HEAP_GROWTH_PERCENT=300 makes that several times rarer (bench:subsonic getAlbum over 8,000 requests,
 * median p99 of seven runs: 70 -> 48 ms) but cost ~20% of getAlbum's throughput in the standard
 * run, after other calls had grown the heap; so V8 decides unless asked. V8 reads this flag at every
 * GC, so setting it once the process runs still counts.
 */
function setHeapGrowth(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

export async function startWebServer(config: AppConfig, db: Database): Promise<WebServer> {
  setHeapGrowth(config.http.heapGrowthPercent);
  const deps = buildServerDeps(config, db);
  await deps.actors.ensureInstanceActor(db.orm.em.fork());
  await deps.transcoder.detect();
  await deps.events.start();
  const server = http.createServer(createApp(deps));
  server.keepAliveTimeout = 65_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.http.port, config.http.host, () => resolve());
    });
  } catch (error) {
    await deps.events.close();
    throw listenFailure(error, config.http);
  }
  const bound = server.address() as AddressInfo;
  const url = `http://${hostForUrl(bound.address)}:${bound.port}`;
  log.info("Web server listening on {address}; open {openUrl}", {
    address: `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`,
    openUrl: urlToOpen(config.http, bound.port),
  });

  let closing: Promise<void> | undefined;
  const close = async () => {
    // Open event streams would hold the drain below until the timeout: end them first.
    await deps.events.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive connections become idle as their last response ends; close each as soon as it does.
    const reaper = setInterval(() => server.closeIdleConnections(), 50);
    const timer = setTimeout(() => {
      log.warning("Requests still running after the shutdown timeout; closing their connections");
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    await closed;
    clearInterval(reaper);
    clearTimeout(timer);
    // Connections closed by the timeout leave their handlers cleaning up (an upload's file and batch).
    await handlersSettled();
    log.info("Web server stopped");
  };
  // Idempotent: a second call waits for the first.
  return { url, deps, close: () => (closing ??= close()) };
}
