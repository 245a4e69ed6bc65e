import { useState } from "react";

import { LoadMore } from "../components/LoadMore.tsx";
import { EmptyState, ErrorState, Loading } from "../components/States.tsx";
import { useLocale } from "../lib/locale.tsx";
import { useSession } from "../lib/session.tsx";
import {
  entryKey,
  FILTERS,
  tellStory,
  timelineContext,
  toTimelineItem,
  type TimelineFilter,
} from "../lib/timeline.ts";
import type { OrganizerBilling } from "../lib/types.ts";
import { usePages } from "../lib/usePages.ts";
import { TimelineList } from "./TimelineList.tsx";

const PAGE_SIZE = 20;

export function TimelinePanel({ billing }: { billing: OrganizerBilling }) {
  const { api, organizerId } = useSession();
  const [pages, reload, loadMore] = usePages(
    `timeline:${organizerId}`,
    (cursor, signal) =>
      api
        .timeline(organizerId, { cursor, limit: PAGE_SIZE }, signal)
        .then((page) => ({ items: page.entries, next_cursor: page.next_cursor })),
    entryKey,
  );
  const locale = useLocale();
  const context = timelineContext(billing, locale);
  const [shown, setShown] = useState<ReadonlySet<TimelineFilter>>(
    () => new Set(FILTERS.map((f) => f.value)),
  );
  const story = pages.state === "ready" ? tellStory(pages.items, shown) : [];
  return (
    <section aria-labelledby="timeline-heading" className="panel">
      <h2 id="timeline-heading">What changed</h2>
      <p className="muted">Every change to your groups and your bill, newest first.</p>
      {pages.state === "loading" && <Loading label="Loading the timeline…" />}
      {pages.state === "error" && <ErrorState error={pages.error} onRetry={reload} />}
      {pages.state === "ready" && pages.items.length === 0 && (
        <EmptyState title="Nothing has happened yet">
          <p>Group changes, renewals and payments will be listed here.</p>
        </EmptyState>
      )}
      {pages.state === "ready" && pages.items.length > 0 && (
        <>
          <TimelineFilters shown={shown} onChange={setShown} />
          {story.length === 0 ? (
            <p className="muted">Nothing of this kind yet: choose another filter.</p>
          ) : (
            <TimelineList items={story.map((s) => toTimelineItem(s.entry, context, s.repeats))} />
          )}
        </>
      )}
      <LoadMore pages={pages} onMore={loadMore} />
    </section>
  );
}

/** Toggle buttons (aria-pressed): which kinds of facts the timeline tells. */
export function TimelineFilters({
  shown,
  onChange,
}: {
  shown: ReadonlySet<TimelineFilter>;
  onChange: (next: ReadonlySet<TimelineFilter>) => void;
}) {
  function toggle(value: TimelineFilter): void {
    const next = new Set(shown);
    if (next.has(value)) {
      next.delete(value);
    } else {
      next.add(value);
    }
    onChange(next);
  }
  return (
    <div
      role="group"
      aria-label="Show"
      className="timeline-filters"
      style={{ display: "flex", flexWrap: "wrap", gap: "0.5rem", marginBottom: "1rem" }}
    >
      {FILTERS.map((filter) => (
        <button
          key={filter.value}
          type="button"
          className={shown.has(filter.value) ? "button" : "button button--secondary"}
          aria-pressed={shown.has(filter.value)}
          onClick={() => toggle(filter.value)}
        >
          {filter.label}
        </button>
      ))}
    </div>
  );
}
