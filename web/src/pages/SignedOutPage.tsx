import { PageTitle } from "../components/PageTitle.tsx";

/**
 * Shown while the browser is sent to the platform's sign-in, or instead of it when the
 * sign-in address is this very page (no platform configured): no redirect loop.
 */
export function SignedOutPage({
  signInUrl,
  redirecting,
  expired,
}: {
  signInUrl: string;
  redirecting: boolean;
  expired: boolean;
}) {
  return (
    <>
      <PageTitle>{expired ? "Your session has ended" : "Sign in to see your billing"}</PageTitle>
      {redirecting ? (
        <>
          <p role="status">Taking you to the platform's sign-in…</p>
          <p>
            <a href={signInUrl}>Sign in via the platform</a>
          </p>
        </>
      ) : (
        <p>Open billing from the community platform to sign in again.</p>
      )}
    </>
  );
}
