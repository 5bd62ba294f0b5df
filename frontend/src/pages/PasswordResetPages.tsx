import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useSearchParams } from "react-router";

import type { ApiError } from "../api/client";
import { auth } from "../api/endpoints";
import { ErrorAlert, StatusMessage, SubmitButton, TextField } from "../components/ui";
import { asApiError } from "../lib/useAsync";
import { useTitle } from "../lib/useTitle";
import { AuthShell } from "./AuthShell";

const backToLogin = (
  <p>
    <Link to="/login">Back to log in</Link>
  </p>
);

/** Step one: ask for a link. The answer is the same whether or not the address has an account. */
export function ForgotPasswordPage() {
  useTitle("Reset your password");
  const [email, setEmail] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [sent, setSent] = useState<string | null>(null);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setSent((await auth.passwordReset(email)).message);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthShell title="Reset your password" footer={backToLogin}>
      {sent ? <StatusMessage tone="info">{sent}</StatusMessage> : null}
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
        <SubmitButton busy={busy} busyLabel="Sending…" className="btn btn-primary btn-block">
          Email me a reset link
        </SubmitButton>
      </form>
    </AuthShell>
  );
}

/** Step two, from the emailed link (?uid=…&token=…): choose a new password. */
export function ResetPasswordPage() {
  useTitle("Choose a new password");
  const [params] = useSearchParams();
  const uid = params.get("uid") ?? "";
  const token = params.get("token") ?? "";
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setDone((await auth.passwordResetConfirm({ uid, token, new_password: password })).message);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  if (!uid || !token) {
    return (
      <AuthShell title="Choose a new password" footer={backToLogin}>
        <ErrorAlert error="This link is incomplete. Open the link from the email again, or ask for a new one." />
        <p>
          <Link to="/forgot-password">Ask for a new link</Link>
        </p>
      </AuthShell>
    );
  }
  return (
    <AuthShell title="Choose a new password" footer={backToLogin}>
      {done ? (
        <>
          <StatusMessage>{done}</StatusMessage>
          <p>
            <Link to="/login" className="btn btn-primary btn-block">
              Log in
            </Link>
          </p>
        </>
      ) : (
        <>
          <ErrorAlert error={error} />
          {error?.code === "link_invalid" ? (
            <p>
              <Link to="/forgot-password">Ask for a new link</Link>
            </p>
          ) : null}
          <form onSubmit={onSubmit} noValidate className="form">
            <TextField
              label="New password"
              type="password"
              name="new_password"
              autoComplete="new-password"
              required
              minLength={10}
              hint="At least 10 characters; not a common password. Every device will be signed out."
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              errors={error?.fields.new_password}
            />
            <SubmitButton busy={busy} busyLabel="Saving…" className="btn btn-primary btn-block">
              Set new password
            </SubmitButton>
          </form>
        </>
      )}
    </AuthShell>
  );
}

/** From the sign-up email (?uid=…&token=…): confirms the address, logged in or not. */
export function VerifyEmailPage() {
  useTitle("Confirm your email");
  const [params] = useSearchParams();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  // A button rather than on load: mail scanners that open links must not use up the token.
  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      setDone((await auth.emailVerify(params.get("uid") ?? "", params.get("token") ?? "")).message);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthShell title="Confirm your email" footer={<p><Link to="/dashboard">Go to Meridian</Link></p>}>
      {done ? <StatusMessage>{done}</StatusMessage> : null}
      <ErrorAlert error={error} />
      {!done ? (
        <button type="button" className="btn btn-primary btn-block" onClick={confirm} disabled={busy}>
          {busy ? "Confirming…" : "Confirm my email address"}
        </button>
      ) : null}
    </AuthShell>
  );
}
