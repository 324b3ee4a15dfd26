// Runs in every test worker before each file: quiet logs unless TEST_LOG_LEVEL asks for more.
import { configureLogging } from "../config/logging.ts";

const level = (process.env.TEST_LOG_LEVEL ?? "error") as "error";
await configureLogging({ log: { level, format: "text" } });
