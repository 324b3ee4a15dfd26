import { Router } from "express";
import type { Federation } from "@fedify/fedify";
import { NODEINFO_21_PATH } from "../../federation/dispatchers/nodeinfo.ts";

const SCHEMA = "http://nodeinfo.diaspora.software/ns/schema";

/**
 * Fedify serves NodeInfo 2.1 but links only that version; older crawlers want 2.0. This serves the
 * discovery document with both links and derives 2.0 from Fedify's 2.1 (2.0 lacks the repository
 * and homepage fields).
 */
export function nodeInfoRoutes(federation: Federation<void>, origin: URL): Router {
  const router = Router();
  router.get("/.well-known/nodeinfo", (_req, res) => {
    res.json({
      links: [
        { rel: `${SCHEMA}/2.0`, href: new URL("/nodeinfo/2.0", origin).href },
        { rel: `${SCHEMA}/2.1`, href: new URL(NODEINFO_21_PATH, origin).href },
      ],
    });
  });
  router.get("/nodeinfo/2.0", async (_req, res) => {
    const response = await federation.fetch(new Request(new URL(NODEINFO_21_PATH, origin)), { contextData: undefined });
    const doc = (await response.json()) as { software: Record<string, unknown> } & Record<string, unknown>;
    delete doc.software.repository;
    delete doc.software.homepage;
    res.type(`application/json; profile="${SCHEMA}/2.0#"`).json({ ...doc, version: "2.0" });
  });
  return router;
}
