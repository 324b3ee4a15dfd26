import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { Queryable } from "../jobs/enqueue.ts";

export type ModerationAction =
  | "domain_block" | "domain_unblock" | "domain_silence" | "domain_unsilence" | "domain_allow" | "domain_disallow"
  | "user_block" | "user_unblock" | "report_resolve" | "report_reopen";

export interface ModerationLogEntry {
  id: string;
  action: ModerationAction;
  /** What it was about: a domain, an actor's id, a report's id. */
  target: string;
  detail: Record<string, unknown>;
  moderator: { id: string; username: string } | null;
  createdAt: Date | string;
}

/** Records a decision, in the transaction that carries it out (it is logged if and only if it happened). */
export async function logDecision(
  tx: Queryable,
  entry: { moderatorId: string | null; action: ModerationAction; target: string; detail?: Record<string, unknown> },
): Promise<void> {
  await tx.query("INSERT INTO moderation_log (id, moderator_id, action, target, detail) VALUES ($1, $2, $3, $4, $5)", [
    randomUUID(),
    entry.moderatorId,
    entry.action,
    entry.target,
    JSON.stringify(entry.detail ?? {}),
  ]);
}

/** The log, newest first, for admins. */
export async function listDecisions(pool: pg.Pool, page: { limit: number; offset: number }): Promise<{ items: ModerationLogEntry[]; total: number }> {
  const { rows } = await pool.query<ModerationLogEntry & { total: number }>(
    `SELECT m.id, m.action, m.target, m.detail, m.created_at AS "createdAt",
            CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('id', u.id, 'username', u.username) END AS moderator,
            count(*) OVER ()::int AS total
     FROM moderation_log m LEFT JOIN app_user u ON u.id = m.moderator_id
     ORDER BY m.created_at DESC, m.id LIMIT $1 OFFSET $2`,
    [page.limit, page.offset],
  );
  const total = rows[0]?.total ?? (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM moderation_log")).rows[0]!.n;
  return { items: rows.map(({ total: _total, ...entry }) => entry), total };
}
