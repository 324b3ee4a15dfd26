import path from "node:path";
import express, { Router } from "express";

/**
 * Prefixes of the APIs and of machine-only federation endpoints: an unknown path under them is a 404,
 * never the web UI. (Actor URLs are not here: a browser opening one gets the web UI.)
 */
const NOT_WEB_UI = /^\/(api|rest|\.well-known|nodeinfo|inbox)(\/|$)/;

/**
 * The built SPA (web/dist) in one-process mode; in production nginx serves the same files with the same
 * rules. Vite's hashed files under /assets/ never change, so browsers keep them for a year without
 * asking; index.html and the other files are revalidated on every load (`no-cache`), so a new release
 * shows up at the next visit.
 *
 * `files` (files that exist, and /assets/ as a whole) goes before Fedify: no federation route is a
 * file, and Fedify would log each asset request as a 404. `fallback` (index.html for any other GET: a
 * client-side route) goes after it, so Fedify still answers actor URLs asked for as ActivityPub.
 */
export function webUiRoutes(webDir: string): { files: Router; fallback: Router } {
  const files = Router();
  files.use(
    "/assets",
    express.static(path.join(webDir, "assets"), { index: false, maxAge: "1y", immutable: true, redirect: false }),
    // A missing asset (a page open across a release) must not get index.html back as JavaScript.
    (_req, res) => void res.status(404).type("text/plain").send("Not found"),
  );
  files.use(
    express.static(webDir, {
      index: false,
      redirect: false,
      setHeaders: (res) => res.setHeader("Cache-Control", "no-cache"),
    }),
  );

  const fallback = Router();
  const indexFile = path.join(webDir, "index.html");
  fallback.get("/{*path}", (req, res, next) => {
    // Only for whoever takes HTML: an ActivityPub client asking for an unknown actor gets a 404.
    if (NOT_WEB_UI.test(req.path) || !req.accepts("html")) return next();
    res.setHeader("Cache-Control", "no-cache");
    res.sendFile(indexFile);
  });
  return { files, fallback };
}
