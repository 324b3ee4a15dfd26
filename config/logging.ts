import { AsyncLocalStorage } from "node:async_hooks";
import {
  configure,
  dispose,
  getConsoleSink,
  getLogfmtFormatter,
  jsonLinesFormatter,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";
import type { AppConfig } from "./env.ts";

export { getLogger, withContext } from "@logtape/logtape";

/**
 * Configures LogTape once per process. Context (request id, job id) flows through AsyncLocalStorage,
 * so every line logged while handling a request carries its id. `extraSinks` lets tests capture records.
 */
export async function configureLogging(
  config: Pick<AppConfig, "log">,
  extraSinks: Record<string, Sink> = {},
): Promise<void> {
  const formatter = config.log.format === "json" ? jsonLinesFormatter : getLogfmtFormatter();
  const sinkNames = ["console", ...Object.keys(extraSinks)];
  await configure({
    reset: true,
    contextLocalStorage: new AsyncLocalStorage<Record<string, unknown>>(),
    sinks: { console: getConsoleSink({ formatter }), ...extraSinks },
    filters: { fedifyNews: isFedifyNews },
    loggers: [
      { category: ["polyphony"], lowestLevel: config.log.level, sinks: sinkNames },
      {
        category: ["fedify"],
        lowestLevel: config.log.level === "trace" ? "debug" : "warning",
        sinks: sinkNames,
        filters: ["fedifyNews"],
      },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}

/**
 * Fedify's lines minus those that repeat our own at a louder level: its line per request (a 4xx is a
 * warning there, though a missing actor or a client's mistake is routine, and our access log has the
 * request already; a 5xx stays), and a WebFinger lookup of an unknown or unlisted account, which it
 * calls an error.
 */
function isFedifyNews(record: LogRecord): boolean {
  const [, area, part] = record.category;
  if (area === "federation" && part === "http") return record.level !== "warning";
  // "{username}": a handle our mapper declines (a private library's); "{identifier}": no such actor.
  return !(area === "webfinger" && (record.rawMessage === "Actor {identifier} not found." || record.rawMessage === "Actor {username} not found."));
}

export async function closeLogging(): Promise<void> {
  await dispose();
}

export type { LogRecord, Sink };
