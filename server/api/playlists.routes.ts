import express, { Router } from "express";
import { z } from "zod";
import { Invalid } from "../../core/errors.ts";
import { PRIVACY_LEVELS } from "../../core/library/library.entity.ts";
import { MAX_IMPORT_BYTES } from "../../core/playlists/playlist-entry.ts";
import { formatOf, PLAYLIST_FORMATS } from "../../core/playlists/playlist-formats.ts";
import type { PlaylistItemRow } from "../../core/playlists/playlist-items.ts";
import type { PlaylistRow } from "../../core/playlists/playlists.service.ts";
import { smartRulesSchema } from "../../core/playlists/smart-rules.ts";
import { currentAuth, requireUser } from "../http/auth.ts";
import { handle, parse } from "../http/handle.ts";
import { pathId } from "../http/ids.ts";
import type { Operation } from "../http/openapi.ts";
import type { ServerDeps } from "../deps.ts";

const MAX_TRACKS_PER_REQUEST = 1000;

const fields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000),
  privacy: z.enum(PRIVACY_LEVELS),
  rules: smartRulesSchema,
};
/** With `rules`, a smart playlist: its tracks are evaluated from them on every read. */
const createBody = z.strictObject({
  name: fields.name,
  description: fields.description.optional(),
  privacy: fields.privacy.optional(),
  rules: fields.rules.optional(),
});
const updateBody = z.strictObject(fields).partial();
const position = z.number().int().min(0).max(1_000_000);
const addBody = z.strictObject({
  trackIds: z.array(z.guid().transform((id) => id.toLowerCase())).min(1).max(MAX_TRACKS_PER_REQUEST),
  position: position.optional(),
});
const moveBody = z.strictObject({ position });
const pageOf = (max: number, fallback: number) => ({
  limit: z.coerce.number().int().min(1).max(max).default(fallback),
  offset: z.coerce.number().int().min(0).default(0),
});
const listQuery = z.object({ scope: z.enum(["mine", "visible"]).default("mine"), ...pageOf(200, 50) });
const itemsQuery = z.object(pageOf(1000, 1000));
const exportQuery = z.object({ format: z.enum(PLAYLIST_FORMATS).default("m3u8") });
const importQuery = z.object({
  format: z.enum(PLAYLIST_FORMATS).optional(),
  name: fields.name.optional(),
  privacy: fields.privacy.optional(),
});

/** The import body is the file itself, whatever its content type; the JSON parser never saw it. */
const fileBody = express.text({ type: () => true, limit: MAX_IMPORT_BYTES });

const tag = "Playlists";
export const playlistsOperations: Operation[] = [
  { method: "get", path: "/playlists", tag, summary: "Your playlists and those you follow on other servers (read-only); scope=visible adds others' shared ones", auth: true, query: listQuery },
  { method: "post", path: "/playlists", tag, summary: "Create a playlist; with `rules`, a smart one (private, its tracks evaluated on each read)", auth: true, body: createBody, status: 201 },
  { method: "post", path: "/playlists/import", tag, summary: "Create a playlist from an M3U8 or XSPF file (the body is the file)", auth: true, query: importQuery, status: 201 },
  { method: "get", path: "/playlists/:id", tag, summary: "A playlist you may see, with a page of its items", query: itemsQuery },
  { method: "patch", path: "/playlists/:id", tag, summary: "Rename, describe or re-share your playlist; change a smart one's rules", auth: true, body: updateBody },
  { method: "delete", path: "/playlists/:id", tag, summary: "Delete your playlist", auth: true, status: 204 },
  { method: "get", path: "/playlists/:id/export", tag, summary: "The playlist as an M3U8 or XSPF file", query: exportQuery },
  { method: "post", path: "/playlists/:id/items", tag, summary: "Add tracks (at the end, or at a position); a smart playlist's items cannot be edited (403)", auth: true, body: addBody, status: 201 },
  { method: "delete", path: "/playlists/:id/items", tag, summary: "Remove every item", auth: true, status: 204 },
  { method: "delete", path: "/playlists/:id/items/:itemId", tag, summary: "Remove one item", auth: true, status: 204 },
  { method: "post", path: "/playlists/:id/items/:itemId/move", tag, summary: "Move an item to a position", auth: true, body: moveBody },
];

export function playlistsRoutes(deps: ServerDeps): Router {
  const router = Router();
  const { playlists, playlistFiles: files } = deps;
  const id = (value: string | string[] | undefined) => pathId(value, "playlist");
  const itemId = (value: string | string[] | undefined) => pathId(value, "playlist item");

  router.get("/", requireUser, handle(async (req, res) => {
    const { user } = currentAuth(res);
    const { scope, limit, offset } = parse(listQuery, req.query);
    const page = await playlists.list(user, scope, { limit, offset });
    return { items: page.items.map((p) => toPlaylistDto(p, user.id)), total: page.total, limit, offset };
  }));

  router.post("/", requireUser, handle(async (req, res) => {
    const { user } = currentAuth(res);
    return toPlaylistDto(await playlists.create(user, parse(createBody, req.body)), user.id);
  }, 201));

  router.post("/import", requireUser, fileBody, handle(async (req, res) => {
    const { user } = currentAuth(res);
    const query = parse(importQuery, req.query);
    if (typeof req.body !== "string") {
      throw new Invalid("Send the playlist file itself as the request body", [{ path: "body", message: "Expected the file's text" }]);
    }
    const format = formatOf(query.format, req.get("content-type"));
    const result = await files.import(user, format, req.body, { name: query.name, privacy: query.privacy });
    return { ...result, playlist: toPlaylistDto(result.playlist, user.id) };
  }, 201));

  router.get("/:id", handle(async (req, res) => {
    const viewer = res.locals.auth?.user;
    const page = parse(itemsQuery, req.query);
    const { playlist, items } = await playlists.withItems(viewer, id(req.params.id), page);
    return { ...toPlaylistDto(playlist, viewer?.id), items: items.map(toItemDto), ...page };
  }));

  router.patch("/:id", requireUser, handle(async (req, res) => {
    const { user } = currentAuth(res);
    return toPlaylistDto(await playlists.update(user, id(req.params.id), parse(updateBody, req.body)), user.id);
  }));

  router.delete("/:id", requireUser, handle(async (req, res) => {
    await playlists.delete(currentAuth(res).user, id(req.params.id));
    return undefined;
  }));

  router.get("/:id/export", async (req, res) => {
    const { format } = parse(exportQuery, req.query);
    const file = await files.export(res.locals.auth?.user, id(req.params.id), format);
    res.attachment(file.filename).type(file.contentType).send(file.body);
  });

  router.post("/:id/items", requireUser, handle(async (req, res) => {
    const { trackIds, position: at } = parse(addBody, req.body);
    const added = await playlists.addTracks(currentAuth(res).user, id(req.params.id), trackIds, at);
    return { items: added.map(toItemDto) };
  }, 201));

  router.delete("/:id/items", requireUser, handle(async (req, res) => {
    await playlists.clear(currentAuth(res).user, id(req.params.id));
    return undefined;
  }));

  router.delete("/:id/items/:itemId", requireUser, handle(async (req, res) => {
    await playlists.removeItem(currentAuth(res).user, id(req.params.id), itemId(req.params.itemId));
    return undefined;
  }));

  router.post("/:id/items/:itemId/move", requireUser, handle(async (req, res) => {
    const { position: to } = parse(moveBody, req.body);
    const item = await playlists.moveItem(currentAuth(res).user, id(req.params.id), itemId(req.params.itemId), to);
    return toItemDto(item);
  }));

  return router;
}

function toPlaylistDto(p: PlaylistRow, viewerId: string | undefined) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    privacy: p.privacy,
    actorId: p.actor_fid,
    owner: { id: p.owner_id, username: p.owner_username },
    isOwner: p.owner_id === viewerId,
    // Followed from another server (`remoteId` is its id there): read-only here.
    readOnly: p.owner_id === null,
    remoteId: p.fid,
    // Smart: its tracks come from `rules`, evaluated on each read; its items cannot be edited.
    smart: p.rules !== null,
    rules: p.rules,
    itemCount: p.item_count,
    durationMs: Number(p.duration_ms),
    createdAt: new Date(p.created_at).toISOString(),
    updatedAt: new Date(p.updated_at).toISOString(),
  };
}

/** `albumId` is there for available tracks, so clients can show `/api/v1/albums/<id>/cover`. */
function toItemDto(item: PlaylistItemRow) {
  return {
    id: item.id,
    position: item.position,
    trackId: item.track_id,
    available: item.track_id !== null,
    title: item.title,
    artist: item.artist,
    album: item.album,
    albumId: item.album_id,
    durationMs: item.duration_ms,
    mbid: item.mbid,
    addedAt: new Date(item.added_at).toISOString(),
  };
}
