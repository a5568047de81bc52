import { Component, type ErrorInfo, type ReactNode } from "react";

interface State {
  error: Error | null;
}

/** Catches a screen that fails to render and offers a way out instead of a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error("Office Booker screen failed", error, info.componentStack);
  }

  componentDidUpdate(previous: { resetKey?: string }): void {
    if (this.state.error && previous.resetKey !== this.props.resetKey) this.setState({ error: null });
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <section className="error-page" aria-labelledby="error-boundary-title">
        <h1 id="error-boundary-title">Something went wrong</h1>
        <p>This screen could not be shown. Your bookings are safe.</p>
        <p className="error-detail">
          <code>{this.state.error.message}</code>
        </p>
        <p>
          <button type="button" className="button-primary" onClick={() => window.location.reload()}>
            Reload the page
          </button>{" "}
          <a href="/">Go to the home page</a>
        </p>
      </section>
    );
  }
}
