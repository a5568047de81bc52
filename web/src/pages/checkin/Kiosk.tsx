import { useEffect, useState } from "react";
import { useParams } from "react-router";
import { api } from "../../api";
import { ErrorNotice } from "../../components/ErrorNotice";
import { QrCode } from "../../components/QrCode";
import { useTitle } from "../../components/useTitle";
import { checkinApi, refreshDelay, type DoorCode } from "../../lib/checkinApi";
import { useUser } from "../../session";
import { NotFound } from "../NotFound";
import "./checkin.css";

/** The reception screen (SPEC §11): the office's door code as a large QR code, refreshed before it expires. */
export function Kiosk() {
  const { office = "" } = useParams();
  const user = useUser();
  const [door, setDoor] = useState<DoorCode | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [size, setSize] = useState(() => qrSize());
  const [officeName, setOfficeName] = useState<string | null>(null);
  const allowed =
    !!user && (user.permissions.can_manage_all_bookings || user.permissions.offices_can_manage.includes(office));
  useTitle("Check in");

  useEffect(() => {
    const onResize = () => setSize(qrSize());
    window.addEventListener("resize", onResize);
    return () => window.removeEventListener("resize", onResize);
  }, []);

  useEffect(() => {
    if (!allowed) return;
    let live = true;
    api.office(office).then(
      (o) => live && setOfficeName(o.name),
      () => undefined, // the door code's own request reports what is wrong
    );
    return () => {
      live = false;
    };
  }, [office, allowed]);

  useEffect(() => {
    if (!allowed) return;
    let live = true;
    let timer: number | undefined;
    const load = () => {
      checkinApi.doorCode(office).then(
        (d) => {
          if (!live) return;
          setDoor(d);
          setError(null);
          timer = window.setTimeout(load, refreshDelay(d.expires_at));
        },
        (e) => {
          if (!live) return;
          setError(e);
          timer = window.setTimeout(load, 5_000); // try again soon: the screen must not go stale
        },
      );
    };
    load();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [office, allowed]);

  if (!allowed) return <NotFound />;
  return (
    <section className="kiosk" aria-labelledby="kiosk-title">
      <h1 id="kiosk-title">Check in here</h1>
      {officeName && <p className="kiosk-office">{officeName}</p>}
      <p className="kiosk-help">Scan the code with your phone's camera to check in to your booking today.</p>
      <ErrorNotice error={error} title="Could not get a new door code" />
      {door && (
        <div className="kiosk-code" data-testid="kiosk-code" data-expires-at={door.expires_at}>
          <QrCode value={door.url} label="Door code: scan with your phone to check in" size={size} />
        </div>
      )}
    </section>
  );
}

function qrSize(): number {
  if (typeof window === "undefined") return 480;
  return Math.max(200, Math.min(window.innerWidth - 48, window.innerHeight - 220, 900));
}
