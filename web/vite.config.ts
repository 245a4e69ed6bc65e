/// <reference types="vitest/config" />
import { copyFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/** The backend's API server during `npm run dev` (`ledger dev up`). */
const BACKEND = process.env.LEDGER_DEV_BACKEND ?? "http://127.0.0.1:8000";

/** Swagger UI's two files for the backend's `/docs` page (served from `dist/docs/`). */
const SWAGGER_FILES = [
  "swagger-ui.css",
  "swagger-ui-bundle.js",
  "swagger-ui-bundle.js.LICENSE.txt",
  "LICENSE",
  "NOTICE",
] as const;

function swaggerUiAssets(): Plugin {
  let outDir = "dist";
  return {
    name: "renewal-ledger:swagger-ui-assets",
    apply: "build",
    configResolved(config) {
      outDir = join(config.root, config.build.outDir);
    },
    async closeBundle() {
      const require = createRequire(import.meta.url);
      const source = dirname(require.resolve("swagger-ui-dist/package.json"));
      const target = join(outDir, "docs");
      await mkdir(target, { recursive: true });
      await Promise.all(
        SWAGGER_FILES.map((file) => copyFile(join(source, file), join(target, file))),
      );
    },
  };
}

export default defineConfig({
  plugins: [react(), swaggerUiAssets()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
  },
  server: {
    proxy: {
      "/api": BACKEND,
      "/config.json": BACKEND,
    },
  },
  test: {
    environment: "node",
    // West of UTC, so a date helper that used local time would show May 31 for June 1.
    env: { TZ: "America/New_York" },
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
