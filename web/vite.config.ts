// Vite builds the SPA into web/dist (hashed assets under assets/); pages are lazy chunks so the first load stays small.
import { fileURLToPath } from "node:url";
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

const backend = "http://localhost:4000";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [vue()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
    // bench/web-bundle.bench.ts measures the bundle; the per-plugin timing report is noise here.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
  // `npx vite web` serves the sources with hot reload; the API comes from `npm start` on port 4000.
  server: {
    proxy: {
      "/api": { target: backend, changeOrigin: false },
      "/rest": { target: backend, changeOrigin: false },
    },
  },
});
