import { useState, type FormEvent } from "react";

import { Link } from "../components/Link.tsx";
import { humanize } from "../lib/format.ts";
import { useSession } from "../lib/session.tsx";
import { organizerPath } from "./routes.ts";
import { searchOrganizers } from "./staffApi.ts";
import { Facts, PagedList } from "./StaffList.tsx";
import type { OrganizerHit } from "./types.ts";

/** Find an organizer by platform id prefix, Stripe customer or subscription id. */
export function OrganizerSearch() {
  const [text, setText] = useState("");
  const [searched, setSearched] = useState<string | null>(null);

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    setSearched(text.trim() || null);
  }

  return (
    <section aria-labelledby="search-heading" className="panel staff-section" id="search">
      <h2 id="search-heading">Find an organizer</h2>
      <form className="staff-search" role="search" onSubmit={submit}>
        <label htmlFor="organizer-search">
          Platform id (or its start), customer or subscription id
        </label>
        <div className="staff-search__row">
          <input
            id="organizer-search"
            type="search"
            value={text}
            maxLength={200}
            onChange={(event) => setText(event.target.value)}
          />
          <button type="submit" className="button">
            Search
          </button>
        </div>
      </form>
      {searched !== null && <SearchResults text={searched} />}
    </section>
  );
}

function SearchResults({ text }: { text: string }) {
  const { api } = useSession();
  return (
    <PagedList
      resource={`staff:search:${text}`}
      fetchPage={(cursor, signal) => searchOrganizers(api, text, cursor, signal)}
      id="search-results"
      title="Results"
      empty={`No organizer matches “${text}”`}
      item={(hit) => <SearchHit hit={hit} />}
      itemKey={(hit) => hit.organizer_id}
    />
  );
}

export function SearchHit({ hit }: { hit: OrganizerHit }) {
  return (
    <>
      <p className="staff-card__title">
        <Link to={organizerPath(hit.organizer_id)}>{hit.organizer_id}</Link>
      </p>
      <Facts
        facts={[
          ["Customer", hit.customer_id ?? "—"],
          ["Subscription", hit.subscription_id ?? "—"],
          ["Status", hit.subscription_status === null ? "—" : humanize(hit.subscription_status)],
          ["Drift", hit.drift ? "Yes" : "No"],
        ]}
      />
    </>
  );
}
