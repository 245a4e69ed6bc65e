/**
 * Money and dates read one way on the whole billing page: every panel formats through
 * `lib/format.ts` in the organizer's locale (LocaleContext), and no other module formats
 * numbers or dates by itself.
 */
import type { ReactNode } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import type { Api } from "../lib/api.ts";
import { LocaleContext } from "../lib/locale.tsx";
import { SessionContext } from "../lib/session.tsx";
import { toTimelineItem } from "../lib/timeline.ts";
import { billing, paidInvoice } from "../test/fixtures.ts";
import { ChargeSummary } from "./ChargeSummary.tsx";
import { InvoiceTable } from "./InvoicesPanel.tsx";
import { SubscriptionPanel } from "./SubscriptionPanel.tsx";
import { TimelineList } from "./TimelineList.tsx";

/** Intl separates with (narrow) no-break spaces; compare with plain ones. */
const plain = (text: string): string => text.replace(/\s/g, " ");

function render(node: ReactNode, locale: string): string {
  const session = { organizerId: "org-1", api: {} as Api };
  return plain(
    renderToStaticMarkup(
      <LocaleContext.Provider value={locale}>
        <SessionContext.Provider value={session}>{node}</SessionContext.Provider>
      </LocaleContext.Provider>,
    ),
  );
}

const PAID = paidInvoice();
const INVOICE = {
  invoice_id: "in_1",
  status: "paid",
  billing_reason: "subscription_cycle",
  period_start: "2025-06-01T00:00:00Z",
  period_end: "2025-07-01T00:00:00Z",
  quantity: 7,
  subtotal: 3500,
  tax: 665,
  total: 4165,
  currency: "eur",
};
const CONTEXT = { periodStart: "2025-06-01T00:00:00Z", nextRenewalAt: "2025-07-01T00:00:00Z" };

function page(locale: string): Record<string, string> {
  const current = billing({
    last_sync: { status: "confirmed", quantity: 7, at: "2025-06-02T08:00:00Z", error: null },
  });
  return {
    charge: render(<ChargeSummary billing={current} />, locale),
    subscription: render(<SubscriptionPanel billing={current} />, locale),
    invoices: render(<InvoiceTable invoices={[INVOICE]} />, locale),
    timeline: render(
      <TimelineList items={[toTimelineItem(PAID, { ...CONTEXT, locale })]} />,
      locale,
    ),
  };
}

describe("one way to write money and dates", () => {
  it("writes every amount on the page in the organizer's locale", () => {
    const de = page("de-DE");
    expect(de.charge).toContain("35,00 €");
    expect(de.charge).toContain("5,00 €");
    expect(de.subscription).toContain("35,00 €");
    expect(de.invoices).toContain("41,65 €");
    expect(de.timeline).toContain("41,65 €");
    expect(de.timeline).toContain("35,00 € + 6,65 € tax");
    for (const html of Object.values(de)) {
      expect(html).not.toMatch(/€\d|EUR/);
    }
    const us = page("en-US");
    expect(us.timeline).toContain("€41.65");
    expect(us.invoices).toContain("€41.65");
  });

  it("writes every date on the page in the organizer's locale, as UTC days", () => {
    const de = page("de-DE");
    expect(de.subscription).toContain("01.06.2025"); // next renewal
    expect(de.subscription).toContain("2. Juni 2025, 08:00 UTC"); // last sync
    expect(de.invoices).toContain("01.06. – 01.07.2025"); // Intl's own range
    expect(de.timeline).toContain("01.06. – 01.07.2025");
    const gb = page("en-GB");
    expect(gb.invoices).toContain("1 Jun – 1 Jul 2025");
    expect(gb.timeline).toContain("1 Jun – 1 Jul 2025");
  });
});

describe("no formatting outside lib/format.ts", () => {
  const sources = import.meta.glob<string>(["../**/*.{ts,tsx}", "!../**/*.test.{ts,tsx}"], {
    query: "?raw",
    import: "default",
    eager: true,
  });

  it("finds the sources", () => {
    expect(Object.keys(sources)).toContain("../lib/format.ts");
    expect(Object.keys(sources).length).toBeGreaterThan(20);
  });

  it.each(Object.keys(sources).filter((path) => path !== "../lib/format.ts"))(
    "%s formats nothing by itself",
    (path) => {
      expect(sources[path]).not.toMatch(/\.toFixed\(|\.toLocale\w*\(|\bIntl\.|\/ ?100\b/);
    },
  );
});
