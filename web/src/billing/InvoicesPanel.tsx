import { Link } from "../components/Link.tsx";
import { LoadMore } from "../components/LoadMore.tsx";
import { EmptyState, ErrorState, Loading } from "../components/States.tsx";
import { humanize } from "../lib/format.ts";
import { useFormat } from "../lib/locale.tsx";
import { useSession } from "../lib/session.tsx";
import type { Invoice } from "../lib/types.ts";
import { usePages } from "../lib/usePages.ts";

const REASONS: Record<string, string> = {
  subscription_create: "Enrollment",
  subscription_cycle: "Renewal",
  subscription_update: "Change",
};

const PAGE_SIZE = 24;

/** First page of invoices (newest period first) on mount; "Load more" follows `next_cursor`. */
export function InvoicesPanel() {
  const { api, organizerId } = useSession();
  const [invoices, reload, loadMore] = usePages(
    `invoices:${organizerId}`,
    (cursor, signal) =>
      api
        .invoices(organizerId, { cursor, limit: PAGE_SIZE }, signal)
        .then((page) => ({ items: page.invoices, next_cursor: page.next_cursor })),
    (invoice) => invoice.invoice_id,
  );
  return (
    <section aria-labelledby="invoices-heading" className="panel">
      <h2 id="invoices-heading">Invoices</h2>
      {invoices.state === "loading" && <Loading label="Loading invoices…" />}
      {invoices.state === "error" && <ErrorState error={invoices.error} onRetry={reload} />}
      {invoices.state === "ready" &&
        (invoices.items.length === 0 ? (
          <EmptyState title="No invoices yet">
            <p>Your first invoice appears here once Stripe issues it.</p>
          </EmptyState>
        ) : (
          <InvoiceTable invoices={invoices.items} />
        ))}
      <LoadMore pages={invoices} onMore={loadMore} />
    </section>
  );
}

/** A table on wide screens; each row stacks into a labelled card on a phone (CSS). */
export function InvoiceTable({ invoices }: { invoices: Invoice[] }) {
  const format = useFormat();
  return (
    <table className="invoices">
      <caption className="visually-hidden">Invoices, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Period</th>
          <th scope="col">Reason</th>
          <th scope="col">Groups</th>
          <th scope="col">Subtotal</th>
          <th scope="col">Tax</th>
          <th scope="col">Total</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {invoices.map((invoice) => (
          <tr key={invoice.invoice_id}>
            <th scope="row" data-label="Period">
              <Link
                to={`/invoices/${encodeURIComponent(invoice.invoice_id)}`}
                aria-label={`Explain the invoice for ${format.period(invoice.period_start, invoice.period_end)}`}
              >
                {format.period(invoice.period_start, invoice.period_end)}
              </Link>
            </th>
            <td data-label="Reason">
              {REASONS[invoice.billing_reason] ?? humanize(invoice.billing_reason)}
            </td>
            <td data-label="Groups">{invoice.quantity}</td>
            <td data-label="Subtotal">{format.money(invoice.subtotal, invoice.currency)}</td>
            <td data-label="Tax">{format.money(invoice.tax, invoice.currency)}</td>
            <td data-label="Total">
              <strong>{format.money(invoice.total, invoice.currency)}</strong>
            </td>
            <td data-label="Status">{humanize(invoice.status)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
