import { useEffect, useId, useRef, useState } from "react";
import type { FormEvent } from "react";

import type { ApiError } from "../api/client";
import { risk } from "../api/endpoints";
import type { QuestionnaireResponse, QuestionSet } from "../api/types";
import { asApiError } from "../lib/useAsync";
import { ErrorAlert, SubmitButton } from "./ui";

export function QuestionnaireProgress({ answered, total, current }: { answered: number; total: number; current: number }) {
  const percent = total ? Math.round((answered / total) * 100) : 0;
  return (
    <div className="q-progress">
      <div className="q-progress-text">
        <span>
          Question {current} of {total}
        </span>
        <span className="muted">{answered} answered</span>
      </div>
      <div
        className="progress"
        role="progressbar"
        aria-label="Questionnaire progress"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={answered}
        aria-valuetext={`${answered} of ${total} questions answered`}
      >
        <div className="progress-bar" style={{ width: `${percent}%` }} />
      </div>
    </div>
  );
}

/** The risk questionnaire, one question at a time. */
export function QuestionnaireForm({
  questionSet,
  onSubmitted,
  initialAnswers = {},
}: {
  questionSet: QuestionSet;
  onSubmitted: (response: QuestionnaireResponse) => void;
  initialAnswers?: Record<string, string>;
}) {
  const questions = questionSet.questions;
  const [index, setIndex] = useState(0);
  const [answers, setAnswers] = useState<Record<string, string>>(() => {
    const known = new Set(questions.map((q) => q.key));
    return Object.fromEntries(Object.entries(initialAnswers).filter(([k]) => known.has(k)));
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const legendRef = useRef<HTMLLegendElement>(null);
  const moved = useRef(false);
  const baseId = useId();

  useEffect(() => {
    // After Next/Back, put focus on the new question so it is read out.
    if (moved.current) legendRef.current?.focus();
  }, [index]);

  const question = questions[index];
  if (!question) return null;
  const answered = questions.filter((q) => answers[q.key]).length;
  const isLast = index === questions.length - 1;
  const current = answers[question.key] ?? "";
  const serverErrors = error?.fields[`answers.${question.key}`] ?? error?.fields[question.key];

  function go(delta: number) {
    moved.current = true;
    setIndex((i) => Math.min(Math.max(i + delta, 0), questions.length - 1));
  }

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!current) return;
    if (!isLast) {
      go(1);
      return;
    }
    const missing = questions.findIndex((q) => !answers[q.key]);
    if (missing >= 0) {
      moved.current = true;
      setIndex(missing);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSubmitted(await risk.submit(questionSet.version, answers));
    } catch (err) {
      const apiError = asApiError(err);
      setError(apiError);
      const firstBad = questions.findIndex((q) => apiError.fields[`answers.${q.key}`]);
      if (firstBad >= 0) {
        moved.current = true;
        setIndex(firstBad);
      }
    } finally {
      setBusy(false);
    }
  }

  const helpId = `${baseId}-help`;
  const errorId = `${baseId}-error`;

  return (
    <form onSubmit={onSubmit} className="form questionnaire" noValidate>
      <QuestionnaireProgress answered={answered} total={questions.length} current={index + 1} />
      <ErrorAlert error={error} />
      <fieldset
        key={question.key}
        className="question"
        aria-describedby={[question.help_text ? helpId : "", serverErrors ? errorId : ""].filter(Boolean).join(" ") || undefined}
      >
        <legend ref={legendRef} tabIndex={-1}>
          {question.text}
        </legend>
        {question.help_text ? (
          <p id={helpId} className="field-hint">
            {question.help_text}
          </p>
        ) : null}
        <div className="choices">
          {question.choices.map((choice) => (
            <label key={choice.value} className={`choice ${current === choice.value ? "is-selected" : ""}`}>
              <input
                type="radio"
                name={question.key}
                value={choice.value}
                checked={current === choice.value}
                onChange={() => setAnswers((a) => ({ ...a, [question.key]: choice.value }))}
              />
              <span>{choice.label}</span>
            </label>
          ))}
        </div>
        {serverErrors ? (
          <p id={errorId} className="field-error">
            {serverErrors.join(" ")}
          </p>
        ) : null}
      </fieldset>
      <div className="form-actions split">
        <button type="button" className="btn btn-secondary" onClick={() => go(-1)} disabled={index === 0 || busy}>
          Back
        </button>
        <SubmitButton busy={busy} busyLabel="Scoring your answers…" disabled={!current}>
          {isLast ? "See my risk level" : "Next"}
        </SubmitButton>
      </div>
    </form>
  );
}
