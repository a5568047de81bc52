import { useEffect, useState } from "react";
import { api } from "../../api";
import { useUser } from "../../session";
import type { Office } from "../../types";

/** The offices this admin manages (all for System Admins), with retired ones when asked. */
export function useManagedOffices(includeRetired = false): { offices: Office[] | null; error: unknown } {
  const user = useUser();
  const [offices, setOffices] = useState<Office[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api.offices(includeRetired).then(
      (all) =>
        setOffices(
          user.permissions.can_manage_all_bookings
            ? all
            : all.filter((o) => user.permissions.offices_can_manage.includes(o.id)),
        ),
      setError,
    );
  }, [includeRetired, user]);
  return { offices, error };
}
