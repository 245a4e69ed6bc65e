import { useEffect, useRef, useState } from "react";

/** One page of a keyset-paged list: its items and the cursor of the next (null at the end). */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type Pages<T> =
  | { state: "loading" }
  | { state: "error"; error: unknown }
  | {
      state: "ready";
      items: T[];
      cursor: string | null;
      more: "idle" | "loading" | { error: unknown };
    };

/**
 * Items shown so far followed by a new page, without an item twice (a page can repeat
 * one the previous page ended on if the list changed in between): `key` names an item.
 */
export function appendPage<T>(shown: T[], page: T[], key: (item: T) => string): T[] {
  const seen = new Set(shown.map(key));
  return [...shown, ...page.filter((item) => !seen.has(key(item)))];
}

/**
 * The first page on mount (and again when `resource` changes or on reload); `loadMore`
 * follows `next_cursor`. Requests are aborted when the component unmounts or the
 * resource changes, so a late answer never overwrites a newer one.
 */
export function usePages<T>(
  resource: string,
  fetchPage: (cursor: string | null, signal: AbortSignal) => Promise<Page<T>>,
  key: (item: T) => string,
): [Pages<T>, () => void, () => void] {
  const [pages, setPages] = useState<Pages<T>>({ state: "loading" });
  const [attempt, setAttempt] = useState(0);
  const alive = useRef(new AbortController());
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;

  useEffect(() => {
    const controller = new AbortController();
    alive.current = controller;
    setPages({ state: "loading" });
    fetchRef.current(null, controller.signal).then(
      (page) => {
        if (!controller.signal.aborted) {
          setPages({ state: "ready", items: page.items, cursor: page.next_cursor, more: "idle" });
        }
      },
      (error: unknown) => {
        if (!controller.signal.aborted) {
          setPages({ state: "error", error });
        }
      },
    );
    return () => controller.abort();
  }, [resource, attempt]);

  function loadMore(): void {
    if (pages.state !== "ready" || pages.cursor === null || pages.more === "loading") {
      return;
    }
    const { items, cursor } = pages;
    const { signal } = alive.current;
    setPages({ ...pages, more: "loading" });
    fetchRef.current(cursor, signal).then(
      (page) => {
        if (!signal.aborted) {
          setPages({
            state: "ready",
            items: appendPage(items, page.items, key),
            cursor: page.next_cursor,
            more: "idle",
          });
        }
      },
      (error: unknown) => {
        if (!signal.aborted) {
          setPages({ state: "ready", items, cursor, more: { error } });
        }
      },
    );
  }

  return [pages, () => setAttempt((n) => n + 1), loadMore];
}
