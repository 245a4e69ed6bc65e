import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App.tsx";
import { fragmentWithoutToken, resolveSession, tokenFromFragment } from "./lib/auth.ts";
import { loadConfig } from "./lib/config.ts";
import { browserLocale, LocaleContext } from "./lib/locale.tsx";
import "./styles.css";

/** Takes the token out of the address bar (and history) as soon as it is stored. */
function dropTokenFromUrl(): void {
  const { pathname, search, hash } = window.location;
  if (tokenFromFragment(hash) !== null) {
    window.history.replaceState(null, "", `${pathname}${search}${fragmentWithoutToken(hash)}`);
  }
}

async function start(): Promise<void> {
  const session = resolveSession(window.location.hash, window.sessionStorage, Date.now());
  dropTokenFromUrl();
  const config = await loadConfig((input, init) => fetch(input, init));
  const root = document.getElementById("root");
  if (root === null) {
    throw new Error("index.html has no #root element");
  }
  createRoot(root).render(
    <StrictMode>
      <LocaleContext.Provider value={browserLocale()}>
        <App config={config} session={session} />
      </LocaleContext.Provider>
    </StrictMode>,
  );
}

void start();
