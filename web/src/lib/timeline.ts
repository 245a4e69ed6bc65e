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
  /** How many consecutive entries told this same fact (folded into this one). */
  repeats: number;
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

export function toTimelineItem(
  entry: TimelineEntry,
  context: TimelineContext,
  repeats = 1,
): TimelineItem {
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
    repeats,
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

/** What the timeline's filters pick: group changes, billing (the quantity), payments. */
export type TimelineFilter = "groups" | "billing" | "payments";

export const FILTERS: { value: TimelineFilter; label: string }[] = [
  { value: "groups", label: "Groups" },
  { value: "billing", label: "Billing" },
  { value: "payments", label: "Payments" },
];

const PAYMENTS = new Set(["invoice_recorded", "payment_failed"]);

export function categoryOf(entry: TimelineEntry): TimelineFilter {
  if (GROUP_CHANGES.has(entry.kind)) {
    return "groups";
  }
  return PAYMENTS.has(entry.kind) ? "payments" : "billing";
}

export interface StoryEntry {
  entry: TimelineEntry;
  repeats: number;
}

/**
 * The timeline as a story, newest first: one entry per business fact. An invoice is one
 * entry at its newest status (draft → open → paid: its older statuses are dropped), and
 * consecutive entries telling the same fact fold into one that counts them.
 */
export function tellStory(
  entries: TimelineEntry[],
  shown: ReadonlySet<TimelineFilter> = new Set(FILTERS.map((f) => f.value)),
): StoryEntry[] {
  const invoices = new Set<string>();
  const story: StoryEntry[] = [];
  for (const entry of entries) {
    if (entry.kind === "invoice_recorded" && entry.invoice_id) {
      if (invoices.has(entry.invoice_id)) {
        continue;
      }
      invoices.add(entry.invoice_id);
    }
    if (!shown.has(categoryOf(entry))) {
      continue;
    }
    const last = story[story.length - 1];
    if (last && sameFact(last.entry, entry)) {
      last.repeats += 1;
    } else {
      story.push({ entry, repeats: 1 });
    }
  }
  return story;
}

function sameFact(a: TimelineEntry, b: TimelineEntry): boolean {
  return (
    a.kind === b.kind &&
    a.title === b.title &&
    a.description === b.description &&
    a.quantity === b.quantity &&
    a.amount?.amount === b.amount?.amount &&
    a.invoice_id === b.invoice_id
  );
}
