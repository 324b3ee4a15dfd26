import type pg from "pg";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import type { UploadsService } from "../library/uploads.service.ts";
import { domainName, type FederationMode } from "./domain-policy.ts";
import { dropFollowers, dropFollowing } from "./follow-drops.ts";
import { logDecision, type ModerationAction } from "./moderation-log.ts";

/** A server as the admins' page shows it. */
export interface ModeratedDomain {
  name: string;
  blocked: boolean;
  silenced: boolean;
  allowed: boolean;
  softwareName: string | null;
  softwareVersion: string | null;
  firstSeenAt: Date | string;
  lastSeenAt: Date | string;
}

export type DomainFlags = Partial<Pick<ModeratedDomain, "blocked" | "silenced" | "allowed">>;

const DOMAIN_COLUMNS = `name, blocked, silenced, allowed, software_name AS "softwareName", software_version AS "softwareVersion",
  first_seen_at AS "firstSeenAt", last_seen_at AS "lastSeenAt"`;

const ACTIONS: Record<keyof DomainFlags, [on: ModerationAction, off: ModerationAction]> = {
  blocked: ["domain_block", "domain_unblock"],
  silenced: ["domain_silence", "domain_unsilence"],
  allowed: ["domain_allow", "domain_disallow"],
};

/**
 * Admins' decisions about whole servers. Blocking ends every follow between us and that server (both
 * ways, without telling it) and drops what it shared with us; silencing and allowing only change
 * how it is treated from now on. Each change is logged with the admin who made it.
 */
export class DomainModeration {
  readonly #db: TransactionSource;
  readonly #uploads: UploadsService;
  readonly #mode: FederationMode;

  constructor(deps: TransactionSource & { uploads: UploadsService; mode: FederationMode }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#uploads = deps.uploads;
    this.#mode = deps.mode;
  }

  /** The domains someone decided about (blocked, silenced or allowed), by name; and the federation mode. */
  async list(): Promise<{ mode: FederationMode; items: ModeratedDomain[] }> {
    const { rows } = await this.#db.pool.query<ModeratedDomain>(
      `SELECT ${DOMAIN_COLUMNS} FROM domain WHERE blocked OR silenced OR allowed ORDER BY name`,
    );
    return { mode: this.#mode, items: rows };
  }

  /** Changes what we do with `name` (a domain we may not have seen yet); returns it as it is now. */
  async update(adminId: string, name: string, flags: DomainFlags): Promise<ModeratedDomain & { followsDropped: number }> {
    const domain = domainName(name);
    return withTransaction(this.#db, async ({ sql: tx }) => {
      await tx.query("INSERT INTO domain (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", [domain]);
      const before = (await tx.query<ModeratedDomain>(`SELECT ${DOMAIN_COLUMNS} FROM domain WHERE name = $1 FOR UPDATE`, [domain])).rows[0]!;
      let followsDropped = 0;
      for (const key of Object.keys(ACTIONS) as (keyof DomainFlags)[]) {
        const value = flags[key];
        if (value === undefined || value === before[key]) continue;
        await tx.query(`UPDATE domain SET ${key} = $2 WHERE name = $1`, [domain, value]);
        if (key === "blocked" && value) followsDropped = await this.#dropFollows(tx, domain);
        const detail = key === "blocked" && value ? { followsDropped } : {};
        await logDecision(tx, { moderatorId: adminId, action: ACTIONS[key][value ? 0 : 1], target: domain, detail });
      }
      const after = (await tx.query<ModeratedDomain>(`SELECT ${DOMAIN_COLUMNS} FROM domain WHERE name = $1`, [domain])).rows[0]!;
      return { ...after, followsDropped };
    });
  }

  /** Every follow between us and `domain`'s actors, both ways. */
  async #dropFollows(tx: pg.PoolClient, domain: string): Promise<number> {
    const followers = await dropFollowers(tx, "a.domain = $1", [domain]);
    const following = await dropFollowing(tx, this.#uploads, "la.domain = $1", [domain]);
    return followers + following;
  }
}
