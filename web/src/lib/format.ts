/**
 * Money and date formatting: the one place the SPA turns amounts and instants into text
 * (a test keeps toFixed, toLocale… and Intl out of every other module). Everything goes
 * through Intl in the organizer's locale (`lib/locale.tsx` provides it to components).
 * Amounts are integer minor units; they are turned into an exact decimal string (never
 * divided as floats) before Intl formats them. Instants are shown as UTC calendar dates,
 * so a period that starts at midnight UTC reads the same day in every time zone.
 */

/** How many minor-unit digits a currency has (EUR 2, JPY 0, KWD 3), from Intl itself. */
export function minorDigits(currency: string): number {
  const options = new Intl.NumberFormat("en", {
    style: "currency",
    currency: currency.toUpperCase(),
  }).resolvedOptions();
  return options.maximumFractionDigits ?? 2;
}

/** 12345 minor units with 2 digits → "123.45"; exact for any safe integer. */
export function minorToDecimal(amount: number, digits: number): `${number}` {
  if (!Number.isSafeInteger(amount)) {
    throw new RangeError(`amount must be an integer number of minor units, got ${amount}`);
  }
  const sign = amount < 0 ? "-" : "";
  const text = Math.abs(amount)
    .toString()
    .padStart(digits + 1, "0");
  if (digits === 0) {
    return `${sign}${text}` as `${number}`;
  }
  const whole = text.slice(0, text.length - digits);
  const fraction = text.slice(text.length - digits);
  return `${sign}${whole}.${fraction}` as `${number}`;
}

/** 4900, "eur" → "€49.00" (en-US) or "49,00 €" (de-DE). */
export function formatMoney(amount: number, currency: string, locale?: string): string {
  const code = currency.toUpperCase();
  const digits = minorDigits(code);
  return new Intl.NumberFormat(locale, {
    style: "currency",
    currency: code,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(minorToDecimal(amount, digits));
}

/**
 * An ISO 8601 instant as a Date. A string without an offset is read as UTC, never as the
 * browser's local time (the API always sends UTC).
 */
export function parseInstant(iso: string): Date {
  const hasZone = /(?:[zZ]|[+-]\d{2}:?\d{2})$/.test(iso);
  const withTime = /T/.test(iso) ? iso : `${iso}T00:00:00`;
  const date = new Date(hasZone ? withTime : `${withTime}Z`);
  if (Number.isNaN(date.getTime())) {
    throw new RangeError(`not an ISO 8601 instant: ${iso}`);
  }
  return date;
}

/** "2025-06-01T00:00:00Z" → "Jun 1, 2025" (en-US) or "1. Juni 2025" (de-DE), in UTC. */
export function formatDate(iso: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(
    parseInstant(iso),
  );
}

/** A date and time in UTC, labelled as such: "May 3, 2025, 2:05 PM UTC". */
export function formatDateTime(iso: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZone: "UTC",
    timeZoneName: "short",
  }).format(parseInstant(iso));
}

/** A billed period as Intl writes a range: "1 May – 1 Jun 2025" (en-GB), in UTC. */
export function formatPeriod(startIso: string, endIso: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).formatRange(
    parseInstant(startIso),
    parseInstant(endIso),
  );
}

/** The formatters above, bound to one locale: what components use (via `useFormat`). */
export interface Formatters {
  locale: string | undefined;
  money(amount: number, currency: string): string;
  date(iso: string): string;
  dateTime(iso: string): string;
  period(startIso: string, endIso: string): string;
}

export function formattersFor(locale: string | undefined): Formatters {
  return {
    locale,
    money: (amount, currency) => formatMoney(amount, currency, locale),
    date: (iso) => formatDate(iso, locale),
    dateTime: (iso) => formatDateTime(iso, locale),
    period: (start, end) => formatPeriod(start, end, locale),
  };
}

/** "1 group", "7 groups". */
export function groups(count: number): string {
  return `${count} ${count === 1 ? "group" : "groups"}`;
}

/** A status word from the API ("past_due") as a person reads it ("Past due"). */
export function humanize(word: string): string {
  const spaced = word.replaceAll("_", " ").trim();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}
