import { Link } from "react-router";
import { useTitle } from "../components/useTitle";
import { useSession } from "../session";

export function Help() {
  useTitle("Help");
  const { config } = useSession();
  const days = config?.advance_booking_days ?? 14;
  return (
    <article className="prose">
      <h1>Help</h1>
      <h2>Signing in</h2>
      <p>
        Enter your work email address and we email you a 6-digit code. Type it in to sign in. Codes expire
        after a few minutes and work once; ask for a new one if yours has expired.
      </p>
      <h2>Booking a place</h2>
      <p>
        Pick your office once (you can change it at any time), then choose a day in the next {days} days and
        press <strong>Book</strong>, or <strong>Book + parking</strong> if you also need a car park space.
        Each day shows how many places and parking spaces are left: green means plenty of room, amber filling
        up, red nearly full.
      </p>
      <p>
        You may book a limited number of days each week (Monday to Sunday, across all offices). The home page
        tells you how many bookings you have left in the week shown.
      </p>
      <h2>Cancelling</h2>
      <p>
        You can cancel a booking until the start of its day (in the office's time zone), so that someone else
        can take the place. A booking for today cannot be cancelled by you; ask an office admin.
      </p>
      <h2>Your pass</h2>
      <p>
        Each booking has a pass with a QR code. Show it at the door on your phone or print it. Security staff
        check your name and scan the code.
      </p>
      <h2>Something went wrong?</h2>
      <p>
        Every error message shows a <em>reference</em>. Send it to your IT support team: it lets them find
        exactly what happened.
      </p>
      <p>
        See also the <Link to="/privacy">privacy notice</Link>.
      </p>
    </article>
  );
}
