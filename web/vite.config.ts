/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The gateway serves web/dist; in `npm run dev` the API is proxied to a running gateway.
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { "/api": process.env.OB_GATEWAY ?? "http://127.0.0.1:8080" },
  },
  build: {
    outDir: "dist",
    sourcemap: false, // production builds ship no source maps
    chunkSizeWarningLimit: 1024,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
