import type { Formatters } from "../lib/format.ts";
import { groups } from "../lib/format.ts";
import type { ChargeEstimate } from "../lib/types.ts";

/**
 * How an estimated charge adds up, in words, for the parenthesis after its total:
 * "3 groups × €10.00, less €5.00 discount, plus tax". `taxDetail` also names who
 * calculates an open tax and the tax included in the total.
 */
export function estimateBreakdown(
  estimate: ChargeEstimate,
  format: Formatters,
  { taxDetail = false }: { taxDetail?: boolean } = {},
): string {
  const parts = [
    groups(estimate.quantity) +
      (estimate.unit_amount === null
        ? ", priced by Stripe's tiers"
        : ` × ${format.money(estimate.unit_amount, estimate.currency)}`),
  ];
  if (estimate.discount) {
    parts.push(`less ${format.money(estimate.discount, estimate.currency)} discount`);
  }
  if (estimate.tax === null) {
    parts.push(taxDetail ? "plus tax calculated by Stripe" : "plus tax");
  } else if (taxDetail && estimate.tax > 0) {
    parts.push(`including ${format.money(estimate.tax, estimate.currency)} tax`);
  }
  return parts.join(", ");
}
