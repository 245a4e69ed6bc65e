import { createContext, useContext } from "react";

import type { Api } from "./api.ts";

export interface SessionContextValue {
  organizerId: string;
  api: Api;
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
