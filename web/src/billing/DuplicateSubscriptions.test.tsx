import type { ReactNode } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { LocaleContext } from "../lib/locale.tsx";
import { billing } from "../test/fixtures.ts";
import { DuplicateSubscriptions } from "./DuplicateSubscriptions.tsx";

function render(node: ReactNode): string {
  return renderToStaticMarkup(
    <LocaleContext.Provider value="en-GB">{node}</LocaleContext.Provider>,
  );
}

describe("DuplicateSubscriptions", () => {
  it("names each other live subscription and the one billed per group", () => {
    const html = render(
      <DuplicateSubscriptions
        billing={billing({
          duplicate_subscriptions: [
            {
              subscription_id: "sub_2",
              primary_subscription_id: "sub_1",
              found_at: "2025-05-03T10:00:00Z",
            },
          ],
        })}
      />,
    );
    expect(html).toContain("More than one subscription");
    expect(html).toContain("<code>sub_2</code>");
    expect(html).toContain("<code>sub_1</code>");
    expect(html).toContain("3 May 2025");
  });

  it("shows nothing without duplicates", () => {
    expect(render(<DuplicateSubscriptions billing={billing()} />)).toBe("");
  });
});
