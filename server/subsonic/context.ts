import type { AccountService } from "../../core/accounts/accounts.service.ts";
import type { CatalogService } from "../../core/catalog/catalog.service.ts";
import type { UserDataService } from "../../core/catalog/user-data.service.ts";
import type { LibraryScansService } from "../../core/library/library-scans.service.ts";
import type { UploadsService } from "../../core/library/uploads.service.ts";
import type { PlayableAudioService } from "../../core/library/playable-audio.ts";
import type { AlbumCovers } from "../../core/library/remote-covers.ts";
import type { ListensService } from "../../core/listens/listens.service.ts";
import type { PlayQueueService } from "../../core/listens/play-queue.service.ts";
import type { Transcoder } from "../../core/media/transcoder.ts";
import type { PlaylistsService } from "../../core/playlists/playlists.service.ts";
import type { SearchService } from "../../core/search/search.service.ts";
import type { SubsonicUser } from "../../core/subsonic/credentials.service.ts";
import type { SubsonicCatalogService } from "../../core/subsonic/subsonic-catalog.service.ts";
import type { MediaReply } from "./media-reply.ts";
import type { Params } from "./params.ts";
import type { Elem, Format } from "./response.ts";

/** The services Subsonic methods call, built once by the composition root (server/main.ts). */
export interface SubsonicServices {
  catalog: CatalogService;
  subsonicCatalog: SubsonicCatalogService;
  userData: UserDataService;
  listens: ListensService;
  playQueue: PlayQueueService;
  playlists: PlaylistsService;
  search: SearchService;
  scans: LibraryScansService;
  accounts: AccountService;
  uploads: UploadsService;
  /** Opens what stream and download send (a remote track's first play fetches it). */
  playback: PlayableAudioService;
  /** getCoverArt's hashes (a remote album's cover is fetched the first time). */
  covers: AlbumCovers;
  transcoder: Transcoder;
  /** Our origin, for the absolute URLs some answers carry (artist info images). */
  publicUrl: URL;
}

/** What a Subsonic method handler gets: the caller, the merged parameters, the services and a way to send bytes. */
export interface SubsonicContext {
  params: Params;
  format: Format;
  user: SubsonicUser;
  services: SubsonicServices;
  /** For the methods that answer with a file or a stream (stream, download, getCoverArt) rather than a payload. */
  reply: MediaReply;
}

/** Returns the payload of an ok response, or "sent" when it answered through ctx.reply (binary data). */
export type SubsonicHandler = (ctx: SubsonicContext) => Promise<Elem | "sent">;
