import { createFederation, type Federation, type KvStore, type MessageQueue } from "@fedify/fedify";
import type { MikroORM } from "@mikro-orm/postgresql";
import type pg from "pg";
import type { AppConfig, Registration } from "../config/env.ts";
import { registerActorDispatcher } from "./dispatchers/actor.ts";
import { registerCollections } from "./dispatchers/collections.ts";
import { registerNodeInfo } from "./dispatchers/nodeinfo.ts";
import { registerNoteDispatcher } from "./dispatchers/notes.ts";
import { FollowInbox } from "../core/fediverse/follow-inbox.ts";
import { LibrarySyncInbox } from "../core/fediverse/library-sync-inbox.ts";
import { PlaylistSyncInbox } from "../core/fediverse/playlist-sync-inbox.ts";
import { RemoteActors } from "../core/fediverse/remote-actors.ts";
import { ReportsService } from "../core/moderation/reports.service.ts";
import { type OutboundPolicy, outboundPolicy } from "../core/fediverse/safe-fetch.ts";
import { buildUploadsService } from "../core/library/uploads.service.ts";
import { safeLoaderFactories } from "./backends/safe-document-loader.ts";
import { registerInbox } from "./inbox/index.ts";

export interface FederationDeps {
  config: AppConfig;
  orm: MikroORM;
  /** The pool the ORM owns: inbox listeners write with plain SQL. */
  pool: pg.Pool;
  kv: KvStore;
  queue: MessageQueue;
  /** The registration mode as it stands now (an admin may change it); default: the REGISTRATION value. */
  registration?: () => Promise<Registration>;
  /** What outbound requests may reach; default outboundPolicy(config). Tests let a loopback address play a public one. */
  policy?: OutboundPolicy;
}

/**
 * One Federation per process. The queue is started by hand in the worker only (`processQueuedTask` in
 * its `fedify` task); the web process only enqueues.
 */
export function buildFederation(deps: FederationDeps): Federation<void> {
  const { config } = deps;
  const policy = deps.policy ?? outboundPolicy(config);
  const federation = createFederation<void>({
    kv: deps.kv,
    queue: deps.queue,
    manuallyStartQueue: true,
    origin: config.http.publicUrl.origin,
    // Most of the fediverse still speaks draft-cavage signatures first.
    firstKnock: "draft-cavage-http-signatures-12",
    // Fedify's document, context and authenticated loaders go through safeFetch with our policy (private
    // addresses per FEDERATION_ALLOW_PRIVATE_ADDRESS, User-Agent). Fedify refuses these factories together
    // with its own allowPrivateAddress: true or userAgent options, which they replace.
    ...safeLoaderFactories({ policy, kv: deps.kv }),
  });
  registerActorDispatcher(federation, { orm: deps.orm, pool: deps.pool, domain: config.http.publicUrl.host });
  registerCollections(federation);
  registerNoteDispatcher(federation, { pool: deps.pool });
  const db = { pool: deps.pool, orm: deps.orm };
  const remoteActors = new RemoteActors({ pool: deps.pool, policy });
  const uploads = buildUploadsService(config, db);
  registerInbox(federation, {
    follows: new FollowInbox({ ...db, remoteActors, uploads, publicUrl: config.http.publicUrl }),
    librarySync: new LibrarySyncInbox({ ...db, policy, uploads, mediaDir: config.mediaDir }),
    reports: new ReportsService({ ...db, publicUrl: config.http.publicUrl }),
    remoteActors,
    playlistSync: new PlaylistSyncInbox({ ...db, uploads }),
  });
  registerNodeInfo(federation, {
    orm: deps.orm,
    registration: deps.registration ?? (async () => config.registration),
    nodeName: config.http.publicUrl.host,
  });
  return federation;
}
