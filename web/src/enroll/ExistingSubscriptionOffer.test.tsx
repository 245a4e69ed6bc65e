import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { Api } from "../lib/api.ts";
import { existing } from "../test/existing.ts";
import { LocaleContext } from "../lib/locale.tsx";
import { SessionContext } from "../lib/session.tsx";
import type { ExistingSubscription } from "../lib/existing.ts";
import { ExistingSubscriptionOffer } from "./ExistingSubscriptionOffer.tsx";

function render(found: ExistingSubscription): string {
  const api = new Api({ base: "", token: "t", onUnauthorized: () => {} });
  return renderToStaticMarkup(
    <LocaleContext.Provider value="en-GB">
      <SessionContext.Provider value={{ organizerId: "org-1", api }}>
        <ExistingSubscriptionOffer existing={found} />
      </SessionContext.Provider>
    </LocaleContext.Provider>,
  );
}

describe("ExistingSubscriptionOffer", () => {
  it("says what was found, what moves when, and offers the confirmation", () => {
    const html = render(existing());
    expect(html).toContain("We found your existing subscription");
    expect(html).toContain("<code>sub_legacy</code>");
    expect(html).toContain("1 × €49.00 per month");
    expect(html).toMatch(
      /<time datetime="2026-02-01T00:00:00Z">1 Feb 2026<\/time>, you pay €5.00/i,
    );
    expect(html).toContain("Nothing is charged now");
    expect(html).toContain("With 3 groups today, that renewal would be €15.00");
    expect(html).toContain(">Move to per-group billing</button>");
  });

  it("says a tiered price in words instead of an amount", () => {
    const tiered = { ...existing().price, unit_amount: null };
    const html = render(existing({ price: tiered, moves_to: tiered }));
    expect(html).toContain("1 × a tiered price");
    expect(html).toContain("You have 3 groups today.");
  });
});
