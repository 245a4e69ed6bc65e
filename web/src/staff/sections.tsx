/** The staff overview's sections: each a paged list of one staff route. */
import { Link } from "../components/Link.tsx";
import { groups, humanize, type Formatters } from "../lib/format.ts";
import { useFormat } from "../lib/locale.tsx";
import { useRole, useSession } from "../lib/session.tsx";
import { RetryButton } from "./RetryButton.tsx";
import { organizerPath } from "./routes.ts";
import * as staffApi from "./staffApi.ts";
import { Facts, PagedList } from "./StaffList.tsx";
import type {
  Correction,
  DraftMismatch,
  DuplicateSubscription,
  Renewal,
  RenewalAtRisk,
  SyncFailure,
} from "./types.ts";

function when(format: Formatters, iso: string | null): string {
  return iso === null ? "—" : format.dateTime(iso);
}

function OrganizerLink({ id }: { id: string }) {
  return <Link to={organizerPath(id)}>{id}</Link>;
}

export function DueRenewals() {
  const { api } = useSession();
  return (
    <PagedList
      resource="staff:due"
      fetchPage={(cursor, signal) => staffApi.dueRenewals(api, Date.now(), cursor, signal)}
      id="due"
      title="Renewals due soon"
      empty={`No renewal in the next ${staffApi.DUE_WITHIN_DAYS} days`}
      item={(renewal) => <DueRenewalItem renewal={renewal} />}
      itemKey={(renewal) => renewal.organizer_id}
    />
  );
}

export function DueRenewalItem({ renewal }: { renewal: Renewal }) {
  const format = useFormat();
  const billed = renewal.billed_quantity;
  return (
    <>
      <p className="staff-card__title">
        <OrganizerLink id={renewal.organizer_id} />{" "}
        {renewal.drift ? (
          <span className="badge badge--past-due">Drift</span>
        ) : (
          <span className="badge badge--active">In step</span>
        )}
      </p>
      <Facts
        facts={[
          ["Renews", when(format, renewal.current_period_end)],
          ["Billable", groups(renewal.billable_quantity)],
          ["Billed on Stripe", billed === null ? "—" : groups(billed)],
          ["Last sync", renewal.sync_status === null ? "—" : humanize(renewal.sync_status)],
        ]}
      />
    </>
  );
}

export function AtRisk() {
  const { api } = useSession();
  return (
    <PagedList
      resource="staff:at-risk"
      fetchPage={(cursor, signal) => staffApi.renewalsAtRisk(api, cursor, signal)}
      id="at-risk"
      title="Renewals at risk"
      empty="No renewal is at risk"
      item={(risk) => <AtRiskItem risk={risk} />}
      itemKey={(risk) => `${risk.kind}:${risk.subject}`}
    />
  );
}

export function AtRiskItem({ risk }: { risk: RenewalAtRisk }) {
  const format = useFormat();
  return (
    <>
      <p className="staff-card__title">
        <OrganizerLink id={risk.organizer_id} />{" "}
        <span className="badge badge--pending">At risk</span>
      </p>
      <p>{risk.reason}</p>
      <Facts
        facts={[
          ["Renews", when(format, risk.renewal_at)],
          ["Kind", humanize(risk.kind)],
          ["Since", when(format, risk.since)],
        ]}
      />
    </>
  );
}

export function SyncFailures() {
  const { api } = useSession();
  const canRetry = useRole() === "ops";
  return (
    <PagedList
      resource="staff:failures"
      fetchPage={(cursor, signal) => staffApi.syncFailures(api, cursor, signal)}
      id="sync-failures"
      title="Sync failures"
      empty="No quantity sync has failed"
      item={(failure) => <SyncFailureItem failure={failure} canRetry={canRetry} />}
      itemKey={(failure) => failure.sync_id}
    >
      {!canRetry && <p className="muted">Only ops can retry a failed sync.</p>}
    </PagedList>
  );
}

export function SyncFailureItem({
  failure,
  canRetry,
}: {
  failure: SyncFailure;
  canRetry: boolean;
}) {
  const format = useFormat();
  return (
    <>
      <p className="staff-card__title">
        <OrganizerLink id={failure.organizer_id} />{" "}
        <span className="badge badge--past-due">{humanize(failure.status)}</span>
      </p>
      <Facts
        facts={[
          ["Sync", failure.sync_id],
          ["Quantity", `${failure.previous_quantity} → ${failure.quantity}`],
          ["Attempts", String(failure.attempts)],
          ["Error", failure.last_error ?? "—"],
          ["Requested", when(format, failure.requested_at)],
        ]}
      />
      {canRetry && failure.status === "failed" && <RetryButton syncId={failure.sync_id} />}
    </>
  );
}

export function DraftMismatches() {
  const { api } = useSession();
  return (
    <PagedList
      resource="staff:drafts"
      fetchPage={(cursor, signal) => staffApi.draftMismatches(api, cursor, signal)}
      id="draft-mismatches"
      title="Draft mismatches"
      empty="No renewal draft billed an unexpected quantity"
      item={(draft) => <DraftMismatchItem draft={draft} />}
      itemKey={(draft) => draft.invoice_id}
    />
  );
}

export function DraftMismatchItem({ draft }: { draft: DraftMismatch }) {
  const format = useFormat();
  return (
    <>
      <p className="staff-card__title">
        <OrganizerLink id={draft.organizer_id} />
      </p>
      <Facts
        facts={[
          ["Invoice", draft.invoice_id],
          ["Billed", groups(draft.billed_quantity)],
          ["Expected", groups(draft.expected_quantity)],
          ["Period from", when(format, draft.period_start)],
        ]}
      />
    </>
  );
}

export function Corrections() {
  const { api } = useSession();
  return (
    <PagedList
      resource="staff:corrections"
      fetchPage={(cursor, signal) => staffApi.corrections(api, cursor, signal)}
      id="corrections"
      title="Corrections"
      empty="The ledger has not corrected any renewal invoice"
      item={(correction) => <CorrectionItem correction={correction} />}
      itemKey={(correction) => correction.correction_id}
    />
  );
}

export function CorrectionItem({ correction }: { correction: Correction }) {
  const format = useFormat();
  return (
    <>
      <p className="staff-card__title">
        <OrganizerLink id={correction.organizer_id} />{" "}
        <span className="badge badge--pending">{humanize(correction.status)}</span>
      </p>
      <Facts
        facts={[
          ["Kind", humanize(correction.kind)],
          ["Invoice", correction.invoice_id],
          ["Groups", String(correction.quantity)],
          ["Amount", format.money(correction.amount, correction.currency)],
          ["Error", correction.last_error ?? "—"],
          ["Requested", when(format, correction.requested_at)],
        ]}
      />
    </>
  );
}

/** Issue 13: organizers' second live subscriptions, never synced; cancel them in Stripe. */
export function DuplicateSubscriptions() {
  const { api } = useSession();
  return (
    <PagedList
      resource="staff:duplicates"
      fetchPage={(cursor, signal) => staffApi.duplicateSubscriptions(api, cursor, signal)}
      id="duplicate-subscriptions"
      title="Duplicate subscriptions"
      empty="No organizer has a second live subscription"
      item={(duplicate) => <DuplicateSubscriptionItem duplicate={duplicate} />}
      itemKey={(duplicate) => duplicate.subscription_id}
    />
  );
}

export function DuplicateSubscriptionItem({ duplicate }: { duplicate: DuplicateSubscription }) {
  const format = useFormat();
  return (
    <>
      <p className="staff-card__title">
        <OrganizerLink id={duplicate.organizer_id} />
      </p>
      <Facts
        facts={[
          ["Duplicate", duplicate.subscription_id],
          ["Billed per group", duplicate.primary_subscription_id],
          ["Customer", duplicate.customer_id || "—"],
          ["Found", when(format, duplicate.found_at)],
        ]}
      />
    </>
  );
}
