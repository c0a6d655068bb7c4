import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

/** An RFC 9457 problem answered by the API (or a transport failure dressed as one). */
export class ApiError extends Error {
  readonly status: number;
  /** Stable snake_case code from the problem body, e.g. `invalid_credentials`. */
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;

  constructor(status: number, code: string, title: string, detail?: string) {
    super(detail ?? title);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
  }
}

// The CSRF token belongs to the server-side session; the session hooks hand it over whenever
// a session is read or created, and drop it on sign-out.
let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

async function toApiError(response: Response): Promise<ApiError> {
  const type = response.headers.get("Content-Type") ?? "";
  if (type.includes("json")) {
    try {
      const body = (await response.clone().json()) as Partial<Record<string, unknown>>;
      const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
      return new ApiError(
        response.status,
        str(body.code) ?? `http_${response.status}`,
        str(body.title) ?? response.statusText,
        str(body.detail),
      );
    } catch {
      // Not JSON after all: fall through to the status line.
    }
  }
  return new ApiError(response.status, `http_${response.status}`, response.statusText || `HTTP ${response.status}`);
}

const session: Middleware = {
  onRequest({ request }) {
    if (csrfToken && !SAFE_METHODS.has(request.method)) {
      request.headers.set("X-CSRF-Token", csrfToken);
    }
    return request;
  },
  // Every non-2xx answer becomes a thrown ApiError, so callers (and TanStack Query) only ever
  // see data on the happy path and one typed error otherwise.
  async onResponse({ response }) {
    if (!response.ok) throw await toApiError(response);
    return undefined;
  },
  onError({ error }) {
    if (error instanceof ApiError) return error;
    return new ApiError(0, "network_error", error instanceof Error ? error.message : String(error));
  },
};

/** The spec's `servers[0].url`: paths in `schema.d.ts` are relative to it. */
export const API_BASE = "/api/v1";

export const api = createClient<paths>({ baseUrl: API_BASE, credentials: "include" });
api.use(session);

/**
 * The middleware already threw on any error status, so what is left is the success body.
 * Generic over every endpoint: `await data(api.GET("/me/dashboard"))`.
 */
export async function data<T>(call: Promise<{ data?: T; response: Response }>): Promise<T> {
  const result = await call;
  return result.data as T;
}
