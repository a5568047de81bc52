import { Link } from "react-router";
import { useTitle } from "../components/useTitle";

export function Privacy() {
  useTitle("Privacy");
  return (
    <article className="prose">
      <h1>Privacy</h1>
      <p>Office Booker keeps only what it needs to keep offices within their capacity.</p>
      <h2>What we store</h2>
      <ul>
        <li>Your work email address, your role and your weekly booking limit.</li>
        <li>Your bookings (office, day, parking) and when your pass was checked at the door.</li>
        <li>A history of changes (who changed what and when), for security and support.</li>
      </ul>
      <p>
        If a reason for going to the office is asked for, it is emailed to the office team and not stored by
        Office Booker.
      </p>
      <h2>How long</h2>
      <p>
        Bookings, check-ins, the change history and sign-in sessions are deleted automatically after a retention
        period set by your organisation (30 days unless configured otherwise).
      </p>
      <h2>Your rights</h2>
      <p>
        A system administrator can erase your account: your profile, sessions and bookings are removed and your
        address in the change history is replaced by a pseudonym.
      </p>
      <h2>Cookies</h2>
      <p>
        Office Booker uses two cookies, only to keep you signed in securely (a session cookie and a protection
        against cross-site requests). It remembers your chosen office in your browser. There are no tracking
        or advertising cookies.
      </p>
      <p>
        <Link to="/help">Help</Link>
      </p>
    </article>
  );
}
