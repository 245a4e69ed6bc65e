/**
 * The platform's bearer token. It arrives in the URL fragment (`/#token=…`, so it never
 * reaches a server log), lives in sessionStorage for the tab, and is decoded here only to
 * read `sub` (the organizer id) and `exp`: verifying it is the server's job.
 */

export const TOKEN_KEY = "renewal-ledger.token";

/** Seconds of clock skew tolerated before a token counts as expired. */
const EXPIRY_SKEW_S = 5;

export interface TokenClaims {
  sub: string;
  /** Unix seconds. */
  exp: number;
}

/** The token in a location fragment ("#token=…"), or null. */
export function tokenFromFragment(hash: string): string | null {
  const fragment = hash.startsWith("#") ? hash.slice(1) : hash;
  const token = new URLSearchParams(fragment).get("token");
  return token?.trim() ? token.trim() : null;
}

/** The fragment with the token removed ("" when nothing else was there). */
export function fragmentWithoutToken(hash: string): string {
  const params = new URLSearchParams(hash.startsWith("#") ? hash.slice(1) : hash);
  params.delete("token");
  const rest = params.toString();
  return rest ? `#${rest}` : "";
}

function base64UrlDecode(part: string): string {
  const base64 = part.replaceAll("-", "+").replaceAll("_", "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `sub` and `exp` of a JWT, or null when it is not a JWT that has both. */
export function decodeToken(token: string): TokenClaims | null {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) {
    return null;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(base64UrlDecode(parts[1]));
  } catch {
    return null;
  }
  if (!isRecord(payload)) {
    return null;
  }
  const { sub, exp } = payload;
  if (typeof sub !== "string" || sub === "" || typeof exp !== "number" || !Number.isFinite(exp)) {
    return null;
  }
  return { sub, exp };
}

/** True once `exp` has passed (with a few seconds of skew), at `nowMs`. */
export function isExpired(claims: TokenClaims, nowMs: number): boolean {
  return claims.exp * 1000 <= nowMs + EXPIRY_SKEW_S * 1000;
}

/** Milliseconds until the token expires (0 if it already has). */
export function msUntilExpiry(claims: TokenClaims, nowMs: number): number {
  return Math.max(0, claims.exp * 1000 - EXPIRY_SKEW_S * 1000 - nowMs);
}

/** The token's `role` claim (absent: organizer, as the server reads it). */
export type Role = "organizer" | "finance" | "ops";

const ROLES: readonly Role[] = ["organizer", "finance", "ops"];

/**
 * The role a token claims, only to choose what the SPA shows (the API enforces it).
 * Anything but a known staff role reads as organizer, so a malformed claim shows no more.
 */
export function roleOf(token: string): Role {
  const part = token.split(".")[1];
  try {
    const payload: unknown = part ? JSON.parse(base64UrlDecode(part)) : null;
    const role = isRecord(payload) ? payload.role : undefined;
    return ROLES.find((known) => known === role) ?? "organizer";
  } catch {
    return "organizer";
  }
}

/** Finance and ops see the staff area (/staff); organizers never see a link to it. */
export function isStaff(role: Role): boolean {
  return role === "finance" || role === "ops";
}

export interface Session {
  token: string;
  claims: TokenClaims;
}

/**
 * The session for this tab: a token from the fragment wins (and is stored), else the
 * stored one. Null when there is none, or it is malformed or expired (then it is removed).
 */
export function resolveSession(hash: string, storage: Storage, nowMs: number): Session | null {
  const fresh = tokenFromFragment(hash);
  if (fresh !== null) {
    storage.setItem(TOKEN_KEY, fresh);
  }
  const token = storage.getItem(TOKEN_KEY);
  if (token === null) {
    return null;
  }
  const claims = decodeToken(token);
  if (claims === null || isExpired(claims, nowMs)) {
    storage.removeItem(TOKEN_KEY);
    return null;
  }
  return { token, claims };
}

export function forgetToken(storage: Storage): void {
  storage.removeItem(TOKEN_KEY);
}
