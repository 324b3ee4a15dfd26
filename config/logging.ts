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
    loggers: [
      { category: ["polyphony"], lowestLevel: config.log.level, sinks: sinkNames },
      { category: ["fedify"], lowestLevel: config.log.level === "trace" ? "debug" : "warning", sinks: sinkNames },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}

export async function closeLogging(): Promise<void> {
  await dispose();
}

export type { LogRecord, Sink };
