import { readFile } from "node:fs/promises";
import path from "node:path";
import express, { Router } from "express";
import { objectUrls } from "../../core/fediverse/object-urls.ts";

/**
 * Prefixes of the APIs and of machine-only federation endpoints: an unknown path under them is a 404,
 * never the web UI. (Actor URLs are not here: a browser opening one gets the web UI.)
 */
const NOT_WEB_UI = /^\/(api|rest|\.well-known|nodeinfo|inbox)(\/|$)/;

/** A library's page in the web UI. */
const LIBRARY_PAGE = /^\/libraries\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/?$/i;

/**
 * The ActivityPub document a page of the web UI shows, which its HTML names as the first `<link
 * rel="alternate">` in `<head>`, so that pasting the page's URL into another server finds the document
 * (Funkwhale takes the first such link). Derived from the URL alone: a missing library's page gets the
 * same link as a private one's, so the HTML never tells whether a library exists (its collection
 * answers that, to whoever holds its unguessable URL).
 */
export function alternateOf(pathname: string, publicUrl: URL): string | null {
  const library = LIBRARY_PAGE.exec(pathname);
  return library ? objectUrls(publicUrl).library(library[1]!.toLowerCase()) : null;
}

/** index.html with `<link rel="alternate">` to `href` as the first element of its head. */
export function withAlternateLink(html: string, href: string): string {
  const escaped = href.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return html.replace(/<head(\s[^>]*)?>/i, (head) => `${head}<link rel="alternate" type="application/activity+json" href="${escaped}">`);
}

/**
 * The built SPA (web/dist) in one-process mode; in production nginx serves the same files with the same
 * rules. Vite's hashed files under /assets/ never change, so browsers keep them for a year without
 * asking; index.html and the other files are revalidated on every load (`no-cache`), so a new release
 * shows up at the next visit.
 *
 * `files` (files that exist, and /assets/ as a whole) goes before Fedify: no federation route is a
 * file, and Fedify would log each asset request as a 404. `fallback` (index.html for any other GET: a
 * client-side route) goes after it, so Fedify still answers actor URLs asked for as ActivityPub. A
 * library's page carries its collection's URL as `<link rel="alternate">` (alternateOf); behind nginx,
 * the site config sends those pages here for that.
 */
export function webUiRoutes(webDir: string, publicUrl: URL): { files: Router; fallback: Router } {
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
    if (NOT_WEB_UI.test(req.path)) return next();
    // Only for whoever takes HTML: an ActivityPub client asking for an unknown actor gets a 404. A page
    // naming its document answers every client, as a server that was given its URL reads the link.
    const alternate = alternateOf(req.path, publicUrl);
    if (!alternate && !req.accepts("html")) return next();
    res.setHeader("Cache-Control", "no-cache");
    if (!alternate) return res.sendFile(indexFile);
    // Read at each request, as sendFile does: a new release's index.html shows at once.
    return readFile(indexFile, "utf8").then((html) => void res.type("html").send(withAlternateLink(html, alternate)));
  });
  return { files, fallback };
}
