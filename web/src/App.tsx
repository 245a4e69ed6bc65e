import { useEffect, useMemo, useState } from "react";

import { Layout } from "./components/Layout.tsx";
import { Api } from "./lib/api.ts";
import { forgetToken, isStaff, msUntilExpiry, roleOf, type Session } from "./lib/auth.ts";
import { signInLoops } from "./lib/config.ts";
import { navigate, routeOf, useLocation } from "./lib/router.ts";
import { SessionContext, useRole } from "./lib/session.tsx";
import type { AppConfig } from "./lib/types.ts";
import { BillingPage } from "./pages/BillingPage.tsx";
import { EnrollPage } from "./pages/EnrollPage.tsx";
import { EnrollReturnPage } from "./pages/EnrollReturnPage.tsx";
import { HomePage } from "./pages/HomePage.tsx";
import { InvoicePage } from "./pages/InvoicePage.tsx";
import { NotFoundPage } from "./pages/NotFoundPage.tsx";
import { SignedOutPage } from "./pages/SignedOutPage.tsx";
import { staffRouteOf } from "./staff/routes.ts";
import { StaffPage } from "./staff/StaffPage.tsx";

/** setTimeout's delay is a signed 32-bit number of milliseconds. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** "/" for a staff token: the staff area (staff have no billing of their own). */
function StaffHome() {
  useEffect(() => {
    navigate("/staff", { redirect: true });
  }, []);
  return null;
}

function Page() {
  const { pathname } = useLocation();
  const staff = isStaff(useRole());
  const staffRoute = staffRouteOf(pathname);
  if (staffRoute !== null) {
    return <StaffPage route={staffRoute} />;
  }
  switch (routeOf(pathname)) {
    case "home":
      return staff ? <StaffHome /> : <HomePage />;
    case "enroll":
      return <EnrollPage />;
    case "enroll-return":
      return <EnrollReturnPage />;
    case "billing":
      return <BillingPage />;
    case "invoice":
      return <InvoicePage />;
    case "not-found":
      return <NotFoundPage />;
  }
}

type SignedOut = null | "no-session" | "expired";

export function App({ config, session }: { config: AppConfig; session: Session | null }) {
  const [signedOut, setSignedOut] = useState<SignedOut>(session === null ? "no-session" : null);
  const api = useMemo(
    () =>
      session === null
        ? null
        : new Api({
            base: config.apiBase,
            token: session.token,
            onUnauthorized: () => setSignedOut("expired"),
          }),
    [config.apiBase, session],
  );

  // The token expires while the page is open: sign out at that moment, not at the next click.
  useEffect(() => {
    if (session === null) {
      return;
    }
    const delay = Math.min(msUntilExpiry(session.claims, Date.now()), MAX_TIMER_MS);
    const timer = window.setTimeout(() => setSignedOut("expired"), delay);
    return () => window.clearTimeout(timer);
  }, [session]);

  const loops = signInLoops(config.signInUrl, new URL(window.location.href));
  useEffect(() => {
    if (signedOut === null) {
      return;
    }
    forgetToken(window.sessionStorage);
    if (!loops) {
      window.location.assign(config.signInUrl);
    }
  }, [signedOut, loops, config.signInUrl]);

  if (signedOut !== null || session === null || api === null) {
    return (
      <Layout signedIn={false}>
        <SignedOutPage
          signInUrl={config.signInUrl}
          redirecting={!loops}
          expired={signedOut === "expired"}
        />
      </Layout>
    );
  }
  const role = roleOf(session.token);
  return (
    <SessionContext.Provider value={{ organizerId: session.claims.sub, api, role }}>
      <Layout signedIn staff={isStaff(role)}>
        <Page />
      </Layout>
    </SessionContext.Provider>
  );
}
