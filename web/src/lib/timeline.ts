/**
 * How a timeline entry reads. The API already words each fact ("Group berlin-hikers
 * closed"); this adds what it means for the bill ("→ 7 groups billed from the Jun 1, 2025
 * renewal"), which depends on the subscription's current period.
 */
import { formatDate, formatDateTime, formatMoney, groups, parseInstant } from "./format.ts";
import type { OrganizerBilling, TimelineEntry } from "./types.ts";

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
  return {
    key: `${entry.position}:${entry.seq}`,
    at: entry.at,
    when: formatDateTime(entry.at, context.locale),
    title: entry.title,
    description: entry.description,
    consequence: consequenceOf(entry, context),
    amount: entry.amount
      ? formatMoney(entry.amount.amount, entry.amount.currency, context.locale)
      : null,
  };
}

/** Pages appended in order; an entry seen twice (a page boundary that moved) shows once. */
export function mergePages(shown: TimelineEntry[], page: TimelineEntry[]): TimelineEntry[] {
  const seen = new Set(shown.map((entry) => `${entry.position}:${entry.seq}`));
  return [...shown, ...page.filter((entry) => !seen.has(`${entry.position}:${entry.seq}`))];
}
