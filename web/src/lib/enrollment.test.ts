import { describe, expect, it } from "vitest";

import { billing } from "../test/fixtures.ts";
import { homeRoute, isEnrolled, nextPollStep, POLL_TIMEOUT_MS } from "./enrollment.ts";

describe("nextPollStep", () => {
  it("keeps waiting while Stripe has not confirmed", () => {
    const pending = billing({ enrollment_status: "pending", subscription: null });
    expect(nextPollStep(pending, 1500)).toBe("wait");
    expect(nextPollStep(null, 1500)).toBe("wait");
  });

  it("stops once the subscription is active or past due", () => {
    expect(nextPollStep(billing(), 3000)).toBe("confirmed");
    expect(nextPollStep(billing({ enrollment_status: "past_due" }), 3000)).toBe("confirmed");
  });

  it("gives up after about a minute", () => {
    expect(nextPollStep(null, POLL_TIMEOUT_MS)).toBe("timeout");
    expect(nextPollStep(billing({ enrollment_status: "pending" }), POLL_TIMEOUT_MS + 1)).toBe(
      "timeout",
    );
  });

  it("prefers a late confirmation to a timeout", () => {
    expect(nextPollStep(billing(), POLL_TIMEOUT_MS * 2)).toBe("confirmed");
  });
});

describe("homeRoute", () => {
  it("sends organizers without a subscription to enrollment", () => {
    expect(homeRoute(null)).toBe("/enroll");
    expect(homeRoute(billing({ enrollment_status: "not_enrolled", subscription: null }))).toBe(
      "/enroll",
    );
    expect(homeRoute(billing({ enrollment_status: "pending", subscription: null }))).toBe(
      "/enroll",
    );
  });

  it("sends enrolled (and formerly enrolled) organizers to billing", () => {
    expect(homeRoute(billing())).toBe("/billing");
    expect(homeRoute(billing({ enrollment_status: "canceled" }))).toBe("/billing");
  });

  it("counts only active and past-due as enrolled", () => {
    expect(isEnrolled(billing({ enrollment_status: "canceled" }))).toBe(false);
    expect(isEnrolled(billing({ enrollment_status: "past_due" }))).toBe(true);
  });
});
