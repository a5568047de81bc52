// Sign-in with the company's identity provider (SPEC §16): where the button goes, and what each
// refusal the gateway reports (`/signin?error=<reason>`, gateway/oidc.py REASONS) means for the user.

/** The gateway's start of the provider's sign-in, returning to `next` (a path of this site). */
export function oidcStartUrl(next: string): string {
  const path = next.startsWith("/") && !next.startsWith("//") ? next : "/";
  return `/api/auth/oidc/start?next=${encodeURIComponent(path)}`;
}

/** A clear message for each reason the sign-in with the provider was refused. */
export function ssoErrorMessage(reason: string, provider: string): string {
  switch (reason) {
    case "access_denied":
      return `Sign-in with ${provider} was cancelled. Sign in again when you are ready.`;
    case "provider_error":
      return `${provider} could not complete your sign-in. Please try again; if it keeps happening, contact your IT support.`;
    case "provider_unavailable":
      return `${provider} could not be reached. Please try again in a few minutes.`;
    case "state_invalid":
      return "Your sign-in took too long or was started in another window. Please sign in again.";
    case "token_invalid":
      return `Your sign-in with ${provider} could not be verified. Please try again; if it keeps happening, contact your IT support.`;
    case "email_missing":
      return `${provider} did not share your email address with Office Booker. Contact your IT support.`;
    case "email_unverified":
      return `Your email address is not verified at ${provider}. Contact your IT support.`;
    case "email_not_allowed":
      return "The email address of this account is not permitted to sign in to Office Booker. Sign in with your work account.";
    case "account_disabled":
      return "Your account is disabled. If you think this is a mistake, contact your IT support.";
    case "service_unavailable":
      return "Office Booker is temporarily unavailable. Please try again in a few minutes.";
    default:
      return "Sign-in failed. Please try again.";
  }
}
