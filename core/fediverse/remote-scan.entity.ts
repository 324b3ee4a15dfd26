import { defineEntity, p, type InferEntity } from "@mikro-orm/core";
import { UserSchema } from "../accounts/user.entity.ts";
import { LibrarySchema } from "../library/library.entity.ts";

export const REMOTE_SCAN_STATUSES = ["queued", "scanning", "finished", "errored"] as const;
export type RemoteScanStatus = (typeof REMOTE_SCAN_STATUSES)[number];

/**
 * One walk of a remote library's collection pages (migration 0017): its progress while it runs, its
 * counts, and why it failed. Written with SQL by core/fediverse/remote-scans.service.ts.
 */
export const RemoteScanSchema = defineEntity({
  name: "RemoteScan",
  tableName: "remote_scan",
  properties: {
    id: p.uuid().primary(),
    library: () => p.manyToOne(LibrarySchema).deleteRule("cascade"),
    status: p.enum([...REMOTE_SCAN_STATUSES]).default("queued"),
    /** Why it failed, or what it left out; for the library page. */
    reason: p.text().nullable(),
    /** Who asked for it: their follow signs its requests while still accepted. */
    requestedBy: () => p.manyToOne(UserSchema).nullable().deleteRule("set null"),
    pages: p.integer().default(0),
    itemsSeen: p.integer().default(0),
    itemsAdded: p.integer().default(0),
    itemsUpdated: p.integer().default(0),
    itemsRemoved: p.integer().default(0),
    itemsSkipped: p.integer().default(0),
    startedAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw("now()"),
  },
  indexes: [{ properties: ["library", "createdAt"] }],
});

export type RemoteScan = InferEntity<typeof RemoteScanSchema>;
