import { useAuth } from "../auth";
import { useTitle } from "../lib/useTitle";
import { AuthShell } from "./AuthShell";

/** Advisors and admins have no client profile: their place is the advisor workspace. */
export function StaffNoticePage() {
  useTitle("Advisor workspace");
  const { user, logout } = useAuth();
  return (
    <AuthShell title="This is the client app">
      <p>
        You're logged in as {user?.email}, an {user?.role} login. Client books, rebalance approvals
        and alerts live in the advisor workspace.
      </p>
      <p className="actions">
        <a className="btn btn-primary" href="/admin/">
          Open the advisor workspace
        </a>
        <button type="button" className="btn btn-secondary" onClick={() => void logout()}>
          Log out
        </button>
      </p>
    </AuthShell>
  );
}
