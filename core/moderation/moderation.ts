import type { AppConfig } from "../../config/env.ts";
import type { TransactionSource } from "../db/transaction.ts";
import type { RemoteActors } from "../fediverse/remote-actors.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import { DomainPolicy } from "./domain-policy.ts";
import { DomainModeration } from "./domains.service.ts";
import { listDecisions, type ModerationLogEntry } from "./moderation-log.ts";
import { ReportsService } from "./reports.service.ts";
import { isBlockedBy, UserBlocks } from "./user-blocks.service.ts";

/** Moderation as the web process uses it: which servers we federate with, admins' decisions, people's blocks, reports. */
export interface Moderation {
  policy: DomainPolicy;
  domains: DomainModeration;
  userBlocks: UserBlocks;
  reports: ReportsService;
  /** Whether the person behind local actor `identifier` blocked the remote actor `actorFid`. */
  isBlockedBy(identifier: string, actorFid: string): Promise<boolean>;
  /** Every decision, newest first. */
  decisions(page: { limit: number; offset: number }): Promise<{ items: ModerationLogEntry[]; total: number }>;
}

export function buildModeration(
  config: AppConfig,
  db: TransactionSource,
  deps: { remoteActors: RemoteActors; uploads: UploadsService },
): Moderation {
  const mode = config.federation.mode;
  return {
    policy: new DomainPolicy({ pool: db.pool, mode, publicUrl: config.http.publicUrl }),
    domains: new DomainModeration({ ...db, uploads: deps.uploads, mode }),
    userBlocks: new UserBlocks({ ...db, remoteActors: deps.remoteActors, uploads: deps.uploads }),
    reports: new ReportsService({ ...db, publicUrl: config.http.publicUrl }),
    isBlockedBy: (identifier, actorFid) => isBlockedBy(db.pool, identifier, actorFid),
    decisions: (page) => listDecisions(db.pool, page),
  };
}
