// Retrying a request that met an outage (SPEC §10: 503 when a dependency is down). A booking is
// retried with the SAME Idempotency-Key, so a first attempt that did reach the server (its answer
// was lost) is answered with the booking it made, never a second booking or a false 409.
import { ApiError } from "../api";

/** Whether the same request may succeed a moment later: the server could not be reached, or a
 * dependency was down (503), but not read-only mode (also 503, which waiting does not end). */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  const code = (error as { code?: string }).code;
  if (code && code !== "unknown") return code === "service_unavailable" || code === "network_error";
  return error.status === 0 || (error.status === 503 && !/read-only/i.test(error.message));
}

export const RETRY_DELAYS_MS = [1000, 3000];

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `call()`, and again after each delay while it fails transiently; the last error is thrown. */
export async function retryTransient<T>(call: () => Promise<T>, delays: number[] = RETRY_DELAYS_MS,
                                        sleep: (ms: number) => Promise<void> = wait): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= delays.length || !isTransient(error)) throw error;
      await sleep(delays[attempt]);
    }
  }
}
