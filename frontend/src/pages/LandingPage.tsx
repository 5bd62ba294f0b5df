import { Link } from "react-router";

import { Logo } from "../components/Logo";
import { useTitle } from "../lib/useTitle";

/** What a logged-out visitor to / sees: what Meridian is, what it costs, and the way in. */
export function LandingPage() {
  useTitle("Investing towards your goals");
  return (
    <div className="auth-page landing">
      <header className="auth-brand">
        <Link to="/" className="brand">
          <Logo size={32} />
          <span>Meridian</span>
        </Link>
      </header>
      <main id="main" className="auth-main">
        <div className="auth-card">
          <h1 tabIndex={-1}>Invest towards what matters to you</h1>
          <p>
            Meridian is a digital investment advisor. Tell us about yourself and your goals, answer a
            short risk questionnaire, and we build and look after a diversified portfolio of funds
            for each goal, rebalanced for you, with a human advisor behind it.
          </p>
          <div className="form-actions">
            <Link to="/signup" className="btn btn-primary">
              Sign up
            </Link>
            <Link to="/login" className="btn btn-secondary">
              Log in
            </Link>
          </div>
          <section aria-labelledby="disclosures" className="small">
            <h2 id="disclosures">Important information</h2>
            <ul>
              <li>Advisory fee: 0.25% a year of the money we manage for you.</li>
              <li>This is a demo: all trades are paper trades, and no real money is invested.</li>
              <li>
                Projections are hypothetical and for illustration only; they are not guarantees of
                future results. Investing involves risk, including the loss of money you invest.
              </li>
            </ul>
          </section>
        </div>
      </main>
    </div>
  );
}
