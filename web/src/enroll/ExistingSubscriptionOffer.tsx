import { ActionButton } from "../components/ActionButton.tsx";
import { chargeAfterMove, confirmMove, untilBillingShowsIt } from "../lib/existing.ts";
import type { ExistingPrice, ExistingSubscription } from "../lib/existing.ts";
import { groups } from "../lib/format.ts";
import type { Formatters } from "../lib/format.ts";
import { useFormat } from "../lib/locale.tsx";
import { navigate } from "../lib/router.ts";
import { useSession } from "../lib/session.tsx";

function per(price: ExistingPrice): string {
  return `per ${price.interval}`;
}

function priceWords(price: ExistingPrice, format: Formatters): string {
  return price.unit_amount === null
    ? "a tiered price"
    : `${format.money(price.unit_amount, price.currency)} ${per(price)}`;
}

/** "We found your existing subscription": what it bills now, what moves when, confirm. */
export function ExistingSubscriptionOffer({ existing }: { existing: ExistingSubscription }) {
  const format = useFormat();
  const next = chargeAfterMove(existing);
  const group = existing.moves_to;
  return (
    <section className="panel" aria-labelledby="existing-heading">
      <h2 id="existing-heading">We found your existing subscription</h2>
      <dl className="facts">
        <div>
          <dt>Subscription</dt>
          <dd>
            <code>{existing.subscription_id}</code>
          </dd>
        </div>
        <div>
          <dt>Billed now</dt>
          <dd>
            {existing.quantity} × {priceWords(existing.price, format)}
          </dd>
        </div>
        <div>
          <dt>Current period ends</dt>
          <dd>
            <time dateTime={existing.current_period_end}>
              {format.date(existing.current_period_end)}
            </time>
          </dd>
        </div>
      </dl>
      <h3>What moves when</h3>
      <ul className="moves">
        <li>
          Nothing is charged now: the current period stays as you paid it, and you need no new
          payment details.
        </li>
        <li>
          From your next renewal on{" "}
          <time dateTime={existing.moves_at}>{format.date(existing.moves_at)}</time>, you pay{" "}
          {priceWords(group, format)} per active group.
        </li>
        <li>
          {next === null
            ? `You have ${groups(existing.groups_now)} today.`
            : `With ${groups(existing.groups_now)} today, that renewal would be ${format.money(next, group.currency)}; the groups active at the renewal are billed.`}
        </li>
      </ul>
      <ConfirmMoveButton />
    </section>
  );
}

/** Confirms the move, then the billing page once it shows the subscription (also when
 * the move was confirmed already). */
function ConfirmMoveButton() {
  const { api, organizerId } = useSession();
  return (
    <ActionButton
      label="Move to per-group billing"
      busyLabel="Moving your subscription…"
      errorHeading="We couldn't move your subscription"
      action={async () => {
        await confirmMove(api, organizerId);
        await untilBillingShowsIt(api, organizerId);
        navigate("/billing", { replace: true });
      }}
    />
  );
}
