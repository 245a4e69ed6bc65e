import { useEffect, useRef, useState } from "react";

import { EmptyState, ErrorState, Loading } from "../components/States.tsx";
import { useLocale } from "../lib/locale.tsx";
import { useSession } from "../lib/session.tsx";
import { mergePages, timelineContext, toTimelineItem } from "../lib/timeline.ts";
import type { OrganizerBilling, TimelineEntry } from "../lib/types.ts";
import { TimelineList } from "./TimelineList.tsx";

const PAGE_SIZE = 20;

type Pages =
  | { state: "loading" }
  | { state: "error"; error: unknown }
  | {
      state: "ready";
      entries: TimelineEntry[];
      cursor: string | null;
      more: "idle" | "loading" | { error: unknown };
    };

/** First page of the timeline on mount; "Load more" follows `next_cursor`. */
function useTimelinePages(): [Pages, () => void, () => void] {
  const { api, organizerId } = useSession();
  const [pages, setPages] = useState<Pages>({ state: "loading" });
  const [attempt, setAttempt] = useState(0);
  const alive = useRef(new AbortController());

  useEffect(() => {
    const controller = new AbortController();
    alive.current = controller;
    setPages({ state: "loading" });
    api.timeline(organizerId, { limit: PAGE_SIZE }, controller.signal).then(
      (page) => {
        if (!controller.signal.aborted) {
          setPages({
            state: "ready",
            entries: page.entries,
            cursor: page.next_cursor,
            more: "idle",
          });
        }
      },
      (error: unknown) => {
        if (!controller.signal.aborted) {
          setPages({ state: "error", error });
        }
      },
    );
    return () => controller.abort();
  }, [api, organizerId, attempt]);

  function loadMore(): void {
    if (pages.state !== "ready" || pages.cursor === null || pages.more === "loading") {
      return;
    }
    const { entries, cursor } = pages;
    const { signal } = alive.current;
    setPages({ ...pages, more: "loading" });
    api.timeline(organizerId, { cursor, limit: PAGE_SIZE }, signal).then(
      (page) => {
        if (!signal.aborted) {
          setPages({
            state: "ready",
            entries: mergePages(entries, page.entries),
            cursor: page.next_cursor,
            more: "idle",
          });
        }
      },
      (error: unknown) => {
        if (!signal.aborted) {
          setPages({ state: "ready", entries, cursor, more: { error } });
        }
      },
    );
  }

  return [pages, () => setAttempt((n) => n + 1), loadMore];
}

export function TimelinePanel({ billing }: { billing: OrganizerBilling }) {
  const [pages, reload, loadMore] = useTimelinePages();
  const locale = useLocale();
  const context = timelineContext(billing, locale);
  return (
    <section aria-labelledby="timeline-heading" className="panel">
      <h2 id="timeline-heading">What changed</h2>
      <p className="muted">Every change to your groups and your bill, newest first.</p>
      {pages.state === "loading" && <Loading label="Loading the timeline…" />}
      {pages.state === "error" && <ErrorState error={pages.error} onRetry={reload} />}
      {pages.state === "ready" && pages.entries.length === 0 && (
        <EmptyState title="Nothing has happened yet">
          <p>Group changes, renewals and payments will be listed here.</p>
        </EmptyState>
      )}
      {pages.state === "ready" && pages.entries.length > 0 && (
        <TimelineList items={pages.entries.map((entry) => toTimelineItem(entry, context))} />
      )}
      {pages.state === "ready" && typeof pages.more === "object" && (
        <ErrorState error={pages.more.error} onRetry={loadMore} heading="We couldn't load more" />
      )}
      {pages.state === "ready" && pages.cursor !== null && (
        <div className="actions">
          <button
            type="button"
            className="button button--secondary"
            onClick={loadMore}
            disabled={pages.more === "loading"}
            aria-busy={pages.more === "loading"}
          >
            {pages.more === "loading" ? "Loading more…" : "Load more"}
          </button>
        </div>
      )}
    </section>
  );
}
