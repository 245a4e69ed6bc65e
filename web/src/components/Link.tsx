import type { AnchorHTMLAttributes, MouseEvent } from "react";

import { navigate } from "../lib/router.ts";

type Props = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string };

/** An in-app link: a real <a href> (open in new tab works), navigated without a reload. */
export function Link({ to, onClick, children, ...rest }: Props) {
  function handle(event: MouseEvent<HTMLAnchorElement>): void {
    onClick?.(event);
    const modified = event.metaKey || event.ctrlKey || event.shiftKey || event.altKey;
    if (event.defaultPrevented || event.button !== 0 || modified) {
      return;
    }
    event.preventDefault();
    navigate(to);
  }
  return (
    <a href={to} onClick={handle} {...rest}>
      {children}
    </a>
  );
}
