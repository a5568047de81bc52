import { useState, type ReactNode } from "react";
import { Link, NavLink } from "react-router";
import { useSession } from "../session";
import { ErrorNotice } from "./ErrorNotice";

export function TestBanner() {
  const { config } = useSession();
  if (!config?.show_test_banner) return null;
  return (
    <div className="test-banner" role="note">
      <strong>Test environment:</strong> bookings made here are not real.
    </div>
  );
}

export function canVerify(user: { permissions: { offices_can_manage: string[]; can_manage_all_bookings: boolean } }) {
  return user.permissions.can_manage_all_bookings || user.permissions.offices_can_manage.length > 0;
}

export function Layout({ children }: { children: ReactNode }) {
  const { user, config, signOut } = useSession();
  const [signOutError, setSignOutError] = useState<unknown>(null);
  const trySignOut = () => {
    setSignOutError(null);
    signOut().catch(setSignOutError);
  };
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <TestBanner />
      <header className="site-header">
        <div className="header-inner">
          <Link to="/" className="brand">
            Office Booker
          </Link>
          {!user && (
            <Link to="/" className="header-link">
              Sign in
            </Link>
          )}
          {user && (
            <div className="user-box">
              <span className="user-email" title={user.email}>
                {user.email}
              </span>
              <button type="button" className="button-link" onClick={trySignOut}>
                Sign out
              </button>
            </div>
          )}
        </div>
        {user && signOutError != null && (
          <div className="header-inner">
            <ErrorNotice error={signOutError} title="Not signed out, please try again" />
          </div>
        )}
        {user && (
          <nav aria-label="Main" className="main-nav">
            <ul>
              <li>
                <NavLink to="/" end>
                  Book
                </NavLink>
              </li>
              <li>
                <NavLink to="/bookings">My bookings</NavLink>
              </li>
              <li>
                <NavLink to="/regular-days">Regular days</NavLink>
              </li>
              {canVerify(user) && (
                <li>
                  <NavLink to="/verify">Verify passes</NavLink>
                </li>
              )}
              {user.permissions.can_view_admin && (
                <li>
                  <NavLink to="/admin">Admin</NavLink>
                </li>
              )}
              <li>
                <NavLink to="/help">Help</NavLink>
              </li>
            </ul>
          </nav>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <footer className="site-footer">
        <nav aria-label="Footer">
          <Link to="/help">Help</Link> · <Link to="/privacy">Privacy</Link>
        </nav>
        {config && <span className="version">Version {config.version}</span>}
      </footer>
    </>
  );
}
