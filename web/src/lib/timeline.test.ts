import { describe, expect, it } from "vitest";

import {
  consequenceOf,
  mergePages,
  tellStory,
  timelineContext,
  toTimelineItem,
} from "./timeline.ts";
import { billing, entry, paidInvoice } from "../test/fixtures.ts";

const CONTEXT = {
  periodStart: "2025-05-01T00:00:00Z",
  nextRenewalAt: "2025-06-01T00:00:00Z",
  locale: "en-GB",
};

describe("consequenceOf", () => {
  it("says from which renewal a group change is billed", () => {
    expect(consequenceOf(entry(), CONTEXT)).toBe("→ 7 groups billed from the 1 Jun 2025 renewal");
  });

  it("counts one group in the singular", () => {
    expect(consequenceOf(entry({ kind: "group_activated", quantity: 1 }), CONTEXT)).toBe(
      "→ 1 group billed from the 1 Jun 2025 renewal",
    );
  });

  it("does not tie a change from an earlier period to the next renewal", () => {
    expect(consequenceOf(entry({ at: "2025-04-20T00:00:00Z" }), CONTEXT)).toBe(
      "→ 7 groups billable",
    );
  });

  it("explains changes before enrollment", () => {
    const before = { periodStart: null, nextRenewalAt: null, locale: "en-GB" };
    expect(consequenceOf(entry(), before)).toBe("→ 7 groups to bill once you enroll");
  });

  it("adds nothing to entries whose title already says it", () => {
    expect(consequenceOf(entry({ kind: "quantity_sync_confirmed" }), CONTEXT)).toBeNull();
    expect(consequenceOf(entry({ quantity: null }), CONTEXT)).toBeNull();
  });
});

describe("toTimelineItem", () => {
  it("formats the time and the amount", () => {
    const item = toTimelineItem(
      entry({
        kind: "invoice_recorded",
        title: "Payment received",
        amount: { amount: 3500, currency: "eur" },
      }),
      CONTEXT,
    );
    expect(item.key).toBe("10:0");
    expect(item.when.replace(/\s/g, " ")).toBe("3 May 2025, 09:30 UTC");
    expect(item.amount).toBe("€35.00");
    expect(item.consequence).toBeNull();
    expect(item.period).toBeNull();
    expect(item.breakdown).toBeNull();
  });

  it("formats an invoice's period and its tax apart, from values the API sends", () => {
    const item = toTimelineItem(paidInvoice(), CONTEXT);
    expect(item.period?.replace(/\s/g, " ")).toBe("1 Jun – 1 Jul 2025");
    expect(item.breakdown).toBe("€35.00 + €6.65 tax");
  });

  it("leaves the breakdown out when there is no tax", () => {
    const item = toTimelineItem(
      entry({ subtotal: { amount: 3500, currency: "eur" }, tax: { amount: 0, currency: "eur" } }),
      CONTEXT,
    );
    expect(item.breakdown).toBeNull();
  });
});

describe("timelineContext", () => {
  it("takes the current period from the subscription", () => {
    expect(timelineContext(billing(), "en-GB")).toEqual(CONTEXT);
  });

  it("has no next renewal once canceled", () => {
    expect(timelineContext(billing({ enrollment_status: "canceled" })).nextRenewalAt).toBeNull();
  });

  it("has no period before enrollment", () => {
    const context = timelineContext(billing({ subscription: null, next_renewal_at: null }));
    expect(context.periodStart).toBeNull();
  });
});

describe("mergePages", () => {
  it("appends the next page without repeating an entry", () => {
    const first = [entry({ position: 9 }), entry({ position: 8 })];
    const second = [entry({ position: 8 }), entry({ position: 7 })];
    expect(mergePages(first, second).map((e) => e.position)).toEqual([9, 8, 7]);
  });
});

describe("tellStory", () => {
  const draft = paidInvoice({
    position: 20,
    title: "Invoice draft",
    invoice_id: "in_1",
    at: "2025-06-01T00:00:00Z",
  });
  const paid = paidInvoice({ position: 22, invoice_id: "in_1", at: "2025-06-01T01:00:00Z" });

  it("tells an invoice once, at its newest status", () => {
    const story = tellStory([paid, draft]);
    expect(story.map((s) => s.entry.title)).toEqual(["Payment received"]);
  });

  it("folds consecutive repeats of the same fact and counts them", () => {
    const announced = entry({ kind: "renewal_upcoming", title: "Renewal announced", quantity: 3 });
    const story = tellStory([
      { ...announced, position: 3 },
      { ...announced, position: 2 },
      entry({ position: 1 }),
    ]);
    expect(story.map((s) => [s.entry.title, s.repeats])).toEqual([
      ["Renewal announced", 2],
      ["Group berlin-hikers closed", 1],
    ]);
  });

  it("does not fold the same fact apart in time by another", () => {
    const announced = entry({ kind: "renewal_upcoming", title: "Renewal announced", quantity: 3 });
    const story = tellStory([announced, entry(), announced]);
    expect(story.map((s) => s.repeats)).toEqual([1, 1, 1]);
  });

  it("filters groups, billing and payments", () => {
    const sync = entry({ kind: "quantity_sync_confirmed", title: "Billing set to 7 groups" });
    const all = [entry(), sync, paid];
    expect(tellStory(all, new Set(["groups"])).map((s) => s.entry.kind)).toEqual([
      "group_deactivated",
    ]);
    expect(tellStory(all, new Set(["billing", "payments"])).map((s) => s.entry.kind)).toEqual([
      "quantity_sync_confirmed",
      "invoice_recorded",
    ]);
  });
});
