import { useEffect, useState } from "react";
import { api } from "../api";

/** The time zone of an office by id (undefined until known, or for an office the caller cannot
 * list, e.g. a retired one for a Default user): times of day at an office, such as a check-in, are
 * shown in the office's zone, as its staff saw the clock, not in the viewer's browser zone. */
export function useOfficeZone(): (officeId: string) => string | undefined {
  const [zones, setZones] = useState<Record<string, string>>({});
  useEffect(() => {
    let live = true;
    api.offices(true).then(
      (offices) => live && setZones(Object.fromEntries(offices.map((o) => [o.id, o.timezone ?? ""]).filter(([, z]) => z))),
      () => undefined, // the browser's zone is the fallback
    );
    return () => {
      live = false;
    };
  }, []);
  return (officeId) => zones[officeId];
}
