import type { EnrollmentStatus } from "../lib/types.ts";

const LABELS: Record<EnrollmentStatus, string> = {
  not_enrolled: "Not enrolled",
  pending: "Waiting for confirmation",
  active: "Active",
  past_due: "Payment past due",
  canceled: "Canceled",
};

/** The enrollment status in words (color is never the only signal). */
export function StatusBadge({ status }: { status: EnrollmentStatus }) {
  return <span className={`badge badge--${status.replace("_", "-")}`}>{LABELS[status]}</span>;
}
