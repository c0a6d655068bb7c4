import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The backend resolves the tenant from the Host header, so the dev proxy must keep it
// (`changeOrigin: false`): open http://demo.localhost:5173 and /api reaches the backend as demo.
const backend = process.env.KABINET_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  server: {
    allowedHosts: [".localhost"],
    proxy: {
      "/api": { target: backend, changeOrigin: false },
    },
  },
  build: { outDir: "dist", sourcemap: true },
});
