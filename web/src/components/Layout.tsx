import type { ReactNode } from "react";

import { routeOf, useLocation } from "../lib/router.ts";
import { staffRouteOf } from "../staff/routes.ts";
import { Link } from "./Link.tsx";

/** Skip link, site header and the page's <main> (one landmark each). */
export function Layout({
  children,
  signedIn,
  staff = false,
}: {
  children: ReactNode;
  signedIn: boolean;
  /** A finance or ops token: the nav links the staff area (never for an organizer). */
  staff?: boolean;
}) {
  const { pathname } = useLocation();
  const onBilling = routeOf(pathname) === "billing";
  const onStaff = staffRouteOf(pathname) !== null;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="container site-header__inner">
          <p className="site-name">Renewal Ledger</p>
          {signedIn && (
            <nav aria-label="Main">
              <ul className="nav-list">
                {!staff && (
                  <li>
                    <Link to="/billing" aria-current={onBilling ? "page" : undefined}>
                      Billing
                    </Link>
                  </li>
                )}
                {staff && (
                  <li>
                    <Link to="/staff" aria-current={onStaff ? "page" : undefined}>
                      Staff
                    </Link>
                  </li>
                )}
              </ul>
            </nav>
          )}
        </div>
      </header>
      <main id="main" className="container" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
