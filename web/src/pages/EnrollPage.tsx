import { useEffect } from "react";

import { ChargeSummary } from "../billing/ChargeSummary.tsx";
import { ActionButton } from "../components/ActionButton.tsx";
import { Link } from "../components/Link.tsx";
import { PageTitle } from "../components/PageTitle.tsx";
import { EmptyState, ErrorState, Loading } from "../components/States.tsx";
import { ExistingSubscriptionOffer } from "../enroll/ExistingSubscriptionOffer.tsx";
import { ApiError } from "../lib/api.ts";
import { billingOrNull } from "../lib/billingQuery.ts";
import { isEnrolled } from "../lib/enrollment.ts";
import { existingOrNull, offersMove } from "../lib/existing.ts";
import { navigate, useLocation } from "../lib/router.ts";
import { useSession } from "../lib/session.tsx";
import type { OrganizerBilling } from "../lib/types.ts";
import { useResource } from "../lib/useResource.ts";

/** Where Checkout sends the browser back: `{CHECKOUT_SESSION_ID}` is Stripe's placeholder. */
export function checkoutReturnUrls(origin: string): { success_url: string; cancel_url: string } {
  return {
    success_url: `${origin}/enroll/return?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${origin}/enroll?canceled=1`,
  };
}

export function EnrollPage() {
  const { api, organizerId } = useSession();
  const { search } = useLocation();
  const canceled = new URLSearchParams(search).has("canceled");
  const [billing, reload] = useResource(`billing:${organizerId}`, (signal) =>
    billingOrNull(api, organizerId, signal),
  );
  // A subscription made before the ledger is offered a move instead of a second Checkout;
  // one linked by ops counts as enrolled in the billing, so it is asked for first.
  const [existing, reloadExisting] = useResource(`existing:${organizerId}`, (signal) =>
    existingOrNull(api, organizerId, signal),
  );
  const move = existing.state === "ready" && offersMove(existing.data) ? existing.data : null;
  const enrolled =
    billing.state === "ready" &&
    billing.data !== null &&
    isEnrolled(billing.data) &&
    existing.state === "ready" &&
    move === null;

  useEffect(() => {
    if (enrolled) {
      navigate("/billing", { redirect: true });
    }
  }, [enrolled]);

  return (
    <>
      <PageTitle>Enroll in per-group billing</PageTitle>
      {canceled && (
        <p className="notice" role="status">
          Checkout was canceled. Nothing was charged.
        </p>
      )}
      {(billing.state === "loading" || existing.state === "loading") && (
        <Loading label="Loading your groups…" />
      )}
      {billing.state === "error" && <ErrorState error={billing.error} onRetry={reload} />}
      {existing.state === "error" && (
        <ErrorState
          error={existing.error}
          heading="We couldn't check for an existing subscription"
          onRetry={reloadExisting}
        />
      )}
      {move !== null && <ExistingSubscriptionOffer existing={move} />}
      {billing.state === "ready" && existing.state === "ready" && move === null && !enrolled && (
        <EnrollmentOffer billing={billing.data} />
      )}
    </>
  );
}

function EnrollmentOffer({ billing }: { billing: OrganizerBilling | null }) {
  return (
    <>
      <p>
        Your plan is priced per active group. You pay for the groups that are active at each
        renewal; changes during a period take effect from the next renewal.
      </p>
      {billing === null || billing.active_groups.count === 0 ? (
        <EmptyState title="You have no active groups yet">
          <p>
            {billing === null
              ? "Stripe Checkout shows the price before you pay."
              : "You can still enroll; the minimum below is billed until you open groups."}
          </p>
        </EmptyState>
      ) : null}
      {billing !== null && <ChargeSummary billing={billing} />}
      <CheckoutButton />
      <p className="muted">
        Already enrolled? <Link to="/billing">Go to your billing page</Link>.
      </p>
    </>
  );
}

/** Starts Checkout: the API answers a URL to send the browser to; 409 = already enrolled. */
function CheckoutButton() {
  const { api, organizerId } = useSession();

  async function start(): Promise<void> {
    try {
      const link = await api.enroll(organizerId, checkoutReturnUrls(window.location.origin));
      window.location.assign(link.url);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 409) {
        navigate("/billing", { replace: true });
        return;
      }
      throw caught;
    }
  }

  return (
    <ActionButton
      label="Continue to payment"
      busyLabel="Opening Stripe Checkout…"
      errorHeading="We couldn't start Checkout"
      action={start}
    />
  );
}
