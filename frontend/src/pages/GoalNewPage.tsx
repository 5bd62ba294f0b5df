import { useNavigate } from "react-router";

import { Card, PageHeader } from "../components/ui";
import { GoalForm } from "../components/GoalForm";
import { useTitle } from "../lib/useTitle";

export default function GoalNewPage() {
  useTitle("New goal");
  const navigate = useNavigate();
  return (
    <>
      <PageHeader title="New goal" subtitle="We'll open an account for it and invest it for its time horizon." />
      <Card>
        <GoalForm onSaved={(goal) => navigate(`/goals/${goal.id}`)} onCancel={() => navigate("/goals")} />
      </Card>
    </>
  );
}
