import { Link } from "react-router";
import { useTitle } from "../components/useTitle";

export function NotFound() {
  useTitle("Page not found");
  return (
    <section className="narrow" aria-labelledby="not-found-title">
      <h1 id="not-found-title">Page not found</h1>
      <p>There is no page at this address. It may have moved, or the link may be wrong.</p>
      <p>
        <Link to="/">Go to the home page</Link> or read the <Link to="/help">help</Link>.
      </p>
    </section>
  );
}
