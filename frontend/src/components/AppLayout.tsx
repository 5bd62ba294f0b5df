import { useEffect, useRef, useState } from "react";
import { NavLink, Outlet, useLocation, useNavigate } from "react-router";

import { useAuth } from "../auth";
import { ChatPanel } from "./ChatPanel";
import { Logo } from "./Logo";
import { NotificationsBell } from "./NotificationsBell";

const NAV = [
  { to: "/dashboard", label: "Dashboard" },
  { to: "/goals", label: "Goals" },
  { to: "/money", label: "Money" },
  { to: "/tax", label: "Taxes" },
  { to: "/settings", label: "Settings" },
];

export function AppLayout() {
  const { user, onboarded, logout } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const [loggingOut, setLoggingOut] = useState(false);
  const firstRender = useRef(true);
  // The header's slot for the chat button on phones, and its height for the chat panel below it.
  const [chatDock, setChatDock] = useState<HTMLElement | null>(null);
  const headerRef = useRef<HTMLElement>(null);

  useEffect(() => {
    const header = headerRef.current;
    if (!header || typeof ResizeObserver === "undefined") return;
    const root = document.documentElement;
    const observer = new ResizeObserver(() => {
      root.style.setProperty("--topbar-height", `${Math.ceil(header.getBoundingClientRect().height)}px`);
    });
    observer.observe(header);
    return () => {
      observer.disconnect();
      root.style.removeProperty("--topbar-height");
    };
  }, []);

  // A new page moves focus to its heading, so screen readers announce it like a page load.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    const timer = window.setTimeout(() => {
      document.querySelector<HTMLElement>("main h1")?.focus({ preventScroll: false });
    }, 0);
    return () => window.clearTimeout(timer);
  }, [location.pathname]);

  async function handleLogout() {
    setLoggingOut(true);
    try {
      await logout();
    } finally {
      setLoggingOut(false);
      navigate("/login", { replace: true });
    }
  }

  const inOnboarding = onboarded === false || location.pathname.startsWith("/onboarding");
  const name = user?.first_name || user?.email;

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar" ref={headerRef}>
        <div className="topbar-inner">
          <NavLink to={inOnboarding ? "/onboarding" : "/dashboard"} className="brand">
            <Logo />
            <span>Meridian</span>
          </NavLink>
          {inOnboarding ? null : (
            <nav aria-label="Main" className="mainnav">
              <ul>
                {NAV.map((item) => (
                  <li key={item.to}>
                    <NavLink to={item.to}>{item.label}</NavLink>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          <div className="topbar-user">
            <span className="chat-dock" ref={setChatDock} />
            {inOnboarding ? null : <NotificationsBell />}
            <span className="topbar-name" title={user?.email}>
              {name}
            </span>
            <button type="button" className="btn btn-ghost btn-small" onClick={handleLogout} disabled={loggingOut}>
              {loggingOut ? "Logging out…" : "Log out"}
            </button>
          </div>
        </div>
      </header>
      <main id="main" className="content" tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="footer">
        <p>
          Investing involves risk, including loss of principal. Projections are hypothetical and not
          guarantees.
        </p>
      </footer>
      <ChatPanel dock={chatDock} />
    </div>
  );
}
