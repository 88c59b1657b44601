import { Toaster } from './components/Toast';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState } from 'react';
import { createBrowserRouter, Link, Navigate, RouterProvider } from 'react-router';
import { ApiError } from './api';
import { AppLayout } from './AppLayout';
import { ActivityPage } from './features/activity/ActivityPage';
import { IntegrityPage } from './features/admin/IntegrityPage';
import { RequireAdmin } from './features/admin/RequireAdmin';
import { FieldVisibilityPage } from './features/admin/FieldVisibilityPage';
import { RetentionPage } from './features/admin/RetentionPage';
import { TokensPage } from './features/admin/TokensPage';
import { UsersPage } from './features/admin/UsersPage';
import { AlertRulesPage } from './features/alerts/AlertRulesPage';
import { NewRulePage } from './features/alerts/NewRulePage';
import { RulePage } from './features/alerts/RulePage';
import { AuthProvider } from './features/auth/AuthProvider';
import { LoginPage } from './features/auth/LoginPage';
import { RequireAuth } from './features/auth/RequireAuth';
import { RecordLinksPage } from './features/links/RecordLinksPage';
import { RecordHistoryPage } from './features/history/RecordHistoryPage';
import { ReviewPage } from './features/review/ReviewPage';
import { ReviewSettingsPage } from './features/review/ReviewSettingsPage';

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        // Retry only what may succeed the second time: network failures, 429 and 5xx.
        retry: (failureCount, error) => error instanceof ApiError && error.isRetryable && failureCount < 2,
        refetchOnWindowFocus: false,
      },
    },
  });
}

function NotFound() {
  return (
    <main className="page">
      <h1>Page not found</h1>
      <p>
        <Link to="/">Go to the activity log</Link>
      </p>
    </main>
  );
}

const router = createBrowserRouter([
  { path: '/login', element: <LoginPage /> },
  {
    element: <RequireAuth />,
    children: [
      {
        element: <AppLayout />,
        children: [
          { index: true, element: <ActivityPage /> },
          { path: 'records/:type/:id', element: <RecordHistoryPage /> },
          { path: 'review', element: <ReviewPage /> },
          {
            path: 'admin',
            element: <RequireAdmin />,
            children: [
              { index: true, element: <Navigate to="users" replace /> },
              { path: 'users', element: <UsersPage /> },
              { path: 'tokens', element: <TokensPage /> },
              { path: 'retention', element: <RetentionPage /> },
              { path: 'fields', element: <FieldVisibilityPage /> },
              { path: 'integrity', element: <IntegrityPage /> },
              { path: 'review', element: <ReviewSettingsPage /> },
              { path: 'record-links', element: <RecordLinksPage /> },
              { path: 'alerts', element: <AlertRulesPage /> },
              { path: 'alerts/new', element: <NewRulePage /> },
              { path: 'alerts/:id', element: <RulePage /> },
              { path: '*', element: <NotFound /> },
            ],
          },
          { path: '*', element: <NotFound /> },
        ],
      },
    ],
  },
]);

export function App() {
  const [queryClient] = useState(createQueryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <AuthProvider>
        <RouterProvider router={router} />
        <Toaster />
      </AuthProvider>
    </QueryClientProvider>
  );
}
