import { StatusBadge } from "../components/StatusBadge.tsx";
import { groups, humanize } from "../lib/format.ts";
import { useFormat } from "../lib/locale.tsx";
import type { OrganizerBilling } from "../lib/types.ts";
import { estimateBreakdown } from "./estimate.ts";
import { PortalButton } from "./PortalButton.tsx";
import { EstimateAbsentNote, TaxIdsFact } from "./TaxIds.tsx";

/** Status, next renewal and the estimated charge, with notes for anything unusual. */
export function SubscriptionPanel({ billing }: { billing: OrganizerBilling }) {
  const format = useFormat();
  const estimate = billing.estimated_next_charge;
  return (
    <section aria-labelledby="subscription-heading" className="panel">
      <h2 id="subscription-heading">Subscription</h2>
      <dl className="facts">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={billing.enrollment_status} />
          </dd>
        </div>
        <div>
          <dt>Active groups</dt>
          <dd>{billing.active_groups.count}</dd>
        </div>
        {billing.billed_quantity !== null && (
          <div>
            <dt>Billed by Stripe now</dt>
            <dd>{groups(billing.billed_quantity)}</dd>
          </div>
        )}
        {billing.next_renewal_at && billing.enrollment_status !== "canceled" && (
          <div>
            <dt>Next renewal</dt>
            <dd>
              <time dateTime={billing.next_renewal_at}>{format.date(billing.next_renewal_at)}</time>
            </dd>
          </div>
        )}
        {estimate && billing.enrollment_status !== "canceled" && (
          <div className="facts__total">
            <dt>Estimated next charge</dt>
            <dd>
              <strong>{format.money(estimate.total, estimate.currency)}</strong>{" "}
              <span className="muted">({estimateBreakdown(estimate, format)})</span>
            </dd>
          </div>
        )}
        <TaxIdsFact billing={billing} />
        {billing.last_sync?.at && (
          <div>
            <dt>Last update to Stripe</dt>
            <dd>
              {humanize(billing.last_sync.status)},{" "}
              <time dateTime={billing.last_sync.at}>{format.dateTime(billing.last_sync.at)}</time>
            </dd>
          </div>
        )}
      </dl>
      <Notes billing={billing} />
      <PortalButton />
    </section>
  );
}

function Notes({ billing }: { billing: OrganizerBilling }) {
  return (
    <>
      {billing.enrollment_status === "past_due" && (
        <p className="notice notice--warning">
          Your last payment failed. Update your card in the billing portal; Stripe retries the
          payment.
        </p>
      )}
      {billing.enrollment_status === "canceled" && (
        <p className="notice">Your subscription is canceled; nothing more will be charged.</p>
      )}
      {billing.enrollment_status !== "canceled" && <EstimateAbsentNote billing={billing} />}
      {billing.drift && billing.billed_quantity !== null && (
        <p className="notice">
          Stripe currently bills {groups(billing.billed_quantity)} while{" "}
          {groups(billing.billable_quantity)} are billable. The ledger corrects this before your
          next renewal.
        </p>
      )}
      {billing.last_sync?.error && (
        <p className="notice notice--warning">
          The last update to Stripe failed ({billing.last_sync.error}); it is retried automatically.
        </p>
      )}
    </>
  );
}
