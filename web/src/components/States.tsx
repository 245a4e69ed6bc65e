import type { ReactNode } from "react";

import { ApiError } from "../lib/api.ts";

/** A polite "loading" announcement with a visual spinner. */
export function Loading({ label }: { label: string }) {
  return (
    <p className="state state--loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

/** The problem's `detail` (RFC 9457) when the API sent one, else a generic sentence. */
export function errorMessage(error: unknown): { title: string; detail: string } {
  if (error instanceof ApiError) {
    return { title: error.title, detail: error.detail ?? error.title };
  }
  return { title: "Something went wrong", detail: "An unexpected error occurred. Try again." };
}

export function ErrorState({
  error,
  onRetry,
  heading = "We couldn't load this",
}: {
  error: unknown;
  onRetry?: () => void;
  heading?: string;
}) {
  const { title, detail } = errorMessage(error);
  return (
    <div className="state state--error" role="alert">
      <p className="state__title">{heading}</p>
      <p>
        <span className="visually-hidden">{title}: </span>
        {detail}
      </p>
      {onRetry && (
        <button type="button" className="button button--secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state--empty">
      <p className="state__title">{title}</p>
      {children}
    </div>
  );
}
