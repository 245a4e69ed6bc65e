import { groups } from "../lib/format.ts";
import { useFormat } from "../lib/locale.tsx";
import type { OrganizerBilling } from "../lib/types.ts";
import { estimateBreakdown } from "./estimate.ts";

function perInterval(interval: string): string {
  return interval === "month" ? "per month" : `per ${interval}`;
}

/** Active groups, price per group and the resulting charge per period. */
export function ChargeSummary({ billing }: { billing: OrganizerBilling }) {
  const format = useFormat();
  const { price, estimated_next_charge: estimate } = billing;
  const minimumApplies = billing.billable_quantity > billing.active_groups.count;
  return (
    <dl className="facts">
      <div>
        <dt>Active groups</dt>
        <dd>{billing.active_groups.count}</dd>
      </div>
      {price && (
        <div>
          <dt>Price per group</dt>
          <dd>
            {format.money(price.unit_amount, price.currency)} {perInterval(price.interval)}
          </dd>
        </div>
      )}
      {estimate && price && (
        <div className="facts__total">
          <dt>{price.interval === "month" ? "Monthly charge" : "Charge per period"}</dt>
          <dd>
            <strong>{format.money(estimate.total, estimate.currency)}</strong>{" "}
            <span className="muted">
              ({estimateBreakdown(estimate, format, { taxDetail: true })})
            </span>
            {minimumApplies && (
              <span className="note">
                At least {groups(billing.billable_quantity)} are billed, even with fewer active.
              </span>
            )}
          </dd>
        </div>
      )}
    </dl>
  );
}
