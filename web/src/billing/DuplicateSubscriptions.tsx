import { useFormat } from "../lib/locale.tsx";
import type { OrganizerBilling } from "../lib/types.ts";

/** Issue 13: other live subscriptions the ledger never updates; support should cancel them. */
export function DuplicateSubscriptions({ billing }: { billing: OrganizerBilling }) {
  const format = useFormat();
  const duplicates = billing.duplicate_subscriptions ?? [];
  if (duplicates.length === 0) return null;
  return (
    <section aria-labelledby="duplicates-heading" className="panel notice notice--warning">
      <h2 id="duplicates-heading">More than one subscription</h2>
      <p>
        Your account has {duplicates.length === 1 ? "another subscription" : "other subscriptions"}{" "}
        beside the one we bill per group. We never change {duplicates.length === 1 ? "it" : "them"};
        please contact support so that you are not charged twice.
      </p>
      <ul>
        {duplicates.map((d) => (
          <li key={d.subscription_id}>
            <code>{d.subscription_id}</code> (found{" "}
            <time dateTime={d.found_at}>{format.date(d.found_at)}</time>; billed per group:{" "}
            <code>{d.primary_subscription_id}</code>)
          </li>
        ))}
      </ul>
    </section>
  );
}
