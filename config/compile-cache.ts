/**
 * Node's module compile cache: after the first run, our TypeScript and its dependencies load from their
 * compiled code instead of being parsed anew. Measured: a CLI command starts ~0.1 s sooner (0.40 -> 0.34 s),
 * a tag-reader thread ~60 ms sooner. An entry point enables it before importing anything else, since an
 * ES module's static imports are all compiled before its first line runs.
 *
 * The cache lives in node_modules/.cache (or NODE_COMPILE_CACHE), never in the shared temporary folder,
 * where another local user could plant compiled code for our sources. It is left in the environment so
 * worker threads use it too. A cache that cannot be written is skipped: the modules then load as before.
 */
import { enableCompileCache } from "node:module";
import { fileURLToPath } from "node:url";

export function useCompileCache(): void {
  const { directory } = enableCompileCache(process.env.NODE_COMPILE_CACHE ?? fileURLToPath(new URL("../node_modules/.cache/node-compile-cache", import.meta.url)));
  if (directory) process.env.NODE_COMPILE_CACHE = directory;
}
