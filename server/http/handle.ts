import type { Request, RequestHandler, Response } from "express";
import type { z } from "zod";

/**
 * Wraps an async handler that returns the response DTO: `undefined` becomes 204, anything else JSON.
 * Express 5 forwards rejections to the error handler, which maps domain errors.
 */
export function handle(fn: (req: Request, res: Response) => Promise<unknown> | unknown, status = 200): RequestHandler {
  return async (req, res) => {
    const body = await fn(req, res);
    if (res.headersSent) return;
    if (body === undefined) res.status(204).end();
    else res.status(res.statusCode !== 200 ? res.statusCode : status).json(body);
  };
}

/** Parses input with a zod schema; a ZodError becomes a 400 naming each bad field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  return schema.parse(input ?? {});
}
