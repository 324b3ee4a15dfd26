// Operator commands: `npm run cli -- <command>`. Run `npm run cli -- help` for the list.
import { useCompileCache } from "./config/compile-cache.ts";

useCompileCache();
await import("./cli-commands.ts");
