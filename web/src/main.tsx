import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
// Base styles first, so that the components' own stylesheets (bundled in import order) win ties.
import "./shared/styles/base.css";
import { App } from "./App";
import { createQueryClient } from "./queryClient";
import "./shared/i18n";

const queryClient = createQueryClient();
const root = document.getElementById("root");
if (!root) throw new Error("index.html lacks #root");

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
