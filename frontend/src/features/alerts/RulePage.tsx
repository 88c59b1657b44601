import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiError, type AlertRule, type AlertRuleInput } from '../../api';
import { Button } from '../../components/Button';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { errorMessage } from '../../components/errorMessage';
import { Skeleton } from '../../components/Skeleton';
import { Alert, EmptyState, ErrorState } from '../../components/States';
import { formatDateTime, useTimeZone } from '../timezone/timeZone';
import type { AlertRulesNotice } from './AlertRulesPage';
import { RuleStatusBadge, ScheduleBadge } from './badges';
import { DeliveriesSection } from './DeliveriesSection';
import { alertKeys, useAlertRule } from './queries';
import { draftOf, ruleInputOf } from './ruleDraft';
import { RuleForm } from './RuleForm';
import { SecretDialog } from './SecretDialog';

/** The rule id in the address, or null when it is not one. */
function useRuleId(): number | null {
  const raw = Number(useParams().id);
  return Number.isInteger(raw) && raw > 0 ? raw : null;
}

function Missing() {
  return (
    <main className="page">
      <h1>Alert rule not found</h1>
      <EmptyState title="There is no such alert rule">
        It may have been deleted. <Link to="/admin/alerts">See all alert rules</Link>
      </EmptyState>
    </main>
  );
}

/** One alert rule (`/admin/alerts/:id`): its settings, its deliveries, its secret, and deleting it. */
export function RulePage() {
  const id = useRuleId();
  const rule = useAlertRule(id);
  if (id === null || (rule.error instanceof ApiError && rule.error.status === 404)) return <Missing />;
  if (rule.isError) {
    return (
      <main className="page">
        <h1>Alert rule</h1>
        <ErrorState
          title="The alert rule could not be loaded"
          message={errorMessage(rule.error)}
          onRetry={() => rule.refetch()}
        />
      </main>
    );
  }
  if (rule.isPending) {
    return (
      <main className="page">
        <div className="stack" aria-busy="true" aria-label="Loading the alert rule">
          <Skeleton width="30%" />
          <Skeleton width="60%" />
          <Skeleton width="50%" />
        </div>
      </main>
    );
  }
  return <RuleDetails rule={rule.data} />;
}

type Dialog = 'rotate' | 'delete' | null;

function RuleDetails({ rule }: { rule: AlertRule }) {
  const { zone } = useTimeZone();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [notice, setNotice] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);

  const stored = (saved: AlertRule) => {
    queryClient.setQueryData(alertKeys.rule(saved.id), saved);
    void queryClient.invalidateQueries({ queryKey: alertKeys.rules });
  };
  const saving = useMutation({
    mutationFn: (input: AlertRuleInput) => api.replaceAlertRule(rule.id, input),
    onMutate: () => setNotice(null),
    onSuccess: (saved) => {
      stored(saved);
      if (!saved.paused) setNotice('Saved.');
      else if (saved.schedule) setNotice('Saved. The digest is paused: it sends nothing until resumed.');
      else setNotice('Saved. The rule is paused: it matches no events until resumed.');
    },
  });
  const resuming = useMutation({
    mutationFn: () => api.replaceAlertRule(rule.id, ruleInputOf(rule, { paused: false })),
    onMutate: () => setNotice(null),
    onSuccess: (saved) => {
      stored(saved);
      setNotice(
        saved.schedule
          ? 'The digest is active again: it sends what it still owes, then each summary when it is due.'
          : 'The rule is active again: it sends what it still owes, then each new match.',
      );
    },
  });
  const rotation = useMutation({
    mutationFn: () => api.rotateAlertRuleSecret(rule.id),
    onMutate: () => setNotice(null),
    // The secret must not outlive its dialog in the mutation cache.
    gcTime: 0,
  });
  const removal = useMutation({
    mutationFn: () => api.deleteAlertRule(rule.id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: alertKeys.rules });
      const state: AlertRulesNotice = { notice: `Rule “${rule.name}” was deleted.` };
      navigate('/admin/alerts', { replace: true, state });
    },
  });

  const isWebhook = rule.destination.type === 'webhook';

  return (
    <main className="page">
      <div className="page-title">
        <h1>{rule.name}</h1>
        <ScheduleBadge schedule={rule.schedule} />
        <RuleStatusBadge rule={rule} />
        <Link to="/admin/alerts">All alert rules</Link>
        <span className="toolbar__spacer" />
        {isWebhook && (
          <Button
            onClick={() => {
              rotation.reset();
              setDialog('rotate');
            }}
          >
            Rotate secret…
          </Button>
        )}
        <Button
          onClick={() => {
            removal.reset();
            setDialog('delete');
          }}
        >
          Delete rule…
        </Button>
      </div>
      <div className="stack">
        {rule.disabled_at && (
          <div className="alert alert--error rule-disabled" role="alert" data-testid="rule-disabled">
            <div>
              <strong>Disabled {formatDateTime(rule.disabled_at, zone)}</strong>:{' '}
              {rule.disabled_reason ?? 'its deliveries kept failing.'}
            </div>
            <div>It sends nothing until it is resumed. Resuming sends what it still owes, then each new match.</div>
            <div className="row">
              <Button variant="primary" disabled={resuming.isPending} onClick={() => resuming.mutate()}>
                {resuming.isPending ? 'Resuming…' : 'Resume'}
              </Button>
              {resuming.isError && <span className="field__error">{errorMessage(resuming.error)}</span>}
            </div>
          </div>
        )}
        {notice && <Alert tone="info">{notice}</Alert>}
        <section className="card admin-section" aria-label="Rule settings">
          <h2>Settings</h2>
          <p className="muted" style={{ marginTop: 0 }}>
            Created {formatDateTime(rule.created_at, zone)} · last changed {formatDateTime(rule.updated_at, zone)}. Changes apply
            to events stored from now on.
          </p>
          {/* A rule changed elsewhere (Resume, another tab) starts the form afresh. */}
          <RuleForm
            key={rule.updated_at}
            initial={draftOf(rule)}
            headerNames={rule.destination.type === 'webhook' ? rule.destination.header_names : []}
            submitLabel="Save changes"
            pendingLabel="Saving…"
            pending={saving.isPending}
            error={saving.error}
            onSubmit={(input) => saving.mutate(input)}
            onEdit={() => setNotice(null)}
          />
        </section>
        <DeliveriesSection ruleId={rule.id} schedule={rule.schedule} />
      </div>

      {dialog === 'rotate' && !rotation.data && (
        <ConfirmDialog
          title={`Rotate the signing secret of “${rule.name}”?`}
          confirmLabel="Rotate secret"
          pendingLabel="Rotating…"
          pending={rotation.isPending}
          error={rotation.error}
          onClose={() => setDialog(null)}
          onConfirm={() => rotation.mutate()}
        >
          A new secret signs every delivery from now on, retries of earlier ones included: the receiver must check with the new
          one. The current secret stops working at once.
        </ConfirmDialog>
      )}
      {dialog === 'rotate' && rotation.data && (
        <SecretDialog
          title={`New signing secret for “${rule.name}”`}
          secret={rotation.data.secret}
          onDone={() => {
            setDialog(null);
            rotation.reset();
            setNotice('The signing secret was replaced.');
          }}
        />
      )}
      {dialog === 'delete' && (
        <ConfirmDialog
          title={`Delete “${rule.name}”?`}
          confirmLabel="Delete rule"
          pendingLabel="Deleting…"
          pending={removal.isPending}
          error={removal.error}
          onClose={() => setDialog(null)}
          onConfirm={() => removal.mutate()}
        >
          The rule stops at once, and the deliveries it still owes are dropped. This cannot be undone.
        </ConfirmDialog>
      )}
    </main>
  );
}
