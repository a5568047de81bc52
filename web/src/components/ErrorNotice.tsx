import { ApiError } from "../api";
import { isTransient } from "../lib/retry";

/** An error as the user sees it: the message and, when the server gave one, its reference. */
export function describeError(error: unknown): { message: string; reference: string | null } {
  if (error instanceof ApiError) {
    let message = error.message;
    if (error.code === "too_many_requests" && error.retryAfter) {
      const minutes = Math.ceil(error.retryAfter / 60);
      message += `. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
    }
    if (error.status === 503 && isTransient(error)) message += ". Please try again in a moment.";
    return { message, reference: error.reference };
  }
  if (error instanceof Error) return { message: error.message, reference: null };
  return { message: String(error), reference: null };
}

export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const { message, reference } = describeError(error);
  return (
    <div className="notice notice-error" role="alert">
      {title && <strong>{title}: </strong>}
      <span className="error-message">{message}</span>
      {reference && (
        <span className="error-reference">
          {" "}
          (reference <code>{reference}</code>)
        </span>
      )}
    </div>
  );
}

export function SuccessNotice({ children }: { children: React.ReactNode }) {
  if (!children) return null;
  return (
    <div className="notice notice-success" role="status">
      {children}
    </div>
  );
}
