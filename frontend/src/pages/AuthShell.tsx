import type { ReactNode } from "react";
import { Link } from "react-router";

import { Logo } from "../components/Logo";

/** The frame of the logged-out pages: brand, one card, a footer. */
export function AuthShell({ title, children, footer }: { title: string; children: ReactNode; footer?: ReactNode }) {
  return (
    <div className="auth-page">
      <header className="auth-brand">
        <Link to="/login" className="brand">
          <Logo size={32} />
          <span>Meridian</span>
        </Link>
      </header>
      <main id="main" className="auth-main">
        <div className="auth-card">
          <h1 tabIndex={-1}>{title}</h1>
          {children}
        </div>
        {footer ? <div className="auth-footer">{footer}</div> : null}
      </main>
    </div>
  );
}
