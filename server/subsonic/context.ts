import type { Request, Response } from "express";
import type pg from "pg";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { AppConfig } from "../../config/env.ts";
import type { ActorService } from "../../core/accounts/actors.service.ts";
import type { CatalogService } from "../../core/catalog/catalog.service.ts";
import type { UploadsService } from "../../core/library/uploads.service.ts";
import type { Transcoder } from "../../core/media/transcoder.ts";
import type { SubsonicUser } from "../../core/subsonic/credentials.service.ts";
import type { Params } from "./params.ts";
import type { Elem, Format } from "./response.ts";

/** What a Subsonic method handler gets: the caller, the merged parameters and the services. */
export interface SubsonicContext {
  req: Request;
  res: Response;
  params: Params;
  format: Format;
  user: SubsonicUser;
  pool: pg.Pool;
  catalog: CatalogService;
  uploads: UploadsService;
  transcoder: Transcoder;
  config: AppConfig;
  orm: MikroORM;
  actors: ActorService;
}

/** Returns the payload of an ok response, or "sent" when it wrote the response itself (binary data). */
export type SubsonicHandler = (ctx: SubsonicContext) => Promise<Elem | "sent">;
