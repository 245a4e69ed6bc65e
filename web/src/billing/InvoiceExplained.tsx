import { groups, humanize } from "../lib/format.ts";
import { useFormat } from "../lib/locale.tsx";
import type { InvoiceDetail } from "../lib/types.ts";

type Detail = InvoiceDetail;
type Named = { group_id: string; group_name: string | null };

const KINDS: Record<string, string> = {
  draft_item: "Added to the invoice before it was finalised",
  one_off_invoice: "Charged on a separate invoice",
  credit_note: "Credited on a credit note",
};

/** A group as the organizer knows it: its name (id beside it), or its id alone. */
export function GroupName({ group }: { group: Named }) {
  return group.group_name ? (
    <>
      <strong>{group.group_name}</strong> <span className="muted">({group.group_id})</span>
    </>
  ) : (
    <strong>{group.group_id}</strong>
  );
}

/** What the invoice billed: period, groups, amounts with tax apart, Stripe's documents. */
export function InvoiceSummary({ detail }: { detail: Detail }) {
  const format = useFormat();
  const { invoice } = detail;
  const money = (amount: number) => format.money(amount, invoice.currency);
  return (
    <section aria-labelledby="invoice-summary-heading" className="panel">
      <h2 id="invoice-summary-heading">
        {format.period(invoice.period_start, invoice.period_end)}
      </h2>
      <dl className="facts">
        <dt>Groups billed</dt>
        <dd>{groups(invoice.quantity)}</dd>
        <dt>Subtotal</dt>
        <dd>{money(invoice.subtotal)}</dd>
        <dt>Tax</dt>
        <dd>{money(invoice.tax)}</dd>
        <dt>Total</dt>
        <dd>
          <strong>{money(invoice.total)}</strong>
        </dd>
        <dt>Status</dt>
        <dd>{humanize(invoice.status)}</dd>
      </dl>
      {(detail.hosted_invoice_url || detail.invoice_pdf) && (
        <p>
          {detail.hosted_invoice_url && (
            <a href={detail.hosted_invoice_url} rel="noopener noreferrer" target="_blank">
              View on Stripe
            </a>
          )}{" "}
          {detail.invoice_pdf && (
            <a href={detail.invoice_pdf} rel="noopener noreferrer" target="_blank">
              Download PDF
            </a>
          )}
        </p>
      )}
    </section>
  );
}

/** Which groups were counted, and the changes since the previous invoice that moved that. */
export function CountedGroups({ detail }: { detail: Detail }) {
  const format = useFormat();
  const counted = detail.counted_groups;
  return (
    <section aria-labelledby="counted-heading" className="panel">
      <h2 id="counted-heading">Why {groups(detail.invoice.quantity)}</h2>
      <p>
        {counted.length === 0
          ? "No group was active"
          : `${groups(counted.length)} ${counted.length === 1 ? "was" : "were"} active`}{" "}
        on {format.dateTime(detail.counted_at)}, when this period began:
      </p>
      {counted.length > 0 && (
        <ul className="counted-groups">
          {counted.map((group) => (
            <li key={group.group_id}>
              <GroupName group={group} />
            </li>
          ))}
        </ul>
      )}
      <h3>
        {detail.changes_since
          ? `Changes since the previous invoice (${format.date(detail.changes_since)})`
          : "Changes before this invoice"}
      </h3>
      {detail.changes_since_previous.length === 0 ? (
        <p className="muted">No group opened or closed in between.</p>
      ) : (
        <ol className="group-changes">
          {detail.changes_since_previous.map((change) => (
            <li key={change.change_id}>
              <GroupName group={change} /> {change.change === "opened" ? "opened" : "closed"}{" "}
              <time dateTime={change.occurred_at} className="muted">
                {format.dateTime(change.occurred_at)}
              </time>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** Corrections the ledger made so that the invoice bills the groups counted. */
export function Corrections({ detail }: { detail: Detail }) {
  const format = useFormat();
  if (detail.corrections.length === 0) {
    return null;
  }
  return (
    <section aria-labelledby="corrections-heading" className="panel">
      <h2 id="corrections-heading">Corrections</h2>
      <ul>
        {detail.corrections.map((c) => (
          <li key={c.correction_id}>
            {KINDS[c.kind] ?? humanize(c.kind)}: {c.quantity > 0 ? "+" : ""}
            {c.quantity} {Math.abs(c.quantity) === 1 ? "group" : "groups"},{" "}
            {format.money(c.amount.amount, c.amount.currency)} before tax ({humanize(c.status)},{" "}
            {format.date(c.requested_at)})
          </li>
        ))}
      </ul>
    </section>
  );
}
