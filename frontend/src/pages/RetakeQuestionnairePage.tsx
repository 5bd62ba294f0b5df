import { useState } from "react";
import { Link } from "react-router";

import { risk } from "../api/endpoints";
import { useAuth } from "../auth";
import { QuestionnaireForm } from "../components/QuestionnaireForm";
import { RiskProfilePanel } from "../components/RiskProfileView";
import { StressCheckNote } from "../components/StressCheckNote";
import { Card, ErrorAlert, Loading, PageHeader } from "../components/ui";
import { useAsync } from "../lib/useAsync";
import { useTitle } from "../lib/useTitle";

export default function RetakeQuestionnairePage() {
  useTitle("Risk questionnaire");
  const { markOnboarded } = useAuth();
  const [submitted, setSubmitted] = useState(false);
  const state = useAsync(async (signal) => {
    const [questions, previous] = await Promise.all([
      risk.questionnaire(signal),
      risk.responses(signal),
    ]);
    return { questions, previous: previous[0]?.answers ?? {} };
  }, []);

  return (
    <>
      <p className="breadcrumb">
        <Link to="/settings">Settings</Link> <span aria-hidden="true">/</span> Risk questionnaire
      </p>
      <PageHeader
        title="Retake the risk questionnaire"
        subtitle="Life changes, and so can your attitude to risk. Your previous answers are filled in."
      />
      <Card>
        {state.loading ? <Loading /> : null}
        {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
        {submitted ? (
          <>
            <h2 className="card-title">Your new risk level</h2>
            <RiskProfilePanel />
            {/* The new level's worst scenario beside the loss the new answers say is bearable. */}
            <StressCheckNote />
            <p className="form-actions">
              <Link to="/dashboard" className="btn btn-primary">
                Back to your dashboard
              </Link>
            </p>
          </>
        ) : state.data ? (
          <QuestionnaireForm
            questionSet={state.data.questions}
            initialAnswers={state.data.previous}
            onSubmitted={() => {
              markOnboarded();
              setSubmitted(true);
            }}
          />
        ) : null}
      </Card>
    </>
  );
}
