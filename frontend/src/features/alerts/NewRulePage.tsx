import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, type AlertRuleInput, type CreatedAlertRule } from '../../api';
import { alertKeys } from './queries';
import { emptyDraft } from './ruleDraft';
import { RuleForm } from './RuleForm';
import { SecretDialog } from './SecretDialog';

/**
 * A new alert rule (`/admin/alerts/new`, `?filter=` prefilled from the activity page). Once it is
 * saved, its signing secret is shown this one time, then the rule's own page opens.
 */
export function NewRulePage() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [initial] = useState(() => emptyDraft(params.get('filter') ?? ''));
  const creation = useMutation({
    mutationFn: (input: AlertRuleInput) => api.createAlertRule(input),
    onSuccess: ({ rule }) => {
      queryClient.setQueryData(alertKeys.rule(rule.id), rule);
      void queryClient.invalidateQueries({ queryKey: alertKeys.rules });
    },
    // The secret must not outlive its dialog in the mutation cache.
    gcTime: 0,
  });
  const created: CreatedAlertRule | undefined = creation.data;

  return (
    <main className="page">
      <div className="page-title">
        <h1>New alert rule</h1>
        <Link to="/admin/alerts">All alert rules</Link>
      </div>
      <section className="card admin-section" aria-label="New alert rule">
        <RuleForm
          initial={initial}
          submitLabel="Create rule"
          pendingLabel="Creating…"
          pending={creation.isPending || created !== undefined}
          error={creation.error}
          onSubmit={(input) => creation.mutate(input)}
          actions={
            <Link to="/admin/alerts" className="btn btn--secondary">
              Cancel
            </Link>
          }
        />
      </section>
      {created && (
        <SecretDialog
          title={`Rule “${created.rule.name}” created`}
          secret={created.secret}
          onDone={() => navigate(`/admin/alerts/${created.rule.id}`, { replace: true })}
        />
      )}
    </main>
  );
}
