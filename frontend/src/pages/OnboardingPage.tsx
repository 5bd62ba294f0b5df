import { useEffect, useRef, useState } from "react";
import { useNavigate } from "react-router";

import { clients, risk } from "../api/endpoints";
import type { ClientProfile, QuestionSet } from "../api/types";
import { useAuth } from "../auth";
import { GoalForm } from "../components/GoalForm";
import { KYC_SECTIONS, KycForm, KycMissing, kycInitialValues } from "../components/KycForm";
import type { KycValues } from "../components/KycForm";
import { QuestionnaireForm } from "../components/QuestionnaireForm";
import { RiskResultPanel } from "../components/RiskProfileView";
import { Card, ErrorAlert, Loading, PageHeader } from "../components/ui";
import { useAsync } from "../lib/useAsync";
import { useTitle } from "../lib/useTitle";

const STEPS = ["Your profile", "Risk questionnaire", "Your risk level", "First goal"] as const;

function Stepper({ step }: { step: number }) {
  return (
    <nav aria-label="Onboarding progress">
      <ol className="stepper">
        {STEPS.map((label, i) => (
          <li
            key={label}
            className={i < step ? "done" : i === step ? "current" : ""}
            aria-current={i === step ? "step" : undefined}
          >
            <span className="stepper-dot" aria-hidden="true">
              {i < step ? "✓" : i + 1}
            </span>
            <span className="stepper-label">
              {label}
              {i < step ? <span className="visually-hidden"> (done)</span> : null}
            </span>
          </li>
        ))}
      </ol>
    </nav>
  );
}

export function OnboardingPage() {
  useTitle("Get started");
  const navigate = useNavigate();
  const { user, onboarded, markOnboarded } = useAuth();
  const profile = useAsync((signal) => clients.me(signal), []);
  const questions = useAsync<QuestionSet>((signal) => risk.questionnaire(signal), []);
  const [step, setStep] = useState<number | null>(null);
  // The profile comes in short screens; its answers live here, so Back loses nothing.
  const [kycSection, setKycSection] = useState(0);
  const [kycValues, setKycValues] = useState<KycValues | null>(null);
  // Saved, yet the server still misses something: say exactly what.
  const [kycShort, setKycShort] = useState(false);
  const headingRef = useRef<HTMLDivElement>(null);

  // Resume where the client left off.
  useEffect(() => {
    if (step !== null || !profile.data) return;
    if (!profile.data.kyc_complete) setStep(0);
    else if (onboarded === false) setStep(1);
    else setStep(2);
  }, [profile.data, onboarded, step]);

  useEffect(() => {
    if (profile.data && kycValues === null) setKycValues(kycInitialValues(profile.data));
  }, [profile.data, kycValues]);

  useEffect(() => {
    if (step === null) return;
    // A new step is a new page: start at the top and read its heading.
    window.scrollTo({ top: 0 });
    headingRef.current?.querySelector<HTMLElement>("h2 > [tabindex]")?.focus({ preventScroll: true });
  }, [step, kycSection]);

  if (profile.error) return <ErrorAlert error={profile.error} onRetry={profile.reload} />;
  if (step === null || !profile.data) return <Loading label="Loading your profile…" />;

  const firstName = user?.first_name || profile.data.first_name;

  return (
    <div className="onboarding">
      <PageHeader
        title={firstName ? `Welcome, ${firstName}` : "Welcome to Meridian"}
        subtitle="Four short steps and your money is working towards your first goal."
      />
      <Stepper step={step} />
      <div ref={headingRef}>
        {step === 0 ? (
          <Card title={<span tabIndex={-1}>Tell us about yourself</span>}>
            <p className="muted">
              Regulations require us to know our clients, and your answers shape how we invest.
            </p>
            {kycShort ? <KycMissing profile={profile.data} /> : null}
            <p className="small" data-testid="kyc-progress">
              Part {kycSection + 1} of {KYC_SECTIONS.length}: {KYC_SECTIONS[kycSection]?.title}
            </p>
            <progress
              className="kyc-progress"
              aria-label="Profile progress"
              max={KYC_SECTIONS.length}
              value={kycSection + 1}
            />
            {kycValues ? (
              <KycForm
                key={kycSection}
                profile={profile.data}
                section={kycSection}
                values={kycValues}
                onValuesChange={setKycValues}
                onNext={() => setKycSection((n) => Math.min(n + 1, KYC_SECTIONS.length - 1))}
                onBack={kycSection > 0 ? () => setKycSection((n) => Math.max(n - 1, 0)) : undefined}
                submitLabel="Save and continue"
                onSaved={(updated: ClientProfile) => {
                  profile.setData(updated);
                  setKycShort(!updated.kyc_complete);
                  if (updated.kyc_complete) setStep(1);
                }}
              />
            ) : null}
          </Card>
        ) : null}

        {step === 1 ? (
          <Card title={<span tabIndex={-1}>{questions.data?.title ?? "Risk questionnaire"}</span>}>
            {questions.error ? <ErrorAlert error={questions.error} onRetry={questions.reload} /> : null}
            {questions.loading ? <Loading label="Loading the questionnaire…" /> : null}
            {questions.data ? (
              <QuestionnaireForm
                questionSet={questions.data}
                onSubmitted={() => {
                  markOnboarded();
                  setStep(2);
                }}
              />
            ) : null}
            <p className="small">
              <button
                type="button"
                className="linklike"
                onClick={() => {
                  setKycSection(KYC_SECTIONS.length - 1);
                  setStep(0);
                }}
              >
                Back to your profile
              </button>
            </p>
          </Card>
        ) : null}

        {step === 2 ? (
          <Card title={<span tabIndex={-1}>Your risk level</span>}>
            <RiskResultPanel onMissing={() => setStep(1)} />
            <div className="form-actions">
              <button type="button" className="btn btn-secondary" onClick={() => setStep(1)}>
                Retake the questionnaire
              </button>
              <button type="button" className="btn btn-primary" onClick={() => setStep(3)}>
                Continue to your first goal
              </button>
            </div>
          </Card>
        ) : null}

        {step === 3 ? (
          <Card title={<span tabIndex={-1}>Set your first goal</span>}>
            <p className="muted">
              Each goal gets its own account and portfolio, tuned to your risk level and how far away
              the goal is.
            </p>
            <GoalForm
              submitLabel="Create goal"
              onSaved={(goal) => navigate(`/dashboard?welcome=${goal.id}`, { replace: true })}
              onCancel={() => setStep(2)}
            />
            <p className="small">
              <button type="button" className="linklike" onClick={() => navigate("/dashboard")}>
                Skip for now
              </button>
            </p>
          </Card>
        ) : null}
      </div>
    </div>
  );
}
