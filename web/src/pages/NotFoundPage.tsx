import { Link } from "../components/Link.tsx";
import { PageTitle } from "../components/PageTitle.tsx";

export function NotFoundPage() {
  return (
    <>
      <PageTitle>Page not found</PageTitle>
      <p>There is no page at this address.</p>
      <p>
        <Link to="/">Go to your billing</Link>
      </p>
    </>
  );
}
