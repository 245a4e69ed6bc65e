import { describe, expect, it } from "vitest";

import { DEFAULT_CONFIG, loadConfig, signInLoops } from "./config.ts";

function answer(status: number, body: unknown): () => Promise<Response> {
  return () =>
    Promise.resolve(
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json" },
      }),
    );
}

describe("loadConfig", () => {
  it("reads the backend's config", async () => {
    const config = await loadConfig(
      answer(200, { signInUrl: "https://platform.example/sign-in", apiBase: "/ledger/" }),
    );
    expect(config).toEqual({ signInUrl: "https://platform.example/sign-in", apiBase: "/ledger" });
  });

  it("falls back to the defaults on a 404", async () => {
    expect(await loadConfig(answer(404, { title: "Not Found" }))).toEqual(DEFAULT_CONFIG);
  });

  it("falls back to the defaults when the network fails or the body is odd", async () => {
    expect(await loadConfig(() => Promise.reject(new TypeError("offline")))).toEqual(
      DEFAULT_CONFIG,
    );
    expect(await loadConfig(answer(200, ["nope"]))).toEqual(DEFAULT_CONFIG);
    expect(await loadConfig(answer(200, { signInUrl: 3 }))).toEqual(DEFAULT_CONFIG);
  });
});

describe("signInLoops", () => {
  const here = new URL("https://ledger.example/");

  it("detects a sign-in address that is this very page", () => {
    expect(signInLoops("/", here)).toBe(true);
    expect(signInLoops("https://ledger.example/", here)).toBe(true);
  });

  it("lets other pages and origins be redirected to", () => {
    expect(signInLoops("/", new URL("https://ledger.example/billing"))).toBe(false);
    expect(signInLoops("https://platform.example/", here)).toBe(false);
  });
});
