import { NotFoundPage } from "../pages/NotFoundPage.tsx";
import { isStaff } from "../lib/auth.ts";
import { useRole } from "../lib/session.tsx";
import type { StaffRoute } from "./routes.ts";
import { StaffOrganizerPage } from "./StaffOrganizerPage.tsx";
import { StaffOverviewPage } from "./StaffOverviewPage.tsx";
import "./staff.css";

/** The staff area, or "Page not found" for an organizer (no staff UI at all). */
export function StaffPage({ route }: { route: StaffRoute }) {
  if (!isStaff(useRole())) {
    return <NotFoundPage />;
  }
  return route.page === "overview" ? (
    <StaffOverviewPage />
  ) : (
    <StaffOrganizerPage key={route.organizerId} organizerId={route.organizerId} />
  );
}
