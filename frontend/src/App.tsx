import { lazy, Suspense } from "react";
import type { ReactNode } from "react";
import { Navigate, Outlet, Route, Routes, useLocation } from "react-router";

import { useAuth } from "./auth";
import { AppLayout } from "./components/AppLayout";
import { ErrorAlert, Loading } from "./components/ui";
import { LandingPage } from "./pages/LandingPage";
import { LoginPage } from "./pages/LoginPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { OnboardingPage } from "./pages/OnboardingPage";
import { ForgotPasswordPage, ResetPasswordPage, VerifyEmailPage } from "./pages/PasswordResetPages";
import { SignupPage } from "./pages/SignupPage";
import { StaffNoticePage } from "./pages/StaffNoticePage";

// Pages with charts load on demand: the login page never downloads Recharts.
const DashboardPage = lazy(() => import("./pages/DashboardPage"));
const GoalsPage = lazy(() => import("./pages/GoalsPage"));
const GoalDetailPage = lazy(() => import("./pages/GoalDetailPage"));
const GoalNewPage = lazy(() => import("./pages/GoalNewPage"));
const MoneyPage = lazy(() => import("./pages/MoneyPage"));
const TaxPage = lazy(() => import("./pages/TaxPage"));
const SettingsPage = lazy(() => import("./pages/SettingsPage"));
const RetakeQuestionnairePage = lazy(() => import("./pages/RetakeQuestionnairePage"));

function Splash({ children }: { children: ReactNode }) {
  return (
    <main id="main" className="splash">
      {children}
    </main>
  );
}

function RequireAuth() {
  const { status, user, loggedOut, startupError, retryStartup } = useAuth();
  const location = useLocation();
  if (startupError) {
    return (
      <Splash>
        <ErrorAlert error={startupError} onRetry={retryStartup} />
      </Splash>
    );
  }
  if (status === "loading") {
    return (
      <Splash>
        <Loading label="Opening Meridian…" />
      </Splash>
    );
  }
  if (status === "anonymous" || !user) {
    // A first visit to / shows what Meridian is; after a log-out the next person starts clean.
    if (location.pathname === "/") return <LandingPage />;
    if (loggedOut) return <Navigate to="/login" replace />;
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  if (user.role !== "client") return <StaffNoticePage />;
  return <AppLayout />;
}

/** A client who has not finished the risk questionnaire starts with onboarding. */
function RequireOnboarded() {
  const { onboarded } = useAuth();
  if (onboarded === false) return <Navigate to="/onboarding" replace />;
  return (
    <Suspense fallback={<Loading />}>
      <Outlet />
    </Suspense>
  );
}

function PublicOnly({ children }: { children: ReactNode }) {
  const { status, onboarded } = useAuth();
  const location = useLocation();
  if (status === "loading") {
    return (
      <Splash>
        <Loading label="Opening Meridian…" />
      </Splash>
    );
  }
  if (status === "authenticated") {
    const next = new URLSearchParams(location.search).get("next");
    const safeNext = next && next.startsWith("/") && !next.startsWith("//") ? next : "/dashboard";
    return <Navigate to={onboarded === false ? "/onboarding" : safeNext} replace />;
  }
  return <>{children}</>;
}

export function App() {
  return (
    <Routes>
      <Route
        path="/login"
        element={
          <PublicOnly>
            <LoginPage />
          </PublicOnly>
        }
      />
      <Route
        path="/signup"
        element={
          <PublicOnly>
            <SignupPage />
          </PublicOnly>
        }
      />
      <Route
        path="/forgot-password"
        element={
          <PublicOnly>
            <ForgotPasswordPage />
          </PublicOnly>
        }
      />
      {/* Reached from emails: they work whether or not this browser is logged in. */}
      <Route path="/reset-password" element={<ResetPasswordPage />} />
      <Route path="/verify-email" element={<VerifyEmailPage />} />
      <Route element={<RequireAuth />}>
        <Route path="/onboarding" element={<OnboardingPage />} />
        <Route element={<RequireOnboarded />}>
          <Route index element={<Navigate to="/dashboard" replace />} />
          <Route path="/dashboard" element={<DashboardPage />} />
          <Route path="/goals" element={<GoalsPage />} />
          <Route path="/goals/new" element={<GoalNewPage />} />
          <Route path="/goals/:goalId" element={<GoalDetailPage />} />
          <Route path="/money" element={<MoneyPage />} />
          <Route path="/tax" element={<TaxPage />} />
          <Route path="/settings" element={<SettingsPage />} />
          <Route path="/settings/questionnaire" element={<RetakeQuestionnairePage />} />
        </Route>
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
