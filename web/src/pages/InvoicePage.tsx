import { GroupsChart } from "../billing/GroupsChart.tsx";
import { CountedGroups, Corrections, InvoiceSummary } from "../billing/InvoiceExplained.tsx";
import { Link } from "../components/Link.tsx";
import { PageTitle } from "../components/PageTitle.tsx";
import { EmptyState, ErrorState, Loading } from "../components/States.tsx";
import { ApiError } from "../lib/api.ts";
import { invoiceIdOf, useLocation } from "../lib/router.ts";
import { useSession } from "../lib/session.tsx";
import type { InvoiceDetail } from "../lib/types.ts";
import { useResource } from "../lib/useResource.ts";

/** `/invoices/{invoice_id}`: one invoice explained (the billing page's rows link here). */
export function InvoicePage() {
  const { api, organizerId } = useSession();
  const invoiceId = invoiceIdOf(useLocation().pathname) ?? "";
  const [detail, reload] = useResource(`invoice:${organizerId}:${invoiceId}`, (signal) =>
    api.invoice(organizerId, invoiceId, signal),
  );
  const missing =
    detail.state === "error" && detail.error instanceof ApiError && detail.error.status === 404;
  return (
    <>
      <p>
        <Link to="/billing">← Back to billing</Link>
      </p>
      <PageTitle>Invoice explained</PageTitle>
      {detail.state === "loading" && <Loading label="Loading the invoice…" />}
      {missing && (
        <EmptyState title="No such invoice">
          <p>This invoice is not one of yours, or it is not recorded yet.</p>
        </EmptyState>
      )}
      {detail.state === "error" && !missing && <ErrorState error={detail.error} onRetry={reload} />}
      {detail.state === "ready" && (
        <>
          <InvoiceSummary detail={detail.data} />
          <CountedGroups detail={detail.data} />
          <Corrections detail={detail.data} />
          <HistoryPanel detail={detail.data} />
        </>
      )}
    </>
  );
}

/** Groups over time, from the previous invoice's counting instant to this period's end. */
function HistoryPanel({ detail }: { detail: InvoiceDetail }) {
  const { api, organizerId } = useSession();
  const range = {
    ...(detail.changes_since ? { from: detail.changes_since } : {}),
    to: detail.invoice.period_end,
  };
  const [history, reload] = useResource(
    `groups-history:${organizerId}:${range.from ?? ""}:${range.to}`,
    (signal) => api.groupsHistory(organizerId, range, signal),
  );
  return (
    <section aria-labelledby="history-heading" className="panel">
      <h2 id="history-heading">Groups over time</h2>
      {history.state === "loading" && <Loading label="Loading the groups' history…" />}
      {history.state === "error" && <ErrorState error={history.error} onRetry={reload} />}
      {history.state === "ready" &&
        (history.data.points.length === 0 ? (
          <EmptyState title="No groups yet" />
        ) : (
          <GroupsChart history={history.data} />
        ))}
    </section>
  );
}
