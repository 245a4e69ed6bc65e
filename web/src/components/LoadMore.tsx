import { ErrorState } from "./States.tsx";
import type { Pages } from "../lib/usePages.ts";

/** Under a paged list: the error of the last "Load more" and the button while pages remain. */
export function LoadMore<T>({ pages, onMore }: { pages: Pages<T>; onMore: () => void }) {
  if (pages.state !== "ready") {
    return null;
  }
  return (
    <>
      {typeof pages.more === "object" && (
        <ErrorState error={pages.more.error} onRetry={onMore} heading="We couldn't load more" />
      )}
      {pages.cursor !== null && (
        <div className="actions">
          <button
            type="button"
            className="button button--secondary"
            onClick={onMore}
            disabled={pages.more === "loading"}
            aria-busy={pages.more === "loading"}
          >
            {pages.more === "loading" ? "Loading more…" : "Load more"}
          </button>
        </div>
      )}
    </>
  );
}
