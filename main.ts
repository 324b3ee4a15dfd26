// Entry point: `node main.ts [all|web|worker]` (npm start / npm run web / npm run worker).
import { useCompileCache } from "./config/compile-cache.ts";

useCompileCache();
await import("./server-process.ts");
