import { Link } from "react-router";

import { PageHeader } from "../components/ui";
import { useTitle } from "../lib/useTitle";

export function NotFoundPage() {
  useTitle("Page not found");
  return (
    <>
      <PageHeader title="Page not found" subtitle="That page doesn't exist or has moved." />
      <p>
        <Link to="/dashboard">Go to your dashboard</Link>
      </p>
    </>
  );
}
