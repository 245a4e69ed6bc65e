import type { ReactNode } from "react";

import { LoadMore } from "../components/LoadMore.tsx";
import { EmptyState, ErrorState, Loading } from "../components/States.tsx";
import { usePages, type Page, type Pages } from "../lib/usePages.ts";

export interface StaffListProps<T> {
  id: string;
  title: string;
  pages: Pages<T>;
  empty: string;
  onReload: () => void;
  onMore: () => void;
  item: (item: T) => ReactNode;
  itemKey: (item: T) => string;
  children?: ReactNode;
}

/** One section of the staff area: a paged list with its loading, empty and error states. */
export function StaffList<T>(props: StaffListProps<T>) {
  const { id, title, pages } = props;
  return (
    <section aria-labelledby={`${id}-heading`} className="panel staff-section" id={id}>
      <h2 id={`${id}-heading`}>{title}</h2>
      {props.children}
      {pages.state === "loading" && <Loading label={`Loading ${title.toLowerCase()}…`} />}
      {pages.state === "error" && <ErrorState error={pages.error} onRetry={props.onReload} />}
      {pages.state === "ready" &&
        (pages.items.length === 0 ? (
          <EmptyState title={props.empty} />
        ) : (
          <ul className="staff-list">
            {pages.items.map((item) => (
              <li key={props.itemKey(item)} className="staff-card">
                {props.item(item)}
              </li>
            ))}
          </ul>
        ))}
      <LoadMore pages={pages} onMore={props.onMore} />
    </section>
  );
}

type PagedListProps<T> = Omit<StaffListProps<T>, "pages" | "onReload" | "onMore"> & {
  /** Names what is listed: a new name loads the first page again. */
  resource: string;
  fetchPage: (cursor: string | null, signal: AbortSignal) => Promise<Page<T>>;
};

/** A staff section that loads its own pages (first on mount, more on "Load more"). */
export function PagedList<T>({ resource, fetchPage, ...list }: PagedListProps<T>) {
  const [pages, reload, more] = usePages(resource, fetchPage, list.itemKey);
  return <StaffList {...list} pages={pages} onReload={reload} onMore={more} />;
}

/** Labelled facts of one list item (a `dl`, so each value is read with its label). */
export function Facts({ facts }: { facts: [string, ReactNode][] }) {
  return (
    <dl className="facts staff-facts">
      {facts.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
