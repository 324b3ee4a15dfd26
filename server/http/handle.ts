import type { Request, RequestHandler, Response } from "express";
import type { z } from "zod";

/**
 * Handlers still running in this process. A handler may outlive its connection (an upload cut short
 * removes its file and its batch), so a shutdown waits for them before it closes the database.
 */
const running = new Set<Promise<unknown>>();

/**
 * Wraps an async handler that returns the response DTO: `undefined` becomes 204, anything else JSON.
 * Express 5 forwards rejections to the error handler, which maps domain errors.
 */
export function handle(fn: (req: Request, res: Response) => Promise<unknown> | unknown, status = 200): RequestHandler {
  return (req, res) => {
    const work = respond(fn, status, req, res);
    running.add(work);
    const forget = () => void running.delete(work);
    work.then(forget, forget);
    return work;
  };
}

async function respond(fn: (req: Request, res: Response) => Promise<unknown> | unknown, status: number, req: Request, res: Response) {
  const body = await fn(req, res);
  if (res.headersSent) return;
  if (body === undefined) res.status(204).end();
  else res.status(res.statusCode !== 200 ? res.statusCode : status).json(body);
}

/** Resolves once every handler running now has finished, however it ended. */
export async function handlersSettled(): Promise<void> {
  await Promise.allSettled([...running]);
}

/** Parses input with a zod schema; a ZodError becomes a 400 naming each bad field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  return schema.parse(input ?? {});
}
