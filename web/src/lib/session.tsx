import { createContext, useContext } from "react";

import type { Api } from "./api.ts";
import type { Role } from "./auth.ts";

export interface SessionContextValue {
  organizerId: string;
  api: Api;
  /** The token's role; absent means organizer. */
  role?: Role;
}

export const SessionContext = createContext<SessionContextValue | null>(null);

/** The signed-in organizer and its API client (inside <SessionContext.Provider>). */
export function useSession(): SessionContextValue {
  const session = useContext(SessionContext);
  if (session === null) {
    throw new Error("useSession must be used inside a signed-in session");
  }
  return session;
}

/** The signed-in role (organizer when the session does not say). */
export function useRole(): Role {
  return useSession().role ?? "organizer";
}
