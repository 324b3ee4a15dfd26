import { randomUUID } from "node:crypto";
import { getLogger } from "../../config/logging.ts";
import { withTransaction, type TransactionSource } from "../db/transaction.ts";
import { NotFound } from "../errors.ts";
import { logDecision } from "./moderation-log.ts";

const log = getLogger(["polyphony", "moderation", "reports"]);

/** What a report names, as we understood it; `id` is our row's, null when it names nothing of ours. */
export interface ReportTarget {
  fid: string;
  kind: "library" | "track" | "album" | "artist" | "playlist" | "user" | "unknown";
  id: string | null;
  name: string | null;
}

export interface Report {
  id: string;
  fid: string | null;
  reporter: { fid: string | null; domain: string };
  content: string;
  category: string | null;
  targets: ReportTarget[];
  state: "open" | "resolved";
  resolution: string | null;
  resolvedBy: { id: string; username: string } | null;
  resolvedAt: Date | string | null;
  createdAt: Date | string;
}

/** A Flag as received: Funkwhale's (object: one id or a list, a `#type` Hashtag) or Mastodon's (object: a list, content). */
export interface ReceivedFlag {
  fid: string | null;
  reporterFid: string;
  /** The reporter's actor row, when we know it. */
  reporterId: string | null;
  objectFids: string[];
  content: string;
  category: string | null;
}

/** At most this many objects of a Flag are read (Mastodon lists an account's reported posts). */
const MAX_TARGETS = 50;
const OBJECT_PATH = /^\/federation\/(libraries|tracks|uploads|albums|artists)\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

const REPORT_COLUMNS = `r.id, r.fid, json_build_object('fid', ra.fid, 'domain', r.reporter_domain) AS reporter, r.content, r.category,
  r.targets, r.state, r.resolution, r.resolved_at AS "resolvedAt", r.created_at AS "createdAt",
  CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('id', u.id, 'username', u.username) END AS "resolvedBy"`;
const REPORT_FROM = "report r LEFT JOIN actor ra ON ra.id = r.reporter_id LEFT JOIN app_user u ON u.id = r.resolved_by_id";

/**
 * Reports (Flag) other servers send about what is ours: stored for the admins' queue when they name
 * at least one of our objects (a Flag naming nothing here is nobody's to act on), listed, resolved.
 */
export class ReportsService {
  readonly #db: TransactionSource;
  readonly #origin: URL;

  constructor(deps: TransactionSource & { publicUrl: URL }) {
    this.#db = { pool: deps.pool, orm: deps.orm };
    this.#origin = deps.publicUrl;
  }

  /** Stores a received Flag; false when it names nothing of ours, or was stored already (same id). */
  async receive(flag: ReceivedFlag): Promise<boolean> {
    const targets = await Promise.all([...new Set(flag.objectFids)].slice(0, MAX_TARGETS).map((fid) => this.#target(fid)));
    if (!targets.some((t) => t.id)) {
      log.info("Flag from {reporter} names nothing of ours: ignored", { reporter: flag.reporterFid });
      return false;
    }
    const { rowCount } = await this.#db.pool.query(
      `INSERT INTO report (id, fid, reporter_id, reporter_domain, content, category, targets) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (fid) DO NOTHING`,
      [randomUUID(), flag.fid, flag.reporterId, new URL(flag.reporterFid).host, flag.content.slice(0, 10_000), flag.category?.slice(0, 100) ?? null, JSON.stringify(targets)],
    );
    log.info("Report from {reporter} about {targets}", { reporter: flag.reporterFid, targets: targets.map((t) => t.fid) });
    return Boolean(rowCount);
  }

  /** Reports in `state` (open: the queue, oldest first; resolved: newest first). */
  async list(state: "open" | "resolved", page: { limit: number; offset: number }): Promise<{ items: Report[]; total: number }> {
    const { rows } = await this.#db.pool.query<Report>(
      `SELECT ${REPORT_COLUMNS} FROM ${REPORT_FROM} WHERE r.state = $1
       ORDER BY r.created_at ${state === "open" ? "ASC" : "DESC"}, r.id LIMIT $2 OFFSET $3`,
      [state, page.limit, page.offset],
    );
    const total = (await this.#db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM report WHERE state = $1", [state])).rows[0]!.n;
    return { items: rows, total };
  }

  /** Resolves a report (with what was done), or opens it again; logged. */
  async setState(adminId: string, id: string, change: { state: "open" | "resolved"; resolution?: string }): Promise<Report> {
    await withTransaction(this.#db, async ({ sql: tx }) => {
      const { rows } = await tx.query<{ state: string }>("SELECT state FROM report WHERE id = $1 FOR UPDATE", [id]);
      if (!rows[0]) throw new NotFound("report");
      if (rows[0].state === change.state && change.resolution === undefined) return;
      const resolved = change.state === "resolved";
      await tx.query(
        `UPDATE report SET state = $2, resolution = $3, resolved_by_id = $4, resolved_at = CASE WHEN $5 THEN now() END WHERE id = $1`,
        [id, change.state, resolved ? (change.resolution ?? null) : null, resolved ? adminId : null, resolved],
      );
      await logDecision(tx, {
        moderatorId: adminId,
        action: resolved ? "report_resolve" : "report_reopen",
        target: id,
        detail: resolved && change.resolution ? { resolution: change.resolution } : {},
      });
    });
    const { rows } = await this.#db.pool.query<Report>(`SELECT ${REPORT_COLUMNS} FROM ${REPORT_FROM} WHERE r.id = $1`, [id]);
    return rows[0]!;
  }

  /** What `fid` names here: one of our actors (a person, library or playlist) or catalog documents. */
  async #target(fid: string): Promise<ReportTarget> {
    const unknown: ReportTarget = { fid, kind: "unknown", id: null, name: null };
    if (!URL.canParse(fid) || new URL(fid).origin !== this.#origin.origin) return unknown;
    const path = OBJECT_PATH.exec(new URL(fid).pathname);
    const query = path ? objectQuery(path[1]!) : ACTOR_QUERY;
    const { rows } = await this.#db.pool.query<Omit<ReportTarget, "fid">>(query, [path ? path[2] : fid]);
    return rows[0] ? { fid, ...rows[0] } : unknown;
  }
}

const ACTOR_QUERY = `SELECT a.represents AS kind, coalesce(u.id, l.id, p.id) AS id, coalesce(u.username, l.name, p.name) AS name
  FROM actor a LEFT JOIN app_user u ON u.actor_id = a.id LEFT JOIN library l ON l.actor_id = a.id AND l.owner_id IS NOT NULL
  LEFT JOIN playlist p ON p.actor_id = a.id
  WHERE a.fid = $1 AND a.is_local AND a.represents IN ('user', 'library', 'playlist')`;

function objectQuery(kind: string): string {
  switch (kind) {
    case "libraries":
      return "SELECT 'library' AS kind, id, name FROM library WHERE id = $1::uuid AND owner_id IS NOT NULL";
    case "tracks":
      return "SELECT 'track' AS kind, id, title AS name FROM track WHERE id = $1::uuid";
    case "uploads":
      return "SELECT 'track' AS kind, t.id, t.title AS name FROM upload u JOIN track t ON t.id = u.track_id WHERE u.id = $1::uuid";
    case "albums":
      return "SELECT 'album' AS kind, id, title AS name FROM album WHERE id = $1::uuid";
    default:
      return "SELECT 'artist' AS kind, id, name FROM artist WHERE id = $1::uuid";
  }
}
