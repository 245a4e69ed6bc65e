/**
 * The staff area is for finance and ops only: the nav links it only for a staff token,
 * an organizer sees "Page not found" at its paths, only ops get a Retry button, and each
 * section shows its loading, empty and error states.
 */
import type { ReactNode } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { Layout } from "../components/Layout.tsx";
import { ApiError, type Api } from "../lib/api.ts";
import { isStaff, roleOf, type Role } from "../lib/auth.ts";
import { LocaleContext } from "../lib/locale.tsx";
import { SessionContext } from "../lib/session.tsx";
import type { Pages } from "../lib/usePages.ts";
import { staffRouteOf } from "./routes.ts";
import { SyncFailureItem } from "./sections.tsx";
import { utcInstant } from "./StaffOrganizerPage.tsx";
import { StaffList } from "./StaffList.tsx";
import { StaffPage } from "./StaffPage.tsx";
import type { SyncFailure } from "./types.ts";

function base64Url(text: string): string {
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function jwt(payload: Record<string, unknown>): string {
  return `${base64Url('{"alg":"HS256"}')}.${base64Url(JSON.stringify(payload))}.c2ln`;
}

function render(node: ReactNode, role?: Role): string {
  const session = { organizerId: "someone", api: {} as Api, ...(role ? { role } : {}) };
  return renderToStaticMarkup(
    <LocaleContext.Provider value="en-GB">
      <SessionContext.Provider value={session}>{node}</SessionContext.Provider>
    </LocaleContext.Provider>,
  );
}

const FAILURE: SyncFailure = {
  sync_id: "sync_1",
  organizer_id: "org-1",
  subscription_id: "sub_1",
  item_id: "si_1",
  quantity: 3,
  previous_quantity: 1,
  period_end: "2025-06-01T00:00:00+00:00",
  trigger: "invoice.upcoming",
  status: "failed",
  attempts: 1,
  last_error: "parameter_invalid: no",
  next_attempt_at: null,
  requested_at: "2025-05-29T00:00:00+00:00",
  updated_at: "2025-05-29T00:00:01+00:00",
  later_sync_id: null,
  later_sync_status: null,
};

function list(pages: Pages<string>): string {
  return render(
    <StaffList
      id="things"
      title="Things"
      empty="Nothing to do"
      pages={pages}
      onReload={() => {}}
      onMore={() => {}}
      item={(item) => <span>{item}</span>}
      itemKey={(item) => item}
    />,
    "finance",
  );
}

describe("roleOf", () => {
  it("reads finance and ops from the token", () => {
    expect(roleOf(jwt({ sub: "a", exp: 1, role: "finance" }))).toBe("finance");
    expect(roleOf(jwt({ sub: "a", exp: 1, role: "ops" }))).toBe("ops");
  });

  it("reads a token without a role, an unknown role or garbage as an organizer", () => {
    expect(roleOf(jwt({ sub: "a", exp: 1 }))).toBe("organizer");
    expect(roleOf(jwt({ sub: "a", exp: 1, role: "admin" }))).toBe("organizer");
    expect(roleOf("not.a-token!.x")).toBe("organizer");
    expect(roleOf("")).toBe("organizer");
  });

  it("counts only finance and ops as staff", () => {
    expect([isStaff("organizer"), isStaff("finance"), isStaff("ops")]).toEqual([false, true, true]);
  });
});

describe("the staff link", () => {
  it("is in the nav for a staff token", () => {
    const html = renderToStaticMarkup(<Layout signedIn staff children={null} />);
    expect(html).toContain('href="/staff"');
  });

  it("replaces Billing for a staff token (staff have no billing of their own)", () => {
    const html = renderToStaticMarkup(<Layout signedIn staff children={null} />);
    expect(html).not.toContain('href="/billing"');
  });

  it("is never in the nav for an organizer", () => {
    const html = renderToStaticMarkup(<Layout signedIn children={null} />);
    expect(html).not.toContain("/staff");
    expect(html).toContain('href="/billing"');
  });
});

describe("the staff pages", () => {
  it("are not found for an organizer, at every staff path", () => {
    for (const path of ["/staff", "/staff/organizers/org-1"]) {
      const route = staffRouteOf(path);
      expect(route).not.toBeNull();
      const html = render(<StaffPage route={route!} />, "organizer");
      expect(html).toContain("Page not found");
      expect(html).not.toContain("Renewals desk");
    }
    expect(render(<StaffPage route={{ page: "overview" }} />)).toContain("Page not found");
  });

  it("show every section loading to finance", () => {
    const html = render(<StaffPage route={{ page: "overview" }} />, "finance");
    expect(html).toContain("Renewals desk");
    for (const title of [
      "Renewals at risk",
      "Renewals due soon",
      "Sync failures",
      "Draft mismatches",
      "Duplicate subscriptions",
      "Corrections",
      "Find an organizer",
    ]) {
      expect(html).toContain(title);
    }
    expect(html).toContain('role="status"');
    expect(html).toContain("Only ops can retry a failed sync.");
  });

  it("name the paths they answer", () => {
    expect(staffRouteOf("/staff/")).toEqual({ page: "overview" });
    expect(staffRouteOf("/staff/organizers/org%201")).toEqual({
      page: "organizer",
      organizerId: "org 1",
    });
    expect(staffRouteOf("/staff/organizers/")).toBeNull();
    expect(staffRouteOf("/staff/organizers/%E0")).toBeNull();
    expect(staffRouteOf("/billing")).toBeNull();
  });
});

describe("a sync failure", () => {
  it("has a Retry button for ops", () => {
    expect(render(<SyncFailureItem failure={FAILURE} canRetry />, "ops")).toContain(">Retry<");
  });

  it("has no Retry button for finance, nor once the sender retries it", () => {
    expect(render(<SyncFailureItem failure={FAILURE} canRetry={false} />, "finance")).not.toContain(
      "Retry<",
    );
    const retrying = { ...FAILURE, status: "retrying" };
    expect(render(<SyncFailureItem failure={retrying} canRetry />, "ops")).not.toContain(">Retry<");
  });
});

describe("a staff section", () => {
  it("announces that it is loading", () => {
    expect(list({ state: "loading" })).toContain("Loading things…");
  });

  it("says when it has nothing", () => {
    const html = list({ state: "ready", items: [], cursor: null, more: "idle" });
    expect(html).toContain("Nothing to do");
    expect(html).not.toContain("<ul");
  });

  it("shows the API's problem and a way to try again", () => {
    const error = new ApiError({
      title: "Forbidden",
      status: 403,
      detail: "this route is for ops",
    });
    const html = list({ state: "error", error });
    expect(html).toContain('role="alert"');
    expect(html).toContain("this route is for ops");
    expect(html).toContain("Try again");
  });

  it("lists its items and offers more while pages remain", () => {
    const html = list({ state: "ready", items: ["a", "b"], cursor: "next", more: "idle" });
    expect(html).toContain("<span>a</span>");
    expect(html).toContain("Load more");
  });
});

describe("utcInstant", () => {
  it("reads a datetime-local value as UTC", () => {
    expect(utcInstant("2025-06-01T09:30")).toBe("2025-06-01T09:30:00Z");
    expect(utcInstant("2025-06-01T09:30:15")).toBe("2025-06-01T09:30:15Z");
    expect(utcInstant("")).toBeNull();
  });
});
