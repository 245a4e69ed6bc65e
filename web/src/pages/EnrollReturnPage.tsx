import { useCallback, useEffect, useState } from "react";

import { ChargeSummary } from "../billing/ChargeSummary.tsx";
import { Link } from "../components/Link.tsx";
import { PageTitle } from "../components/PageTitle.tsx";
import { errorMessage } from "../components/States.tsx";
import { SessionExpiredError } from "../lib/api.ts";
import { billingOrNull } from "../lib/billingQuery.ts";
import { nextPollStep, POLL_INTERVAL_MS } from "../lib/enrollment.ts";
import { useSession } from "../lib/session.tsx";
import type { OrganizerBilling } from "../lib/types.ts";

type Waiting =
  | { step: "wait"; lastError: unknown }
  | { step: "timeout"; lastError: unknown }
  | { step: "confirmed"; billing: OrganizerBilling };

/**
 * Checkout's success_url. Stripe's webhook reaches the ledger a moment after the redirect,
 * so this page asks the API every 1.5 s until the subscription shows up (or ~60 s pass).
 * Errors while waiting (a 404 before the read model has the organizer, a blip) keep it
 * waiting; the last one is shown if it times out.
 */
function usePollEnrollment(): [Waiting, () => void] {
  const { api, organizerId } = useSession();
  const [waiting, setWaiting] = useState<Waiting>({ step: "wait", lastError: null });
  const [round, setRound] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    const started = Date.now();
    let timer: number | undefined;
    setWaiting({ step: "wait", lastError: null });

    async function ask(): Promise<void> {
      let billing: OrganizerBilling | null = null;
      let lastError: unknown = null;
      try {
        billing = await billingOrNull(api, organizerId, controller.signal);
      } catch (error) {
        if (controller.signal.aborted || error instanceof SessionExpiredError) {
          return;
        }
        lastError = error;
      }
      if (controller.signal.aborted) {
        return;
      }
      const step = nextPollStep(billing, Date.now() - started);
      if (step === "confirmed" && billing !== null) {
        setWaiting({ step, billing });
      } else if (step === "timeout") {
        setWaiting({ step, lastError });
      } else {
        setWaiting({ step: "wait", lastError });
        timer = window.setTimeout(() => void ask(), POLL_INTERVAL_MS);
      }
    }

    void ask();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [api, organizerId, round]);

  const retry = useCallback(() => setRound((n) => n + 1), []);
  return [waiting, retry];
}

export function EnrollReturnPage() {
  const [waiting, retry] = usePollEnrollment();
  const confirmed = waiting.step === "confirmed";
  return (
    <>
      <PageTitle>{confirmed ? "You're enrolled" : "Confirming your enrollment"}</PageTitle>
      <div aria-live="polite" aria-atomic="true" className="live-region">
        {waiting.step === "wait" && (
          <p className="state state--loading">
            <span className="spinner" aria-hidden="true" />
            Waiting for Stripe to confirm your payment…
          </p>
        )}
        {waiting.step === "confirmed" && (
          <p className="notice notice--success">
            Stripe confirmed your payment. Your subscription is active.
          </p>
        )}
        {waiting.step === "timeout" && <TimedOut lastError={waiting.lastError} onRetry={retry} />}
      </div>
      {waiting.step === "confirmed" && (
        <>
          <ChargeSummary billing={waiting.billing} />
          <p>
            <Link to="/billing" className="button">
              Go to your billing page
            </Link>
          </p>
        </>
      )}
    </>
  );
}

function TimedOut({ lastError, onRetry }: { lastError: unknown; onRetry: () => void }) {
  return (
    <div className="state state--error">
      <p className="state__title">Stripe hasn't confirmed your payment yet</p>
      <p>
        This usually takes a few seconds but can take longer. If you completed the payment, nothing
        is lost: your billing page will show the subscription as soon as it arrives.
      </p>
      {lastError !== null && <p className="muted">Last error: {errorMessage(lastError).detail}</p>}
      <div className="actions">
        <button type="button" className="button" onClick={onRetry}>
          Check again
        </button>
        <Link to="/billing">Go to your billing page</Link>
      </div>
    </div>
  );
}
