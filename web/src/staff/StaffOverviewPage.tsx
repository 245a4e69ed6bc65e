import { PageTitle } from "../components/PageTitle.tsx";
import { OrganizerSearch } from "./OrganizerSearch.tsx";
import {
  AtRisk,
  Corrections,
  DraftMismatches,
  DueRenewals,
  DuplicateSubscriptions,
  SyncFailures,
} from "./sections.tsx";

const SECTIONS = [
  ["search", "Find an organizer"],
  ["at-risk", "At risk"],
  ["due", "Due soon"],
  ["sync-failures", "Sync failures"],
  ["draft-mismatches", "Draft mismatches"],
  ["duplicate-subscriptions", "Duplicate subscriptions"],
  ["corrections", "Corrections"],
] as const;

/** The day's renewals for finance and ops: what is at risk, due, failed or corrected. */
export function StaffOverviewPage() {
  return (
    <>
      <PageTitle>Renewals desk</PageTitle>
      <nav aria-label="Sections" className="staff-sections">
        <ul>
          {SECTIONS.map(([id, label]) => (
            <li key={id}>
              <a href={`#${id}`}>{label}</a>
            </li>
          ))}
        </ul>
      </nav>
      <OrganizerSearch />
      <AtRisk />
      <DueRenewals />
      <SyncFailures />
      <DraftMismatches />
      <DuplicateSubscriptions />
      <Corrections />
    </>
  );
}
