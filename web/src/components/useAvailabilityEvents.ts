import { useEffect, useRef } from "react";
import type { AvailabilityEvent } from "../types";

/**
 * Live availability (SPEC §9 GET /api/events): calls `onEvent` for every `availability` event.
 * EventSource reconnects by itself and resumes with Last-Event-ID; `onReconnect` lets the screen
 * re-read what it shows after a gap.
 */
export function useAvailabilityEvents(onEvent: (event: AvailabilityEvent) => void, onReconnect?: () => void): void {
  const eventRef = useRef(onEvent);
  const reconnectRef = useRef(onReconnect);
  eventRef.current = onEvent;
  reconnectRef.current = onReconnect;

  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    const source = new EventSource("/api/events", { withCredentials: true });
    let interrupted = false;
    source.addEventListener("availability", (message) => {
      try {
        eventRef.current(JSON.parse((message as MessageEvent<string>).data) as AvailabilityEvent);
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
    };
    return () => source.close();
  }, []);
}
