import { describe, expect, it } from "vitest";

import { Api, ApiError, SessionExpiredError } from "./api.ts";
import type { Problem } from "./types.ts";

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function recording(response: () => Response): { calls: Call[]; fetchFn: typeof fetch } {
  const calls: Call[] = [];
  const fetchFn = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input), init });
    return Promise.resolve(response());
  };
  return { calls, fetchFn: fetchFn as typeof fetch };
}

function problem(status: number, title: string, detail: string): Response {
  return new Response(JSON.stringify({ type: "about:blank", title, status, detail }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });
}

function api(fetchFn: typeof fetch, unauthorized: Problem[] = []): Api {
  return new Api({
    base: "",
    token: "tok",
    onUnauthorized: (p) => unauthorized.push(p),
    fetchFn,
  });
}

describe("Api", () => {
  it("sends the bearer token and escapes the organizer id", async () => {
    const { calls, fetchFn } = recording(() => Response.json({ invoices: [] }));
    await api(fetchFn).invoices("org/1 x");
    expect(calls[0]?.url).toBe("/api/organizers/org%2F1%20x/invoices?limit=20");
    expect((calls[0]?.init?.headers as Record<string, string>).Authorization).toBe("Bearer tok");
  });

  it("pages the timeline with a cursor", async () => {
    const { calls, fetchFn } = recording(() => Response.json({ entries: [], next_cursor: null }));
    await api(fetchFn).timeline("org-1", { cursor: "MTA6MA", limit: 5 });
    expect(calls[0]?.url).toBe("/api/organizers/org-1/timeline?cursor=MTA6MA&limit=5");
  });

  it("pages the invoices with a cursor", async () => {
    const { calls, fetchFn } = recording(() => Response.json({ invoices: [], next_cursor: null }));
    await api(fetchFn).invoices("org-1", { cursor: "WyJ4IiwieSJd", limit: 24 });
    expect(calls[0]?.url).toBe("/api/organizers/org-1/invoices?cursor=WyJ4IiwieSJd&limit=24");
  });

  it("posts the enrollment request as JSON", async () => {
    const { calls, fetchFn } = recording(() =>
      Response.json({ url: "https://checkout", session_id: "cs_1", quantity: 3, reused: false }),
    );
    const body = { success_url: "https://l/enroll/return", cancel_url: "https://l/enroll" };
    const link = await api(fetchFn).enroll("org-1", body);
    expect(link.url).toBe("https://checkout");
    expect(calls[0]?.init?.method).toBe("POST");
    expect(JSON.parse(String(calls[0]?.init?.body))).toEqual(body);
  });

  it("turns a problem+json answer into an ApiError carrying its detail", async () => {
    const { fetchFn } = recording(() => problem(409, "Already enrolled", "org-1 is enrolled"));
    const error = await api(fetchFn)
      .enroll("org-1", { success_url: "a", cancel_url: "b" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, detail: "org-1 is enrolled" });
  });

  it("reports a 401 as the end of the session", async () => {
    const unauthorized: Problem[] = [];
    const { fetchFn } = recording(() => problem(401, "Unauthorized", "the token has expired"));
    const error = await api(fetchFn, unauthorized)
      .billing("org-1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionExpiredError);
    expect(unauthorized.map((p) => p.detail)).toEqual(["the token has expired"]);
  });

  it("describes an answer that is not problem+json by its status", async () => {
    const { fetchFn } = recording(
      () => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }),
    );
    const error = await api(fetchFn)
      .billing("org-1")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, detail: "The server answered 502 Bad Gateway." });
  });

  it("says when the service cannot be reached", async () => {
    const fetchFn = (() => Promise.reject(new TypeError("fetch failed"))) as typeof fetch;
    const error = await api(fetchFn)
      .billing("org-1")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, title: "Network error" });
  });
});
