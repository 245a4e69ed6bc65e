/** The staff area's paths: `/staff` and `/staff/organizers/{id}` (null: not a staff path). */
export type StaffRoute = { page: "overview" } | { page: "organizer"; organizerId: string };

export function staffRouteOf(pathname: string): StaffRoute | null {
  const path = pathname.replace(/\/+$/, "");
  if (path === "/staff") {
    return { page: "overview" };
  }
  const match = /^\/staff\/organizers\/([^/]+)$/.exec(path);
  if (match?.[1] === undefined) {
    return null;
  }
  try {
    return { page: "organizer", organizerId: decodeURIComponent(match[1]) };
  } catch {
    return null; // a malformed escape is no organizer
  }
}

export function organizerPath(organizerId: string): string {
  return `/staff/organizers/${encodeURIComponent(organizerId)}`;
}
