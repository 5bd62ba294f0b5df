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
  const { login, completeMfa, sessionExpired } = useAuth();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await login(email, password);
      if ("mfa_token" in result) {
        // Two-factor on: the password was right; a code from the app finishes the login.
        setMfaToken(result.mfa_token);
        setPassword("");
        setBusy(false);
      }
      // Otherwise PublicOnly sends the user on once the session is known.
    } catch (err) {
      setError(asApiError(err));
      setBusy(false);
    }
  }

  async function onCode(event: FormEvent) {
    event.preventDefault();
    if (!mfaToken) return;
    setBusy(true);
    setError(null);
    try {
      await completeMfa(mfaToken, code);
    } catch (err) {
      const apiError = asApiError(err);
      if (apiError.code === "mfa_token_invalid") setMfaToken(null); // too late: password again
      setError(apiError);
      setBusy(false);
    }
  }

  if (mfaToken) {
    return (
      <AuthShell title="Two-factor sign-in">
        <ErrorAlert error={error} />
        <p className="muted">Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
        <form onSubmit={onCode} noValidate className="form">
          <TextField
            label="Authentication code"
            name="code"
            autoComplete="one-time-code"
            inputMode="numeric"
            required
            autoFocus
            value={code}
            onChange={(e) => setCode(e.target.value)}
            errors={error?.fields.code}
          />
          <SubmitButton busy={busy} busyLabel="Checking…" className="btn btn-primary btn-block">
            Verify
          </SubmitButton>
        </form>
        <p>
          <button type="button" className="btn btn-link" onClick={() => setMfaToken(null)}>
            Start again
          </button>
        </p>
      </AuthShell>
    );
  }

  return (
    <AuthShell
      title="Log in to Meridian"
      footer={
        <>
          <p>
            <Link to="/forgot-password">Forgot your password?</Link>
          </p>
          <p>
            New to Meridian? <Link to="/signup">Create an account</Link>
          </p>
          <p>
            <Link to="/">What is Meridian?</Link>
          </p>
        </>
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
