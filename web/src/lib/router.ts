/**
 * A tiny History API router: four routes do not need a library. `navigate` pushes (or
 * replaces) a state and notifies subscribers; the back button fires `popstate`.
 */
import { useSyncExternalStore } from "react";

const CHANGE = "renewal-ledger:navigate";

export interface Location {
  pathname: string;
  search: string;
}

/** Whether the person has moved between pages since the document loaded. */
let navigated = false;

function markNavigated(): void {
  navigated = true;
}

/**
 * Pages move focus to their heading only after a navigation, so on a fresh load the first
 * Tab still reaches the skip link.
 */
export function hasNavigated(): boolean {
  return navigated;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", markNavigated);
  window.addEventListener("popstate", onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener("popstate", markNavigated);
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

function snapshot(): string {
  return window.location.pathname + window.location.search;
}

/** The current path and query; re-renders on navigation. */
export function useLocation(): Location {
  const current = useSyncExternalStore(subscribe, snapshot, () => "/");
  const url = new URL(current, "http://spa.invalid");
  return { pathname: url.pathname, search: url.search };
}

/**
 * Goes to `to`. `redirect` is for the app's own forwarding on load ("/" → "/billing"): it
 * replaces the entry and is not a navigation the person made.
 */
export function navigate(
  to: string,
  options: { replace?: boolean; redirect?: boolean } = {},
): void {
  if (!options.redirect) {
    markNavigated();
  }
  if (options.replace || options.redirect) {
    window.history.replaceState(null, "", to);
  } else {
    window.history.pushState(null, "", to);
  }
  window.dispatchEvent(new Event(CHANGE));
}

/** The route a path names, with trailing slashes ignored. */
export type Route = "home" | "enroll" | "enroll-return" | "billing" | "invoice" | "not-found";

/** The invoice id of `/invoices/{invoice_id}`, or null for any other path. */
export function invoiceIdOf(pathname: string): string | null {
  const match = /^\/invoices\/([^/]+)\/*$/.exec(pathname);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

export function routeOf(pathname: string): Route {
  const path = pathname.replace(/\/+$/, "") || "/";
  switch (path) {
    case "/":
      return "home";
    case "/enroll":
      return "enroll";
    case "/enroll/return":
      return "enroll-return";
    case "/billing":
      return "billing";
    default:
      return invoiceIdOf(path) === null ? "not-found" : "invoice";
  }
}
