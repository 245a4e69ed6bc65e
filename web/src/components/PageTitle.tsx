import { useEffect, useRef } from "react";

import { hasNavigated } from "../lib/router.ts";

/**
 * The page's one <h1>. It also sets the document title and, after a client-side
 * navigation, takes focus so that a screen reader announces the new page.
 */
export function PageTitle({ children }: { children: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${children} · Renewal Ledger`;
    if (hasNavigated()) {
      heading.current?.focus({ preventScroll: true });
    }
  }, [children]);
  return (
    <h1 ref={heading} tabIndex={-1}>
      {children}
    </h1>
  );
}
