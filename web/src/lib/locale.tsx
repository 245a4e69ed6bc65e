import { createContext, useContext, useMemo } from "react";

import { formattersFor, type Formatters } from "./format.ts";

/**
 * The organizer's locale, for every amount and date on the page. `undefined` lets Intl use
 * the runtime's default; in the browser `main.tsx` provides the organizer's first
 * preferred language, so the whole page agrees (and tests can pick one).
 */
export const LocaleContext = createContext<string | undefined>(undefined);

/** The browser's first preferred language ("de-DE"), or undefined outside a browser. */
export function browserLocale(): string | undefined {
  if (typeof navigator === "undefined") {
    return undefined;
  }
  return navigator.languages?.[0] ?? navigator.language;
}

export function useLocale(): string | undefined {
  return useContext(LocaleContext);
}

/** Money and date formatters in the organizer's locale. */
export function useFormat(): Formatters {
  const locale = useLocale();
  return useMemo(() => formattersFor(locale), [locale]);
}
