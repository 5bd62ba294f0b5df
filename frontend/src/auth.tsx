import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";

import { ApiError, onUnauthorized } from "./api/client";
import { auth, risk } from "./api/endpoints";
import type { LoginResult, MfaChallenge, User } from "./api/types";

type Status = "loading" | "anonymous" | "authenticated";

interface AuthValue {
  status: Status;
  user: User | null;
  /** Clients only: has the risk questionnaire been completed? null while unknown. */
  onboarded: boolean | null;
  /** Set when a request found the session gone, so the login page can say why. */
  sessionExpired: boolean;
  /** Set by a deliberate log-out: the login page then carries no `next` of the last user's. */
  loggedOut: boolean;
  startupError: ApiError | null;
  /** The user, or a challenge when MFA is on: finish with `completeMfa`. */
  login: (email: string, password: string) => Promise<User | MfaChallenge>;
  completeMfa: (mfaToken: string, code: string) => Promise<User>;
  /** Signs a brand-new account in; null when it could not (check your inbox, then log in). */
  register: (body: {
    email: string;
    password: string;
    first_name: string;
    last_name: string;
  }) => Promise<User | null>;
  /** Re-read the user after a change (email verified, MFA on or off). */
  refreshUser: () => Promise<void>;
  logout: () => Promise<void>;
  markOnboarded: () => void;
  retryStartup: () => void;
}

const AuthContext = createContext<AuthValue | null>(null);

export function isMfaChallenge(result: LoginResult): result is MfaChallenge {
  return "mfa_required" in result && result.mfa_required === true;
}

async function questionnaireDone(user: User): Promise<boolean | null> {
  if (user.role !== "client") return null;
  try {
    await risk.profile();
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return false;
    throw error;
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>("loading");
  const [user, setUser] = useState<User | null>(null);
  const [onboarded, setOnboarded] = useState<boolean | null>(null);
  const [sessionExpired, setSessionExpired] = useState(false);
  const [loggedOut, setLoggedOut] = useState(false);
  const [startupError, setStartupError] = useState<ApiError | null>(null);
  const [attempt, setAttempt] = useState(0);

  const signIn = useCallback(async (next: User) => {
    const done = await questionnaireDone(next);
    setUser(next);
    setOnboarded(done);
    setSessionExpired(false);
    setLoggedOut(false);
    setStatus("authenticated");
    return next;
  }, []);

  useEffect(() => {
    let cancelled = false;
    setStartupError(null);
    auth
      .me()
      .then(async (me) => {
        if (!cancelled) await signIn(me);
      })
      .catch((error: unknown) => {
        if (cancelled) return;
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          setStatus("anonymous");
        } else {
          setStartupError(
            error instanceof ApiError ? error : new ApiError(0, "Meridian could not start.", "error"),
          );
        }
      });
    return () => {
      cancelled = true;
    };
  }, [signIn, attempt]);

  useEffect(() => {
    // 401/403 on a call made while logged in: the session ended (idle timeout, logout
    // elsewhere). Back to the login page, which says why.
    onUnauthorized(() => {
      setUser(null);
      setOnboarded(null);
      setSessionExpired(true);
      setStatus("anonymous");
    });
    return () => onUnauthorized(null);
  }, []);

  const login = useCallback(
    async (email: string, password: string) => {
      const result = await auth.login(email, password);
      return isMfaChallenge(result) ? result : signIn(result);
    },
    [signIn],
  );

  const completeMfa = useCallback(
    async (mfaToken: string, code: string) => signIn(await auth.mfaVerify(mfaToken, code)),
    [signIn],
  );

  const register = useCallback<AuthValue["register"]>(
    async (body) => {
      await auth.register(body);
      // The answer is the same for a taken address; only a new account's login succeeds.
      let result: LoginResult;
      try {
        result = await auth.login(body.email, body.password);
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
      return isMfaChallenge(result) ? null : signIn(result);
    },
    [signIn],
  );

  const refreshUser = useCallback(async () => {
    setUser(await auth.me());
  }, []);

  const logout = useCallback(async () => {
    try {
      await auth.logout();
    } finally {
      setUser(null);
      setOnboarded(null);
      setSessionExpired(false);
      setLoggedOut(true);
      setStatus("anonymous");
    }
  }, []);

  const value = useMemo<AuthValue>(
    () => ({
      status,
      user,
      onboarded,
      sessionExpired,
      loggedOut,
      startupError,
      login,
      completeMfa,
      register,
      refreshUser,
      logout,
      markOnboarded: () => setOnboarded(true),
      retryStartup: () => setAttempt((n) => n + 1),
    }),
    [
      status,
      user,
      onboarded,
      sessionExpired,
      loggedOut,
      startupError,
      login,
      completeMfa,
      register,
      refreshUser,
      logout,
    ],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}
