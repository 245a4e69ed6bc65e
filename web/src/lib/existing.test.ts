import { describe, expect, it } from "vitest";

import { Api, ApiError } from "./api.ts";
import { existing } from "../test/existing.ts";
import {
  chargeAfterMove,
  confirmMove,
  existingOrNull,
  offersMove,
  untilBillingShowsIt,
} from "./existing.ts";
import { billing } from "../test/fixtures.ts";

function answering(response: () => Response): { urls: string[]; methods: string[]; api: Api } {
  const urls: string[] = [];
  const methods: string[] = [];
  const fetchFn = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    urls.push(String(input));
    methods.push(init?.method ?? "GET");
    return Promise.resolve(response());
  };
  const api = new Api({ base: "", token: "t", onUnauthorized: () => {}, fetchFn });
  return { urls, methods, api };
}

function problem(status: number, title: string): Response {
  return new Response(JSON.stringify({ type: "about:blank", title, status, detail: title }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });
}

describe("existingOrNull", () => {
  it("asks the organizer's existing-subscription route", async () => {
    const { urls, api } = answering(() => Response.json(existing()));
    expect((await existingOrNull(api, "org 1"))?.subscription_id).toBe("sub_legacy");
    expect(urls).toEqual(["/api/organizers/org%201/existing-subscription"]);
  });

  it("reads nothing found and already per group as nothing to offer", async () => {
    for (const [status, title] of [
      [404, "No existing subscription"],
      [409, "Already enrolled"],
    ] as const) {
      const { api } = answering(() => problem(status, title));
      expect(await existingOrNull(api, "org-1")).toBeNull();
    }
  });

  it("lets other failures show as errors", async () => {
    const { api } = answering(() => problem(503, "Stripe unavailable"));
    await expect(existingOrNull(api, "org-1")).rejects.toBeInstanceOf(ApiError);
  });
});

describe("confirmMove", () => {
  it("posts the confirmation", async () => {
    const { urls, methods, api } = answering(() => Response.json(existing({ moved: true })));
    const answer = await confirmMove(api, "org-1");
    expect(answer).not.toBe("enrolled");
    expect(urls).toEqual(["/api/organizers/org-1/existing-subscription/confirm"]);
    expect(methods).toEqual(["POST"]);
  });

  it("takes already enrolled as done, and refuses a move that cannot be made", async () => {
    expect(await confirmMove(answering(() => problem(409, "Already enrolled")).api, "o")).toBe(
      "enrolled",
    );
    await expect(
      confirmMove(answering(() => problem(409, "Cannot move")).api, "o"),
    ).rejects.toBeInstanceOf(ApiError);
  });
});

describe("offersMove and chargeAfterMove", () => {
  it("offers only what is found and not moved yet", () => {
    expect(offersMove(existing())).toBe(true);
    expect(offersMove(existing({ moved: true }))).toBe(false);
    expect(offersMove(null)).toBe(false);
  });

  it("prices today's groups at the per-group price in minor units", () => {
    expect(chargeAfterMove(existing())).toBe(1500);
    const tiered = existing().moves_to;
    expect(chargeAfterMove(existing({ moves_to: { ...tiered, unit_amount: null } }))).toBeNull();
  });
});

describe("untilBillingShowsIt", () => {
  it("polls the billing until it shows the subscription", async () => {
    const answers = [
      problem(404, "Organizer not found"),
      Response.json(billing({ enrollment_status: "not_enrolled", subscription: null })),
      Response.json(billing()),
    ];
    const { urls, api } = answering(() => answers.shift() ?? Response.json(billing()));
    const slept: number[] = [];
    await untilBillingShowsIt(api, "org-1", (ms) => {
      slept.push(ms);
      return Promise.resolve();
    });
    expect(urls).toHaveLength(3);
    expect(slept).toEqual([1500, 1500]);
  });

  it("gives up after a minute", async () => {
    const { urls, api } = answering(() => problem(404, "Organizer not found"));
    let clock = 0;
    await untilBillingShowsIt(
      api,
      "org-1",
      () => {
        clock += 30_000;
        return Promise.resolve();
      },
      () => clock,
    );
    expect(urls).toHaveLength(3);
  });
});
