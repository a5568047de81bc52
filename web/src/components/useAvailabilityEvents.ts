import { useEffect, useRef } from "react";
import type { AvailabilityEvent, WaitlistEvent } from "../types";

/**
 * Live availability (SPEC §9 GET /api/events): calls `onEvent` for every `availability` event,
 * and `onWaitlist` for every `waitlist` event (the signed-in user's own queue places, SPEC §12).
 * EventSource reconnects by itself and resumes with Last-Event-ID; `onReconnect` lets the screen
 * re-read what it shows after a gap.
 */
const RETRY_MS = 10_000;

export function useAvailabilityEvents(
  onEvent: ((event: AvailabilityEvent) => void) | null,
  onReconnect?: () => void,
  onWaitlist?: (event: WaitlistEvent) => void,
): void {
  const eventRef = useRef(onEvent);
  const reconnectRef = useRef(onReconnect);
  const waitlistRef = useRef(onWaitlist);
  eventRef.current = onEvent;
  reconnectRef.current = onReconnect;
  waitlistRef.current = onWaitlist;

  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let interrupted = false;
    const connect = () => {
      source = new EventSource("/api/events", { withCredentials: true });
      source.addEventListener("availability", (message) => {
        try {
          eventRef.current?.(JSON.parse((message as MessageEvent<string>).data) as AvailabilityEvent);
        } catch {
          /* ignore a malformed event */
        }
      });
      source.addEventListener("waitlist", (message) => {
        try {
          waitlistRef.current?.(JSON.parse((message as MessageEvent<string>).data) as WaitlistEvent);
        } catch {
          /* ignore a malformed event */
        }
      });
      source.onopen = () => {
        if (interrupted) reconnectRef.current?.();
        interrupted = false;
      };
      source.onerror = () => {
        interrupted = true;
        // A refused stream (429: this session holds too many, or 503) is not retried by the
        // browser itself: try again later, so live updates resume once a slot is free.
        if (source?.readyState === EventSource.CLOSED) {
          source.close();
          retry = setTimeout(connect, RETRY_MS);
        }
      };
    };
    connect();
    return () => {
      clearTimeout(retry);
      source?.close();
    };
  }, []);
}
