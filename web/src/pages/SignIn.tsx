import { useEffect, useRef, useState, type FormEvent } from "react";
import { Navigate, useLocation } from "react-router";
import { api } from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";
import { useTitle } from "../components/useTitle";
import { isAllowedEmail, looksLikeEmail, normalizeEmail } from "../lib/email";
import { oidcStartUrl, ssoErrorMessage } from "../lib/sso";
import { useSession } from "../session";

type Step = "email" | "code";

/** `/signin` (where a failed sign-in with the identity provider lands, `?error=<reason>`): the
 * sign-in screen, or home once signed in. */
export function SignInRoute() {
  const { user, loading } = useSession();
  if (loading) return <Loading />;
  if (user) return <Navigate to="/" replace />;
  return <SignIn />;
}

/** What the identity provider's failed sign-in left in the URL (`/signin?error=…&ref=…`). */
function useSsoError(): { reason: string; reference: string | null } | null {
  const location = useLocation();
  if (location.pathname !== "/signin") return null;
  const params = new URLSearchParams(location.search);
  const reason = params.get("error");
  return reason ? { reason, reference: params.get("ref") } : null;
}

export function SignIn() {
  useTitle("Sign in");
  const { config, signedIn, expired } = useSession();
  const location = useLocation();
  const ssoError = useSsoError();
  const methods = config?.login_methods ?? ["otac"];
  const oidc = methods.includes("oidc");
  const otac = methods.includes("otac");
  const providerName = config?.oidc_provider_name || "your company account";
  // Back where the person was going: this screen is shown in place of the page they asked for.
  const next = location.pathname === "/signin" ? "/" : `${location.pathname}${location.search}`;
  const [step, setStep] = useState<Step>("email");
  const [email, setEmail] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [resent, setResent] = useState(false);
  const codeRef = useRef<HTMLInputElement>(null);
  const emailRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (step === "code") codeRef.current?.focus();
  }, [step]);

  async function sendCode(address: string) {
    setBusy(true);
    setError(null);
    try {
      await api.requestCode(address);
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function submitEmail(event: FormEvent) {
    event.preventDefault();
    const address = normalizeEmail(email);
    if (!looksLikeEmail(address)) {
      setError(new Error("Enter a valid email address, like name@example.com."));
      emailRef.current?.focus();
      return;
    }
    if (config && !isAllowedEmail(address, config.email_regex)) {
      setError(new Error("This email address is not permitted to sign in. Use your work email address."));
      emailRef.current?.focus();
      return;
    }
    setEmail(address);
    if (await sendCode(address)) {
      setResent(false);
      setCode("");
      setStep("code");
    }
  }

  async function submitCode(event: FormEvent) {
    event.preventDefault();
    const value = code.replace(/\s+/g, "");
    if (!/^\d{6}$/.test(value)) {
      setError(new Error("The code has 6 digits."));
      codeRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const result = await api.verifyCode(email, value);
      signedIn(result.user);
    } catch (e) {
      setError(e);
      codeRef.current?.select();
    } finally {
      setBusy(false);
    }
  }

  async function resend() {
    if (await sendCode(email)) {
      setResent(true);
      setCode("");
      codeRef.current?.focus();
    }
  }

  return (
    <section className="narrow sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      {expired && <p className="notice notice-info">Your session has ended. Please sign in again.</p>}
      {ssoError && (
        <div className="notice notice-error" role="alert">
          <span className="error-message">{ssoErrorMessage(ssoError.reason, providerName)}</span>
          {ssoError.reference && (
            <span className="error-reference">
              {" "}
              (reference <code>{ssoError.reference}</code>)
            </span>
          )}
        </div>
      )}
      {oidc && step === "email" && (
        <div className="sso">
          <p>Book a place in the office before you travel.</p>
          <a className="button button-primary sso-button" href={oidcStartUrl(next)}>
            Sign in with {providerName}
          </a>
          {otac && <p className="sso-or">or</p>}
        </div>
      )}
      {!otac ? null : step === "email" ? (
        <form onSubmit={submitEmail} noValidate>
          <p>
            {oidc
              ? "We can also email you a sign-in code."
              : "Book a place in the office before you travel. We will email you a sign-in code."}
          </p>
          <label htmlFor="email">Work email address</label>
          <input
            ref={emailRef}
            id="email"
            name="email"
            type="email"
            autoComplete="email"
            inputMode="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            aria-describedby={error ? "sign-in-error" : undefined}
          />
          <div id="sign-in-error">
            <ErrorNotice error={error} />
          </div>
          <button type="submit" className="button-primary" disabled={busy}>
            {busy ? "Sending…" : "Send me a code"}
          </button>
        </form>
      ) : (
        <form onSubmit={submitCode} noValidate>
          <p className="notice notice-info" role="status">
            Code sent. We emailed a 6-digit code to <strong>{email}</strong>
            {resent ? " again" : ""}.
          </p>
          <p className="hint">
            {config?.local_development ? (
              <>
                Local development: the code is printed in the server log
                {config.dev_mailbox_url ? (
                  <>
                    {" "}
                    and listed in the <a href={config.dev_mailbox_url}>development mailbox</a>
                  </>
                ) : (
                  " and in the development mailbox"
                )}
                .
              </>
            ) : (
              <>Check your email inbox for a message from Office Booker (and your spam folder if it has not arrived after a minute). The code expires after a few minutes.</>
            )}
          </p>
          <label htmlFor="code">6-digit code</label>
          <input
            ref={codeRef}
            id="code"
            name="code"
            type="text"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]{6}"
            maxLength={7}
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
            aria-describedby={error ? "code-error" : undefined}
          />
          <div id="code-error">
            <ErrorNotice error={error} />
          </div>
          <button type="submit" className="button-primary" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
          <div className="row-actions">
            <button type="button" className="button-link" onClick={() => void resend()} disabled={busy}>
              Send a new code
            </button>
            <button
              type="button"
              className="button-link"
              onClick={() => {
                setStep("email");
                setError(null);
              }}
            >
              Use a different email address
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
