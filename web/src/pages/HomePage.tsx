import { useEffect } from "react";

import { PageTitle } from "../components/PageTitle.tsx";
import { ErrorState, Loading } from "../components/States.tsx";
import { billingOrNull } from "../lib/billingQuery.ts";
import { homeRoute } from "../lib/enrollment.ts";
import { navigate } from "../lib/router.ts";
import { useSession } from "../lib/session.tsx";
import { useResource } from "../lib/useResource.ts";

/** "/": not enrolled yet → the enrollment page, else the billing page. */
export function HomePage() {
  const { api, organizerId } = useSession();
  const [billing, reload] = useResource(`billing:${organizerId}`, (signal) =>
    billingOrNull(api, organizerId, signal),
  );

  useEffect(() => {
    if (billing.state === "ready") {
      navigate(homeRoute(billing.data), { redirect: true });
    }
  }, [billing]);

  return (
    <>
      <PageTitle>Billing</PageTitle>
      {billing.state === "error" ? (
        <ErrorState error={billing.error} onRetry={reload} />
      ) : (
        <Loading label="Loading your billing…" />
      )}
    </>
  );
}
