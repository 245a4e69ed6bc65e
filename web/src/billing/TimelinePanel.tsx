import { LoadMore } from "../components/LoadMore.tsx";
import { EmptyState, ErrorState, Loading } from "../components/States.tsx";
import { useLocale } from "../lib/locale.tsx";
import { useSession } from "../lib/session.tsx";
import { entryKey, timelineContext, toTimelineItem } from "../lib/timeline.ts";
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
        <TimelineList items={pages.items.map((entry) => toTimelineItem(entry, context))} />
      )}
      <LoadMore pages={pages} onMore={loadMore} />
    </section>
  );
}
