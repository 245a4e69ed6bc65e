import type { ReactNode } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { LocaleContext } from "../lib/locale.tsx";
import type { InvoiceDetail } from "../lib/types.ts";
import { CountedGroups, Corrections, InvoiceSummary } from "./InvoiceExplained.tsx";

const DETAIL: InvoiceDetail = {
  invoice: {
    invoice_id: "in_2",
    status: "paid",
    billing_reason: "subscription_cycle",
    period_start: "2025-07-01T00:00:00Z",
    period_end: "2025-08-01T00:00:00Z",
    quantity: 2,
    subtotal: 1000,
    tax: 190,
    total: 1190,
    currency: "eur",
  },
  counted_at: "2025-07-01T00:00:00Z",
  counted_groups: [
    { group_id: "g1", group_name: "Chess club" },
    { group_id: "g2", group_name: null },
  ],
  previous_invoice_id: "in_1",
  changes_since: "2025-06-01T00:00:00Z",
  changes_since_previous: [
    {
      group_id: "g2",
      group_name: null,
      change: "opened",
      occurred_at: "2025-06-10T12:00:00Z",
      change_id: "c2",
    },
    {
      group_id: "g3",
      group_name: "Choir",
      change: "closed",
      occurred_at: "2025-06-20T12:00:00Z",
      change_id: "c3",
    },
  ],
  corrections: [
    {
      correction_id: "cor_1",
      kind: "credit_note",
      quantity: -1,
      amount: { amount: -500, currency: "eur" },
      status: "confirmed",
      requested_at: "2025-07-02T00:00:00Z",
    },
  ],
  hosted_invoice_url: null,
  invoice_pdf: null,
};
const plain = (text: string): string => text.replace(/\s/g, " ");

function render(node: ReactNode): string {
  return plain(
    renderToStaticMarkup(<LocaleContext.Provider value="en-GB">{node}</LocaleContext.Provider>),
  );
}

describe("InvoiceExplained", () => {
  it("names every group counted, by name where the platform sent one", () => {
    const html = render(<CountedGroups detail={DETAIL} />);
    expect(html).toContain("2 groups were active on");
    expect(html).toContain('<strong>Chess club</strong> <span class="muted">(g1)</span>');
    expect(html).toContain("<li><strong>g2</strong></li>");
  });

  it("lists every change since the previous invoice", () => {
    const html = render(<CountedGroups detail={DETAIL} />);
    expect(html).toContain("Changes since the previous invoice (1 Jun 2025)");
    expect(html).toContain("<strong>g2</strong> opened");
    expect(html).toContain('<strong>Choir</strong> <span class="muted">(g3)</span> closed');
  });

  it("says so when nothing changed", () => {
    const html = render(<CountedGroups detail={{ ...DETAIL, changes_since_previous: [] }} />);
    expect(html).toContain("No group opened or closed in between.");
  });

  it("shows tax apart and links Stripe's documents only when known", () => {
    const html = render(<InvoiceSummary detail={DETAIL} />);
    expect(html).toContain("<dt>Tax</dt><dd>€1.90</dd>");
    expect(html).not.toContain("View on Stripe");
    const linked = render(
      <InvoiceSummary
        detail={{ ...DETAIL, hosted_invoice_url: "https://invoice.stripe.com/i/x" }}
      />,
    );
    expect(linked).toContain('href="https://invoice.stripe.com/i/x"');
  });

  it("lists the ledger's corrections with their amounts", () => {
    const html = render(<Corrections detail={DETAIL} />);
    expect(html).toContain("Credited on a credit note: -1 group, -€5.00 before tax");
    expect(render(<Corrections detail={{ ...DETAIL, corrections: [] }} />)).toBe("");
  });
});
