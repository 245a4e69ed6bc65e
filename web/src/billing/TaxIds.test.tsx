/** The billing page shows the customer's tax ids, and says why an estimate is missing. */
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import type { Api } from "../lib/api.ts";
import { LocaleContext } from "../lib/locale.tsx";
import { SessionContext } from "../lib/session.tsx";
import { billing } from "../test/fixtures.ts";
import { SubscriptionPanel } from "./SubscriptionPanel.tsx";
import { taxIdLabel } from "./TaxIds.tsx";

function render(data: ReturnType<typeof billing>): string {
  const session = { organizerId: "org-1", api: {} as Api };
  return renderToStaticMarkup(
    <LocaleContext.Provider value="en-GB">
      <SessionContext.Provider value={session}>
        <SubscriptionPanel billing={data} />
      </SessionContext.Provider>
    </LocaleContext.Provider>,
  );
}

describe("tax ids on the billing page", () => {
  it("lists each tax id with its type in words", () => {
    const html = render(
      billing({
        tax_ids: [
          { type: "eu_vat", value: "DE123456789" },
          { type: "xx_new", value: "X-1" },
        ],
      }),
    );
    expect(html).toContain("Tax IDs");
    expect(html).toContain('DE123456789 <span class="muted">(EU VAT)</span>');
    expect(html).toContain('X-1 <span class="muted">(XX NEW)</span>');
  });

  it("shows no tax id row when Stripe reported none", () => {
    expect(render(billing())).not.toContain("Tax IDs");
  });

  it("names an unknown type by its code", () => {
    expect(taxIdLabel("br_cnpj")).toBe("BR CNPJ");
  });
});

describe("an estimate the ledger cannot make", () => {
  it("says the price is not recorded yet", () => {
    const html = render(
      billing({
        estimated_next_charge: null,
        price: null,
        estimate_absent_reason: "price_unknown",
      }),
    );
    expect(html).not.toContain("Estimated next charge");
    expect(html).toContain("has not recorded your price");
  });

  it("says a tiered price is shown by Stripe on the invoice", () => {
    const html = render(
      billing({
        estimated_next_charge: null,
        price: null,
        estimate_absent_reason: "price_not_per_unit",
      }),
    );
    expect(html).toContain("Your price is tiered");
  });

  it("says nothing when there is an estimate", () => {
    expect(render(billing())).not.toContain("notice");
  });
});

describe("an estimate from Stripe's preview (tiered or volume price)", () => {
  it("names no per-group amount: the subtotal is Stripe's, never an average", () => {
    const html = render(
      billing({
        price: null,
        estimated_next_charge: {
          quantity: 7,
          unit_amount: null,
          subtotal: 3000,
          discount: 0,
          tax: 0,
          total: 3000,
          currency: "eur",
          source: "invoice_preview",
        },
      }),
    );
    expect(html).toContain("€30.00");
    expect(html).toContain("priced by Stripe&#x27;s tiers");
    expect(html).not.toContain("×");
  });
});

describe("an estimate of a discounted subscription", () => {
  it("shows the discount Stripe's preview takes off", () => {
    const html = render(
      billing({
        estimated_next_charge: {
          ...billing().estimated_next_charge!,
          discount: 875,
          total: 2625,
          source: "invoice_preview",
        },
      }),
    );
    expect(html).toContain("€26.25");
    expect(html).toContain("less €8.75 discount");
  });

  it("explains a discount whose preview is not recorded yet", () => {
    const html = render(
      billing({ estimated_next_charge: null, estimate_absent_reason: "discount_not_previewed" }),
    );
    expect(html).toContain("has a discount");
  });
});
