import type { Request, Response } from "express";
import type { AppConfig } from "../../config/env.ts";
import { NotFound } from "../../core/errors.ts";
import type { UploadRow } from "../../core/library/uploads.service.ts";
import type { CoverSize } from "../../core/media/artwork.ts";
import { ensureCoverFile } from "../../core/media/cover-derivatives.ts";
import type { PlayableAudio } from "../../core/library/playable-audio.ts";
import type { Transcoder } from "../../core/media/transcoder.ts";
import { sendPlayable } from "../http/send-media.ts";
import { sendTranscode, type TranscodeJob } from "../http/send-transcode.ts";

/**
 * All a Subsonic handler may do with the HTTP response: send an upload's file, ffmpeg's output or a
 * cover. Handlers never see the request or the response themselves.
 */
export interface MediaReply {
  /**
   * The file as it is, with Range (or X-Accel-Redirect in nginx mode), or a remote upload's bytes as they
   * arrive; `download`: as an attachment under its original name.
   */
  original(upload: Pick<UploadRow, "storage" | "mime_type" | "original_name">, audio: PlayableAudio, options: { download: boolean }): Promise<void>;
  /** ffmpeg's output (send-transcode.ts); TranscodeFailed when ffmpeg fails before its first byte. */
  transcoded(job: TranscodeJob): Promise<void>;
  /** A stored cover image at one of our sizes; NotFound when its file is missing. */
  cover(hash: string, size: CoverSize): Promise<void>;
}

/** What every reply shares, made once by the router. */
export interface MediaReplyDeps {
  serving: AppConfig["media"]["serving"];
  coversDir: string;
  transcoder: Transcoder;
}

/** The MediaReply of one request (one small object a request: its methods live on the prototype). */
export class ExpressMediaReply implements MediaReply {
  readonly #req: Request;
  readonly #res: Response;
  readonly #deps: MediaReplyDeps;

  constructor(req: Request, res: Response, deps: MediaReplyDeps) {
    this.#req = req;
    this.#res = res;
    this.#deps = deps;
  }

  async original(upload: Pick<UploadRow, "storage" | "mime_type" | "original_name">, audio: PlayableAudio, options: { download: boolean }): Promise<void> {
    if (options.download) this.#res.attachment(upload.original_name);
    await sendPlayable(this.#req, this.#res, audio, upload, this.#deps.serving);
  }

  transcoded(job: TranscodeJob): Promise<void> {
    return sendTranscode(this.#req, this.#res, this.#deps.transcoder, job);
  }

  async cover(hash: string, size: CoverSize): Promise<void> {
    const file = await ensureCoverFile(this.#deps.coversDir, hash, size, "jpeg");
    const res = this.#res;
    return new Promise<void>((resolve, reject) => {
      // Content-addressed, so the bytes never change; but the URL carries credentials: no shared caches.
      res.setHeader("Cache-Control", "private, max-age=86400");
      res.sendFile(file, { cacheControl: false, lastModified: false, dotfiles: "deny" }, (error) => {
        if (!error) resolve();
        else if ((error as { code?: string }).code === "ENOENT" || (error as { status?: number }).status === 404) reject(new NotFound("cover"));
        else reject(error);
      });
    });
  }
}
