import { useEffect, useState } from "react";
import { Link, useLocation } from "react-router";

import { auth, clients } from "../api/endpoints";
import type { DeviceToken } from "../api/types";
import { HarvestAutoCard } from "../components/HarvestAutoCard";
import { KycForm, KycMissing } from "../components/KycForm";
import { NotificationPreferencesCard } from "../components/NotificationPreferencesCard";
import { RiskProfilePanel } from "../components/RiskProfileView";
import { SecurityCard } from "../components/SecurityCard";
import { Card, EmptyState, ErrorAlert, Loading, PageHeader, StatusMessage } from "../components/ui";
import { formatDate, formatDateTime } from "../lib/format";
import { asApiError, useAsync } from "../lib/useAsync";
import { useTitle } from "../lib/useTitle";

function DeviceRow({ token, onRevoked }: { token: DeviceToken; onRevoked: (key: string) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const name = token.device_name || "Unnamed device";
  async function revoke() {
    setBusy(true);
    setError(null);
    try {
      await auth.revokeToken(token.token_key);
      onRevoked(token.token_key);
    } catch (err) {
      setError(asApiError(err).message);
      setBusy(false);
    }
  }
  return (
    <li className="device-row">
      <div>
        <p>
          <strong>{name}</strong>
        </p>
        <p className="small muted">
          Signed in {formatDateTime(token.created)} · expires {formatDate(token.expiry)}
        </p>
        {error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : null}
      </div>
      <button type="button" className="btn btn-secondary btn-small" onClick={revoke} disabled={busy}>
        {busy ? "Signing out…" : "Sign out"}
        <span className="visually-hidden"> {name}</span>
      </button>
    </li>
  );
}

function DevicesCard() {
  const state = useAsync((signal) => auth.tokens(signal), []);
  const [message, setMessage] = useState<string | null>(null);
  return (
    <Card title={<span id="devices">Devices</span>}>
      <p className="muted small">Phones and tablets signed in to the Meridian app. Sign out any you don't recognise.</p>
      {state.loading ? <Loading /> : null}
      {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      {message ? <StatusMessage>{message}</StatusMessage> : null}
      {state.data && state.data.length === 0 ? (
        <EmptyState title="No devices signed in">
          <p>When you sign in to the mobile app, the device appears here.</p>
        </EmptyState>
      ) : null}
      {state.data && state.data.length > 0 ? (
        <ul className="device-list">
          {state.data.map((token) => (
            <DeviceRow
              key={token.token_key}
              token={token}
              onRevoked={(key) => {
                state.setData((prev) => (prev ?? []).filter((t) => t.token_key !== key));
                setMessage(`${token.device_name || "The device"} was signed out.`);
              }}
            />
          ))}
        </ul>
      ) : null}
    </Card>
  );
}

function ProfileCard() {
  const state = useAsync((signal) => clients.me(signal), []);
  const profile = state.data;
  return (
    <Card title={<span id="profile">Profile</span>}>
      {state.loading && !profile ? <Loading /> : null}
      {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      {profile ? (
        <>
          <dl className="facts">
            <div>
              <dt>Email</dt>
              <dd>{profile.email}</dd>
            </div>
            <div>
              <dt>KYC</dt>
              <dd>
                {profile.kyc_complete ? "Complete" : "Incomplete"}
                {profile.kyc_review_overdue ? " · review overdue" : ""}
                <KycMissing profile={profile} />
              </dd>
            </div>
            <div>
              <dt>Next review</dt>
              <dd>{formatDate(profile.kyc_review_due)}</dd>
            </div>
            <div>
              <dt>Your advisor</dt>
              <dd>{profile.advisor_name ?? "Not assigned yet"}</dd>
            </div>
          </dl>
          <KycForm key={profile.updated_at} profile={profile} onSaved={(p) => state.setData(p)} />
        </>
      ) : null}
    </Card>
  );
}

export default function SettingsPage() {
  useTitle("Settings");
  const location = useLocation();

  useEffect(() => {
    if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  }, [location.hash]);

  return (
    <>
      <PageHeader title="Settings" />
      <nav aria-label="Settings sections" className="subnav">
        <a href="#profile">Profile</a>
        <a href="#risk">Risk profile</a>
        <a href="#security">Security</a>
        <a href="#devices">Devices</a>
        <a href="#notifications">Notifications</a>
      </nav>
      <div className="stack">
        <ProfileCard />
        <Card
          title={<span id="risk">Risk profile</span>}
          action={
            <Link to="/settings/questionnaire" className="btn btn-secondary btn-small">
              Retake the questionnaire
            </Link>
          }
        >
          <RiskProfilePanel />
        </Card>
        <HarvestAutoCard />
        <SecurityCard />
        <DevicesCard />
        <NotificationPreferencesCard />
      </div>
    </>
  );
}
