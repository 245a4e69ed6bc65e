import { useEffect, useRef, useState } from "react";

import { errorMessage } from "../components/States.tsx";
import { humanize } from "../lib/format.ts";
import { useSession } from "../lib/session.tsx";
import { retrySync } from "./staffApi.ts";
import type { RetryAccepted } from "./types.ts";

type Step =
  | { step: "idle" }
  | { step: "confirm" }
  | { step: "sending" }
  | { step: "done"; retry: RetryAccepted }
  | { step: "failed"; error: unknown };

/**
 * Retry a failed sync (ops only; the caller decides whether to show it): a first press
 * asks to confirm, the second requests a new sync and shows what the API answered.
 */
export function RetryButton({ syncId }: { syncId: string }) {
  const { api } = useSession();
  const [state, setState] = useState<Step>({ step: "idle" });
  // Back from the confirmation (Cancel), focus returns to the Retry button it replaced.
  const canceled = useRef(false);
  const retryButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (state.step === "idle" && canceled.current) {
      canceled.current = false;
      retryButton.current?.focus();
    }
  }, [state.step]);

  function cancel(): void {
    canceled.current = true;
    setState({ step: "idle" });
  }

  function send(): void {
    setState({ step: "sending" });
    retrySync(api, syncId).then(
      (retry) => setState({ step: "done", retry }),
      (error: unknown) => setState({ step: "failed", error }),
    );
  }

  if (state.step === "done") {
    return (
      <p className="notice notice--success" role="status">
        Retry requested: sync {state.retry.sync_id} is {humanize(state.retry.status).toLowerCase()}.
      </p>
    );
  }
  if (state.step === "confirm" || state.step === "sending") {
    return (
      <div className="actions" role="group" aria-label={`Confirm the retry of ${syncId}`}>
        <span>Send this sync to Stripe again?</span>
        <button
          type="button"
          className="button"
          onClick={send}
          // The confirmation replaces the focused Retry button: focus moves into it.
          autoFocus
          disabled={state.step === "sending"}
          aria-busy={state.step === "sending"}
        >
          {state.step === "sending" ? "Retrying…" : "Confirm retry"}
        </button>
        <button
          type="button"
          className="button button--secondary"
          onClick={cancel}
          disabled={state.step === "sending"}
        >
          Cancel
        </button>
      </div>
    );
  }
  return (
    <div className="actions">
      {state.step === "failed" && (
        <p className="notice notice--warning" role="alert">
          The retry was refused: {errorMessage(state.error).detail}
        </p>
      )}
      <button
        ref={retryButton}
        type="button"
        className="button"
        onClick={() => setState({ step: "confirm" })}
      >
        Retry<span className="visually-hidden"> sync {syncId}</span>
      </button>
    </div>
  );
}
