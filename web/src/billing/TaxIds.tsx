import type { OrganizerBilling } from "../lib/types.ts";

/** Stripe's tax id types the organizer is likely to have, in words; others by their code. */
const TAX_ID_TYPES: Record<string, string> = {
  eu_vat: "EU VAT",
  gb_vat: "UK VAT",
  ch_vat: "Swiss VAT",
  no_vat: "Norwegian VAT",
  us_ein: "US EIN",
  au_abn: "Australian ABN",
  ca_bn: "Canadian BN",
};

export function taxIdLabel(type: string): string {
  return TAX_ID_TYPES[type] ?? type.replace(/_/g, " ").toUpperCase();
}

/** The customer's tax ids as Stripe reported them (collected at Checkout). */
export function TaxIdsFact({ billing }: { billing: OrganizerBilling }) {
  if (billing.tax_ids.length === 0) return null;
  return (
    <div>
      <dt>Tax IDs</dt>
      <dd>
        <ul className="plain-list" aria-label="Tax IDs">
          {billing.tax_ids.map((taxId) => (
            <li key={`${taxId.type}:${taxId.value}`}>
              {taxId.value} <span className="muted">({taxIdLabel(taxId.type)})</span>
            </li>
          ))}
        </ul>
      </dd>
    </div>
  );
}

const ABSENT: Record<NonNullable<OrganizerBilling["estimate_absent_reason"]>, string> = {
  price_unknown:
    "The estimate of your next charge is not available yet: the ledger has not recorded your price.",
  price_not_per_unit:
    "Your price is tiered, so the amount depends on your groups: Stripe shows it on your next invoice.",
  price_deleted:
    "Your price was removed in Stripe, so the ledger cannot estimate your next charge.",
  discount_not_previewed:
    "Your subscription has a discount: the estimate appears once Stripe has priced your next renewal.",
};

/** Why there is no estimate of the next charge (nothing when there is one). */
export function EstimateAbsentNote({ billing }: { billing: OrganizerBilling }) {
  const reason = billing.estimate_absent_reason;
  if (billing.estimated_next_charge !== null || !reason) return null;
  return <p className="notice">{ABSENT[reason]}</p>;
}
