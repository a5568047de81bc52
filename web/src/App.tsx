import type { ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { ErrorNotice } from "./components/ErrorNotice";
import { Layout } from "./components/Layout";
import { Loading } from "./components/Loading";
import { AdminLayout } from "./pages/admin/AdminLayout";
import { AdminAudit } from "./pages/admin/AdminAudit";
import { AdminBookings } from "./pages/admin/AdminBookings";
import { AdminOffices } from "./pages/admin/AdminOffices";
import { AdminStats } from "./pages/admin/AdminStats";
import { AdminUser } from "./pages/admin/AdminUser";
import { AdminUsers } from "./pages/admin/AdminUsers";
import { Bookings } from "./pages/Bookings";
import { Help } from "./pages/Help";
import { Home } from "./pages/Home";
import { NotFound } from "./pages/NotFound";
import { PassPage } from "./pages/Pass";
import { Privacy } from "./pages/Privacy";
import { RegularDays } from "./pages/RegularDays";
import { SignIn, SignInRoute } from "./pages/SignIn";
import { Verify } from "./pages/Verify";
import { Checkin } from "./pages/checkin/Checkin";
import { Kiosk } from "./pages/checkin/Kiosk";
import { Release } from "./pages/checkin/Release";
import { useSession } from "./session";

/** Screens that need a signed-in user show the sign-in form in place, keeping the deep link. */
function RequireSignIn({ children, admin }: { children: ReactNode; admin?: boolean }) {
  const { user, loading, configError } = useSession();
  if (loading) return <Loading />;
  if (!user) {
    return (
      <>
        {configError && <ErrorNotice error={configError} title="Office Booker is not available" />}
        <SignIn />
      </>
    );
  }
  if (admin && !user.permissions.can_view_admin) return <NotFound />;
  return <>{children}</>;
}

export function App() {
  const location = useLocation();
  return (
    <Layout>
      <ErrorBoundary resetKey={location.pathname}>
        <Routes>
          <Route path="/" element={<RequireSignIn><Home /></RequireSignIn>} />
          <Route path="/bookings" element={<RequireSignIn><Bookings /></RequireSignIn>} />
          <Route path="/regular-days" element={<RequireSignIn><RegularDays /></RequireSignIn>} />
          <Route path="/booking/:id" element={<RequireSignIn><PassPage /></RequireSignIn>} />
          <Route path="/booking/:id/pass" element={<RequireSignIn><PassPage /></RequireSignIn>} />
          <Route path="/verify" element={<RequireSignIn><Verify /></RequireSignIn>} />
          <Route path="/kiosk/:office" element={<RequireSignIn><Kiosk /></RequireSignIn>} />
          <Route path="/checkin" element={<RequireSignIn><Checkin /></RequireSignIn>} />
          <Route path="/release" element={<Release />} />
          <Route path="/signin" element={<SignInRoute />} />
          <Route path="/admin" element={<RequireSignIn admin><AdminLayout /></RequireSignIn>}>
            <Route index element={<Navigate to="/admin/bookings" replace />} />
            <Route path="bookings" element={<AdminBookings />} />
            <Route path="stats" element={<AdminStats />} />
            <Route path="users" element={<AdminUsers />} />
            <Route path="users/:email" element={<AdminUser />} />
            <Route path="offices" element={<AdminOffices />} />
            <Route path="audit" element={<AdminAudit />} />
            <Route path="*" element={<NotFound />} />
          </Route>
          <Route path="/help" element={<Help />} />
          <Route path="/privacy" element={<Privacy />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </ErrorBoundary>
    </Layout>
  );
}
