import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { entry } from "../test/fixtures.ts";
import { toTimelineItem } from "../lib/timeline.ts";
import { TimelineList } from "./TimelineList.tsx";

const CONTEXT = {
  periodStart: "2025-05-01T00:00:00Z",
  nextRenewalAt: "2025-06-01T00:00:00Z",
  locale: "en-GB",
};

describe("TimelineList", () => {
  it("renders each entry as a list item with a machine-readable time", () => {
    const html = renderToStaticMarkup(<TimelineList items={[toTimelineItem(entry(), CONTEXT)]} />);
    expect(html).toContain("<ol");
    expect(html).toMatch(/<time datetime="2025-05-03T09:30:00Z"/i);
    expect(html).toContain('<h3 class="timeline__title">Group berlin-hikers closed</h3>');
    expect(html).toContain("→ 7 groups billed from the 1 Jun 2025 renewal");
  });

  it("labels amounts for screen readers", () => {
    const item = toTimelineItem(
      entry({ kind: "invoice_recorded", amount: { amount: 3500, currency: "eur" } }),
      CONTEXT,
    );
    const html = renderToStaticMarkup(<TimelineList items={[item]} />);
    expect(html).toContain('<span class="visually-hidden">Amount: </span>€35.00');
  });
});

describe("TimelineList folding", () => {
  it("says how many times a folded fact happened", () => {
    const item = toTimelineItem(entry(), CONTEXT, 3);
    const html = renderToStaticMarkup(<TimelineList items={[item]} />);
    expect(html).toContain('<span class="muted"> (3 times)</span>');
  });
});
