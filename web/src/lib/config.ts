import type { AppConfig } from "./types.ts";

export const DEFAULT_CONFIG: AppConfig = { signInUrl: "/", apiBase: "" };

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * GET /config.json from the backend: where the platform's sign-in lives and where the API
 * is. Any failure (404 before the backend serves it, a network error, bad JSON) falls
 * back to the defaults: sign in at "/", the API on this origin.
 */
export async function loadConfig(fetchFn: Fetch): Promise<AppConfig> {
  try {
    const response = await fetchFn("/config.json", { headers: { Accept: "application/json" } });
    if (!response.ok) {
      return DEFAULT_CONFIG;
    }
    const body: unknown = await response.json();
    if (typeof body !== "object" || body === null) {
      return DEFAULT_CONFIG;
    }
    const { signInUrl, apiBase } = body as Partial<Record<keyof AppConfig, unknown>>;
    return {
      signInUrl: typeof signInUrl === "string" && signInUrl ? signInUrl : DEFAULT_CONFIG.signInUrl,
      apiBase: typeof apiBase === "string" ? apiBase.replace(/\/+$/, "") : DEFAULT_CONFIG.apiBase,
    };
  } catch {
    return DEFAULT_CONFIG;
  }
}

/**
 * Whether sending the browser to `signInUrl` would just load this page again (the default
 * "/" while the SPA itself is at "/"): then the SPA shows a signed-out page instead of
 * redirecting in a loop.
 */
export function signInLoops(signInUrl: string, current: URL): boolean {
  const target = new URL(signInUrl, current);
  return target.origin === current.origin && target.pathname === current.pathname;
}
