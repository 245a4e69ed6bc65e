import type { ReactNode } from "react";

import { routeOf, useLocation } from "../lib/router.ts";
import { Link } from "./Link.tsx";

/** Skip link, site header and the page's <main> (one landmark each). */
export function Layout({ children, signedIn }: { children: ReactNode; signedIn: boolean }) {
  const onBilling = routeOf(useLocation().pathname) === "billing";
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
                <li>
                  <Link to="/billing" aria-current={onBilling ? "page" : undefined}>
                    Billing
                  </Link>
                </li>
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
