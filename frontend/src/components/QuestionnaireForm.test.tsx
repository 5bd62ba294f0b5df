import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import type { QuestionSet } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import { QuestionnaireForm } from "./QuestionnaireForm";

const questionSet: QuestionSet = {
  version: "2026.1",
  title: "Risk",
  questions: [
    { key: "q1", text: "First question?", dimension: "willingness", help_text: "", choices: [{ value: "a", label: "Alpha" }, { value: "b", label: "Beta" }] },
    { key: "q2", text: "Second question?", dimension: "capacity", help_text: "Be honest.", choices: [{ value: "c", label: "Gamma" }, { value: "d", label: "Delta" }] },
    { key: "q3", text: "Third question?", dimension: "capacity", help_text: "", choices: [{ value: "e", label: "Epsilon" }] },
  ],
};

function progress() {
  const bar = screen.getByRole("progressbar", { name: "Questionnaire progress" });
  return { now: bar.getAttribute("aria-valuenow"), max: bar.getAttribute("aria-valuemax") };
}

describe("the risk questionnaire", () => {
  it("shows where the client is and how much is answered", () => {
    render(<QuestionnaireForm questionSet={questionSet} onSubmitted={() => {}} />);

    expect(screen.getByText("Question 1 of 3")).toBeTruthy();
    expect(progress()).toEqual({ now: "0", max: "3" });
    expect(screen.getByRole("button", { name: "Next" })).toHaveProperty("disabled", true);

    fireEvent.click(screen.getByLabelText("Beta"));
    expect(progress().now).toBe("1");
    fireEvent.click(screen.getByRole("button", { name: "Next" }));

    expect(screen.getByText("Question 2 of 3")).toBeTruthy();
    expect(screen.getByRole("group", { name: "Second question?" })).toBeTruthy();
    expect(screen.getByText("1 answered")).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Back" }));
    expect(screen.getByText("Question 1 of 3")).toBeTruthy();
    expect(screen.getByLabelText("Beta")).toHaveProperty("checked", true);
  });

  it("submits every answer with the version on the last question", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(() => json({ id: 9, version: "2026.1", answers: {}, submitted_at: "", assessments: [] }, 201));
    const onSubmitted = vi.fn();
    render(<QuestionnaireForm questionSet={questionSet} onSubmitted={onSubmitted} />);

    fireEvent.click(screen.getByLabelText("Alpha"));
    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    fireEvent.click(screen.getByLabelText("Delta"));
    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    fireEvent.click(screen.getByLabelText("Epsilon"));
    expect(progress().now).toBe("3");
    fireEvent.click(screen.getByRole("button", { name: "See my risk level" }));

    await vi.waitFor(() => expect(onSubmitted).toHaveBeenCalledTimes(1));
    expect(calls[0]?.url).toBe("/api/v1/questionnaire/responses/");
    expect(calls[0]?.body).toEqual({ version: "2026.1", answers: { q1: "a", q2: "d", q3: "e" } });
  });

  it("takes the client to the question the server refused", async () => {
    document.cookie = "csrftoken=t; path=/";
    mockFetch(() =>
      json({ message: "Some answers are invalid.", code: "invalid", extra: { fields: { answers: { q2: ["Not a choice."] } } } }, 400),
    );
    render(<QuestionnaireForm questionSet={questionSet} onSubmitted={() => {}} initialAnswers={{ q1: "a", q2: "c", q3: "e" }} />);
    expect(progress().now).toBe("3");
    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    fireEvent.click(screen.getByRole("button", { name: "See my risk level" }));

    expect(await screen.findByText("Not a choice.")).toBeTruthy();
    expect(screen.getByText("Question 2 of 3")).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toBe("Some answers are invalid.");
  });
});
