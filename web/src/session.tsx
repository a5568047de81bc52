// The signed-in state of the app: the public config, the current user, and sign-out.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiError, api, setUnauthorizedHandler } from "./api";
import type { AppConfig, User } from "./types";

interface Session {
  config: AppConfig | null;
  configError: ApiError | null;
  user: User | null;
  /** True until the first /api/me answer. */
  loading: boolean;
  /** Set when the session ended while the app was open. */
  expired: boolean;
  signedIn: (user: User) => void;
  signOut: () => Promise<void>;
  refreshUser: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [config, setConfig] = useState<AppConfig | null>(null);
  const [configError, setConfigError] = useState<ApiError | null>(null);
  const [user, setUser] = useState<User | null>(null);
  const [loading, setLoading] = useState(true);
  const [expired, setExpired] = useState(false);

  useEffect(() => {
    api.config().then(setConfig, (e: ApiError) => setConfigError(e));
    api
      .me()
      .then((me) => setUser(me))
      .catch(() => setUser(null))
      .finally(() => setLoading(false));
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setUser((current) => {
        if (current) setExpired(true);
        return null;
      });
    });
    return () => setUnauthorizedHandler(null);
  }, []);

  const signedIn = useCallback((me: User) => {
    setExpired(false);
    setUser(me);
  }, []);

  const signOut = useCallback(async () => {
    // Only a confirmed sign-out (or a session that had already ended: 401) signs the app out.
    // Anything else leaves the session valid on the server and in the cookie, so the caller
    // shows the failure instead of pretending (a shared computer stays signed in).
    try {
      await api.logout();
    } catch (e) {
      if (!(e instanceof ApiError && e.code === "unauthorized")) throw e;
    }
    setUser(null);
  }, []);

  const refreshUser = useCallback(async () => {
    setUser(await api.me());
  }, []);

  const value = useMemo(
    () => ({ config, configError, user, loading, expired, signedIn, signOut, refreshUser }),
    [config, configError, user, loading, expired, signedIn, signOut, refreshUser],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

/** The signed-in user; only for components rendered behind RequireSignIn. */
export function useUser(): User {
  const { user } = useSession();
  if (!user) throw new Error("useUser without a signed-in user");
  return user;
}
