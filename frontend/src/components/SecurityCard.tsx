import { useState } from "react";
import type { FormEvent } from "react";

import type { ApiError } from "../api/client";
import { auth } from "../api/endpoints";
import type { TotpEnrolment } from "../api/types";
import { useAuth } from "../auth";
import { Card, ErrorAlert, StatusMessage, SubmitButton, TextField } from "./ui";
import { asApiError } from "../lib/useAsync";

/** Settings › Security: email verification, password change, two-factor sign-in. */
export function SecurityCard() {
  return (
    <Card title={<span id="security">Security</span>}>
      <EmailStatus />
      <PasswordChangeForm />
      <TwoFactor />
    </Card>
  );
}

function EmailStatus() {
  const { user } = useAuth();
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  if (!user) return null;
  if (user.email_verified) return <p className="small">Email address {user.email} is confirmed.</p>;
  async function resend() {
    setError(null);
    try {
      setMessage((await auth.emailVerifyResend()).message);
    } catch (err) {
      setError(asApiError(err));
    }
  }
  return (
    <div className="stack">
      <StatusMessage tone="info">
        Please confirm your email address: we sent a link to {user.email}.{" "}
        <button type="button" className="btn btn-link" onClick={resend}>
          Send it again
        </button>
      </StatusMessage>
      {message ? <p className="small">{message}</p> : null}
      <ErrorAlert error={error} />
    </div>
  );
}

export function PasswordChangeForm() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone((await auth.passwordChange({ current_password: current, new_password: next })).message);
      setCurrent("");
      setNext("");
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} noValidate className="form" aria-label="Change password">
      <h3>Change password</h3>
      {done ? <StatusMessage>{done}</StatusMessage> : null}
      <ErrorAlert error={error} />
      <TextField
        label="Current password"
        type="password"
        name="current_password"
        autoComplete="current-password"
        required
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
        errors={error?.fields.current_password}
      />
      <TextField
        label="New password"
        type="password"
        name="new_password"
        autoComplete="new-password"
        required
        minLength={10}
        hint="At least 10 characters. Your other devices will be signed out."
        value={next}
        onChange={(e) => setNext(e.target.value)}
        errors={error?.fields.new_password}
      />
      <SubmitButton busy={busy} busyLabel="Saving…" className="btn btn-secondary">
        Change password
      </SubmitButton>
    </form>
  );
}

export function TwoFactor() {
  const { user, refreshUser } = useAuth();
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  const start = () =>
    run(async () => {
      setEnrolment(await auth.mfaEnrol());
      setCode("");
    });
  const confirm = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      setCodes((await auth.mfaConfirm(code)).recovery_codes);
      setEnrolment(null);
      setCode("");
      await refreshUser();
    });
  };
  const disable = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      await auth.mfaDisable(code);
      setCode("");
      setCodes(null);
      await refreshUser();
    });
  };

  const codeField = (
    <TextField
      label="Code from your app"
      name="code"
      autoComplete="one-time-code"
      required
      value={code}
      onChange={(e) => setCode(e.target.value)}
      errors={error?.fields.code}
    />
  );

  return (
    <section aria-label="Two-factor sign-in">
      <h3>Two-factor sign-in</h3>
      <ErrorAlert error={error} />
      {codes ? (
        <div>
          <StatusMessage>Two-factor sign-in is on. Save these recovery codes: each works once, and they are shown only now.</StatusMessage>
          <ul className="recovery-codes">
            {codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {user?.mfa_enabled ? (
        <form onSubmit={disable} noValidate className="form">
          <p className="small">On: signing in asks for a code from your authenticator app.</p>
          {codeField}
          <SubmitButton busy={busy} busyLabel="Turning off…" className="btn btn-secondary">
            Turn off two-factor sign-in
          </SubmitButton>
        </form>
      ) : enrolment ? (
        <form onSubmit={confirm} noValidate className="form">
          <p className="small">Scan the QR code with an authenticator app, or enter the secret, then type the code it shows.</p>
          <img src={enrolment.qr_svg_data_uri} alt="QR code for your authenticator app" width={180} height={180} />
          <p className="small">
            Secret: <code>{enrolment.secret}</code>
          </p>
          {codeField}
          <SubmitButton busy={busy} busyLabel="Checking…" className="btn btn-primary">
            Turn on
          </SubmitButton>
        </form>
      ) : (
        <div>
          <p className="small">Off. Add a code from an authenticator app to every sign-in.</p>
          <button type="button" className="btn btn-secondary" onClick={start} disabled={busy}>
            Set up two-factor sign-in
          </button>
        </div>
      )}
    </section>
  );
}
