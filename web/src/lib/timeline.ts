/**
 * How a timeline entry reads. The API words each fact ("Group berlin-hikers closed",
 * "Payment received") and sends its amounts and dates as values; this formats them in the
 * organizer's locale (like every other panel, through `format.ts`) and adds what a change
 * means for the bill ("→ 7 groups billed from the Jun 1, 2025 renewal"), which depends on
 * the subscription's current period. The API orders entries by the instant each describes.
 */
import { formatDate, formattersFor, groups, parseInstant } from "./format.ts";
import type { OrganizerBilling, TimelineEntry } from "./types.ts";
import { appendPage } from "./usePages.ts";

const GROUP_CHANGES = new Set(["group_activated", "group_deactivated"]);

export interface TimelineContext {
  /** When the current period started (null before the first subscription). */
  periodStart: string | null;
  /** The next renewal (null before the first subscription or after cancellation). */
  nextRenewalAt: string | null;
  locale?: string | undefined;
}

export interface TimelineItem {
  key: string;
  at: string;
  when: string;
  title: string;
  description: string;
  /** What the change does to the bill, or null when the title says it all. */
  consequence: string | null;
  amount: string | null;
  /** The period an invoice bills ("1 May – 1 Jun 2025"), or null. */
  period: string | null;
  /** An invoice's subtotal and tax ("€40.00 + €7.60 tax"), or null. */
  breakdown: string | null;
}

export function timelineContext(
  billing: OrganizerBilling | null,
  locale?: string,
): TimelineContext {
  const canceled = billing?.enrollment_status === "canceled";
  return {
    periodStart: billing?.subscription?.current_period_start ?? null,
    nextRenewalAt: canceled ? null : (billing?.next_renewal_at ?? null),
    locale,
  };
}

/** "→ 7 groups billed from the Jun 1, 2025 renewal" for a group change, else null. */
export function consequenceOf(entry: TimelineEntry, context: TimelineContext): string | null {
  if (!GROUP_CHANGES.has(entry.kind) || entry.quantity === null) {
    return null;
  }
  const count = groups(entry.quantity);
  if (context.nextRenewalAt === null || context.periodStart === null) {
    return context.periodStart === null
      ? `→ ${count} to bill once you enroll`
      : `→ ${count} billable`;
  }
  const inCurrentPeriod =
    parseInstant(entry.at).getTime() >= parseInstant(context.periodStart).getTime();
  return inCurrentPeriod
    ? `→ ${count} billed from the ${formatDate(context.nextRenewalAt, context.locale)} renewal`
    : `→ ${count} billable`;
}

export function toTimelineItem(entry: TimelineEntry, context: TimelineContext): TimelineItem {
  const format = formattersFor(context.locale);
  const { subtotal, tax, period_start: start, period_end: end } = entry;
  return {
    key: `${entry.position}:${entry.seq}`,
    at: entry.at,
    when: format.dateTime(entry.at),
    title: entry.title,
    description: entry.description,
    consequence: consequenceOf(entry, context),
    amount: entry.amount ? format.money(entry.amount.amount, entry.amount.currency) : null,
    period: start && end ? format.period(start, end) : null,
    breakdown:
      subtotal && tax && tax.amount > 0
        ? `${format.money(subtotal.amount, subtotal.currency)} + ${format.money(tax.amount, tax.currency)} tax`
        : null,
  };
}

/** Pages appended in order; an entry seen twice (a page boundary that moved) shows once. */
export function mergePages(shown: TimelineEntry[], page: TimelineEntry[]): TimelineEntry[] {
  return appendPage(shown, page, entryKey);
}

/** An entry's place in the log: unique, and never changes. */
export function entryKey(entry: TimelineEntry): string {
  return `${entry.position}:${entry.seq}`;
}
