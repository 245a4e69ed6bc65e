import { DuplicateSubscriptions } from "../billing/DuplicateSubscriptions.tsx";
import { InvoicesPanel } from "../billing/InvoicesPanel.tsx";
import { SubscriptionPanel } from "../billing/SubscriptionPanel.tsx";
import { TimelinePanel } from "../billing/TimelinePanel.tsx";
import { Link } from "../components/Link.tsx";
import { PageTitle } from "../components/PageTitle.tsx";
import { EmptyState, ErrorState, Loading } from "../components/States.tsx";
import { billingOrNull } from "../lib/billingQuery.ts";
import { useSession } from "../lib/session.tsx";
import { useResource } from "../lib/useResource.ts";

export function BillingPage() {
  const { api, organizerId } = useSession();
  const [billing, reload] = useResource(`billing:${organizerId}`, (signal) =>
    billingOrNull(api, organizerId, signal),
  );
  return (
    <>
      <PageTitle>Billing</PageTitle>
      {billing.state === "loading" && <Loading label="Loading your subscription…" />}
      {billing.state === "error" && <ErrorState error={billing.error} onRetry={reload} />}
      {billing.state === "ready" &&
        (billing.data === null || billing.data.subscription === null ? (
          <NotEnrolled pending={billing.data?.enrollment_status === "pending"} />
        ) : (
          <SubscriptionPanel billing={billing.data} />
        ))}
      {billing.state === "ready" && billing.data && (
        <DuplicateSubscriptions billing={billing.data} />
      )}
      {billing.state === "ready" && billing.data?.subscription && <InvoicesPanel />}
      {billing.state === "ready" && billing.data !== null && (
        <TimelinePanel billing={billing.data} />
      )}
    </>
  );
}

function NotEnrolled({ pending }: { pending: boolean }) {
  return pending ? (
    <EmptyState title="Your enrollment isn't finished">
      <p>
        Checkout was started but not paid yet. <Link to="/enroll">Continue to payment</Link>.
      </p>
    </EmptyState>
  ) : (
    <EmptyState title="You're not enrolled yet">
      <p>
        <Link to="/enroll">Enroll in per-group billing</Link> to start your subscription.
      </p>
    </EmptyState>
  );
}
