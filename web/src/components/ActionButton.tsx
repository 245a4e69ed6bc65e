import { useState } from "react";

import { SessionExpiredError } from "../lib/api.ts";
import { ErrorState } from "./States.tsx";

/**
 * A button that runs `action` once at a time: disabled with `aria-busy` and `busyLabel`
 * while it runs (and after it succeeds: the action leaves the page), its error shown
 * under it. A 401 shows nothing: the app is already on its way to sign-in.
 */
export function ActionButton({
  label,
  busyLabel,
  errorHeading,
  action,
}: {
  label: string;
  busyLabel: string;
  errorHeading: string;
  action: () => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function run(): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setBusy(false);
      if (!(caught instanceof SessionExpiredError)) {
        setError(caught);
      }
    }
  }

  return (
    <div className="actions">
      <button
        type="button"
        className="button"
        onClick={() => void run()}
        disabled={busy}
        aria-busy={busy}
      >
        {busy ? busyLabel : label}
      </button>
      {error !== null && <ErrorState error={error} heading={errorHeading} />}
    </div>
  );
}
