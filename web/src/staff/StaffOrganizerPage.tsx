import { useState, type FormEvent } from "react";

import { InvoicesPanel } from "../billing/InvoicesPanel.tsx";
import { SubscriptionPanel } from "../billing/SubscriptionPanel.tsx";
import { TimelinePanel } from "../billing/TimelinePanel.tsx";
import { Link } from "../components/Link.tsx";
import { PageTitle } from "../components/PageTitle.tsx";
import { EmptyState, ErrorState, Loading } from "../components/States.tsx";
import { billingOrNull } from "../lib/billingQuery.ts";
import { groups, humanize } from "../lib/format.ts";
import { useFormat } from "../lib/locale.tsx";
import { SessionContext, useSession } from "../lib/session.tsx";
import { useResource } from "../lib/useResource.ts";
import { organizerState } from "./staffApi.ts";
import { Facts } from "./StaffList.tsx";
import type { OrganizerState } from "./types.ts";

/**
 * One organizer as staff see it: the organizer's own billing panels (rendered inside a
 * session for that organizer) and its state as the event store knew it at any instant.
 */
export function StaffOrganizerPage({ organizerId }: { organizerId: string }) {
  const session = useSession();
  const [billing, reload] = useResource(`staff:billing:${organizerId}`, (signal) =>
    billingOrNull(session.api, organizerId, signal),
  );
  return (
    <>
      <PageTitle>{`Organizer ${organizerId}`}</PageTitle>
      <p>
        <Link to="/staff">Back to the renewals desk</Link>
      </p>
      <SessionContext.Provider value={{ ...session, organizerId }}>
        {billing.state === "loading" && <Loading label="Loading the organizer's billing…" />}
        {billing.state === "error" && <ErrorState error={billing.error} onRetry={reload} />}
        {billing.state === "ready" &&
          (billing.data === null || billing.data.subscription === null ? (
            <EmptyState title="Not enrolled">
              <p>This organizer has no subscription yet.</p>
            </EmptyState>
          ) : (
            <SubscriptionPanel billing={billing.data} />
          ))}
        <StateAsOf organizerId={organizerId} />
        {billing.state === "ready" && billing.data?.subscription && <InvoicesPanel />}
        {billing.state === "ready" && billing.data !== null && (
          <TimelinePanel billing={billing.data} />
        )}
      </SessionContext.Provider>
    </>
  );
}

/** A `datetime-local` value read as UTC ("2025-06-01T09:30" → "2025-06-01T09:30:00Z"). */
export function utcInstant(local: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(local)) {
    return null;
  }
  return `${local.length === 16 ? `${local}:00` : local}Z`;
}

function StateAsOf({ organizerId }: { organizerId: string }) {
  const { api } = useSession();
  const [input, setInput] = useState("");
  const [asOf, setAsOf] = useState<string | null>(null);
  const [state, reload] = useResource(`staff:state:${organizerId}:${asOf ?? "now"}`, (signal) =>
    organizerState(api, organizerId, asOf, signal),
  );

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    setAsOf(utcInstant(input));
  }

  return (
    <section aria-labelledby="state-heading" className="panel staff-section">
      <h2 id="state-heading">State as of {asOf === null ? "now" : "an instant"}</h2>
      <form className="staff-search" onSubmit={submit}>
        <label htmlFor="state-as-of">As of (UTC; empty for now)</label>
        <div className="staff-search__row">
          <input
            id="state-as-of"
            type="datetime-local"
            step={1}
            value={input}
            onChange={(event) => setInput(event.target.value)}
          />
          <button type="submit" className="button">
            Show state
          </button>
        </div>
      </form>
      {state.state === "loading" && <Loading label="Loading the organizer's state…" />}
      {state.state === "error" && <ErrorState error={state.error} onRetry={reload} />}
      {state.state === "ready" && <StateFacts state={state.data} />}
    </section>
  );
}

export function StateFacts({ state }: { state: OrganizerState }) {
  const format = useFormat();
  const { stripe } = state;
  return (
    <Facts
      facts={[
        ["As of", state.as_of === null ? "Now" : format.dateTime(state.as_of)],
        ["Version", String(state.version)],
        ["Active groups", groups(state.active_group_count)],
        ["Billable", groups(state.billable_quantity)],
        ["Subscription", stripe.subscription_id ?? "—"],
        ["Status", stripe.status ? humanize(stripe.status) : "—"],
        ["Billed on Stripe", stripe.billed_quantity == null ? "—" : groups(stripe.billed_quantity)],
        [
          "Period ends",
          stripe.current_period_end ? format.dateTime(stripe.current_period_end) : "—",
        ],
      ]}
    />
  );
}
