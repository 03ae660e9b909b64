import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// The chat box, built to web/dist and served by the service at /. Everything it needs is bundled: the page
// makes no request outside the service.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: true,
  },
  server: {
    proxy: Object.fromEntries(
      [
        "/chat",
        "/sessions",
        "/workflow",
        "/template",
        "/templates",
        "/stats",
        "/health",
        "/artifacts",
        "/models",
      ].map((path) => [path, "http://127.0.0.1:8000"]),
    ),
  },
});
