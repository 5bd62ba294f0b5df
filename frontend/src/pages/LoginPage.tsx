import { useState } from "react";
import type { FormEvent } from "react";
import { Link } from "react-router";

import { ApiError } from "../api/client";
import { useAuth } from "../auth";
import { ErrorAlert, StatusMessage, SubmitButton, TextField } from "../components/ui";
import { asApiError } from "../lib/useAsync";
import { useTitle } from "../lib/useTitle";
import { AuthShell } from "./AuthShell";

export function LoginPage() {
  useTitle("Log in");
  const { login, sessionExpired } = useAuth();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(email, password);
      // PublicOnly sends the user on once the session is known.
    } catch (err) {
      setError(asApiError(err));
      setBusy(false);
    }
  }

  return (
    <AuthShell
      title="Log in to Meridian"
      footer={
        <p>
          New to Meridian? <Link to="/signup">Create an account</Link>
        </p>
      }
    >
      {sessionExpired && !error ? (
        <StatusMessage tone="info">Your session ended. Please log in again.</StatusMessage>
      ) : null}
      <ErrorAlert error={error} />
      <form onSubmit={onSubmit} noValidate className="form">
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          errors={error?.fields.email}
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          errors={error?.fields.password}
        />
        <SubmitButton busy={busy} busyLabel="Logging in…" className="btn btn-primary btn-block">
          Log in
        </SubmitButton>
      </form>
    </AuthShell>
  );
}
