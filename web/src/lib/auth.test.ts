import { describe, expect, it } from "vitest";

import {
  decodeToken,
  fragmentWithoutToken,
  isExpired,
  msUntilExpiry,
  resolveSession,
  TOKEN_KEY,
  tokenFromFragment,
} from "./auth.ts";

function base64Url(text: string): string {
  const binary = String.fromCharCode(...new TextEncoder().encode(text));
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A JWT-shaped token; the signature is never checked client-side. */
function jwt(payload: Record<string, unknown>): string {
  return `${base64Url('{"alg":"HS256","typ":"JWT"}')}.${base64Url(JSON.stringify(payload))}.c2ln`;
}

class MemoryStorage implements Storage {
  #items = new Map<string, string>();
  get length(): number {
    return this.#items.size;
  }
  clear(): void {
    this.#items.clear();
  }
  getItem(key: string): string | null {
    return this.#items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.#items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.#items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.#items.set(key, value);
  }
}

const NOW_MS = Date.UTC(2025, 5, 1, 12, 0, 0);
const NOW_S = NOW_MS / 1000;

describe("tokenFromFragment", () => {
  it("reads #token=… and ignores other fragments", () => {
    expect(tokenFromFragment("#token=abc.def.ghi")).toBe("abc.def.ghi");
    expect(tokenFromFragment("#x=1&token=t")).toBe("t");
    expect(tokenFromFragment("#main")).toBeNull();
    expect(tokenFromFragment("")).toBeNull();
    expect(tokenFromFragment("#token=")).toBeNull();
  });

  it("leaves the rest of the fragment when the token is dropped", () => {
    expect(fragmentWithoutToken("#token=t")).toBe("");
    expect(fragmentWithoutToken("#token=t&tab=2")).toBe("#tab=2");
  });
});

describe("decodeToken", () => {
  it("reads sub and exp, including non-ASCII subjects", () => {
    expect(decodeToken(jwt({ sub: "org-42", exp: NOW_S + 60 }))).toEqual({
      sub: "org-42",
      exp: NOW_S + 60,
    });
    expect(decodeToken(jwt({ sub: "organisé-ü", exp: 1 }))?.sub).toBe("organisé-ü");
  });

  it("refuses tokens without a string sub or a numeric exp", () => {
    expect(decodeToken(jwt({ exp: NOW_S }))).toBeNull();
    expect(decodeToken(jwt({ sub: "org", exp: "tomorrow" }))).toBeNull();
    expect(decodeToken(jwt({ sub: "", exp: NOW_S }))).toBeNull();
  });

  it("refuses what is not a JWT", () => {
    expect(decodeToken("not-a-token")).toBeNull();
    expect(decodeToken("a.!!!.c")).toBeNull();
    expect(decodeToken(`a.${base64Url("[1,2]")}.c`)).toBeNull();
  });
});

describe("expiry", () => {
  it("counts a token as expired a few seconds early (clock skew)", () => {
    expect(isExpired({ sub: "o", exp: NOW_S + 60 }, NOW_MS)).toBe(false);
    expect(isExpired({ sub: "o", exp: NOW_S + 3 }, NOW_MS)).toBe(true);
    expect(isExpired({ sub: "o", exp: NOW_S - 1 }, NOW_MS)).toBe(true);
  });

  it("says how long is left", () => {
    expect(msUntilExpiry({ sub: "o", exp: NOW_S + 65 }, NOW_MS)).toBe(60_000);
    expect(msUntilExpiry({ sub: "o", exp: NOW_S - 100 }, NOW_MS)).toBe(0);
  });
});

describe("resolveSession", () => {
  it("stores a token from the fragment", () => {
    const storage = new MemoryStorage();
    const token = jwt({ sub: "org-1", exp: NOW_S + 3600 });
    const session = resolveSession(`#token=${token}`, storage, NOW_MS);
    expect(session?.claims.sub).toBe("org-1");
    expect(storage.getItem(TOKEN_KEY)).toBe(token);
  });

  it("keeps the stored token on later loads without a fragment", () => {
    const storage = new MemoryStorage();
    storage.setItem(TOKEN_KEY, jwt({ sub: "org-1", exp: NOW_S + 3600 }));
    expect(resolveSession("", storage, NOW_MS)?.claims.sub).toBe("org-1");
  });

  it("lets a new token from the fragment replace the stored one", () => {
    const storage = new MemoryStorage();
    storage.setItem(TOKEN_KEY, jwt({ sub: "org-old", exp: NOW_S + 3600 }));
    const fresh = jwt({ sub: "org-new", exp: NOW_S + 3600 });
    expect(resolveSession(`#token=${fresh}`, storage, NOW_MS)?.claims.sub).toBe("org-new");
  });

  it("forgets an expired or malformed token", () => {
    const storage = new MemoryStorage();
    storage.setItem(TOKEN_KEY, jwt({ sub: "org-1", exp: NOW_S - 1 }));
    expect(resolveSession("", storage, NOW_MS)).toBeNull();
    expect(storage.getItem(TOKEN_KEY)).toBeNull();
    expect(resolveSession("#token=garbage", storage, NOW_MS)).toBeNull();
    expect(storage.getItem(TOKEN_KEY)).toBeNull();
  });

  it("has no session without any token", () => {
    expect(resolveSession("", new MemoryStorage(), NOW_MS)).toBeNull();
  });
});
