import { useState } from "react";

import { ErrorState } from "../components/States.tsx";
import { SessionExpiredError } from "../lib/api.ts";
import { useSession } from "../lib/session.tsx";

/** Opens Stripe's billing portal (a one-time URL the API creates on demand). */
export function PortalButton() {
  const { api, organizerId } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function open(): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      const link = await api.portal(organizerId);
      window.location.assign(link.url);
    } catch (caught) {
      setBusy(false);
      if (caught instanceof SessionExpiredError) {
        return; // the app is already on its way to sign-in
      }
      setError(caught);
    }
  }

  return (
    <div className="actions">
      <button
        type="button"
        className="button button--secondary"
        onClick={() => void open()}
        disabled={busy}
        aria-busy={busy}
      >
        {busy ? "Opening the billing portal…" : "Manage payment details and invoices"}
      </button>
      <p className="muted">Opens Stripe's billing portal.</p>
      {error !== null && <ErrorState error={error} heading="We couldn't open the billing portal" />}
    </div>
  );
}
