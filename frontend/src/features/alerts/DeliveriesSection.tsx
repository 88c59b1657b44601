import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { api, ApiError, type AlertDelivery, type AlertSchedule } from '../../api';
import { Button } from '../../components/Button';
import { countOf } from '../../components/countOf';
import { errorMessage } from '../../components/errorMessage';
import { SkeletonList } from '../../components/Skeleton';
import { Alert, EmptyState, ErrorState } from '../../components/States';
import { formatDateTime, useTimeZone } from '../timezone/timeZone';
import { DeliveryStatusBadge } from './badges';
import { alertKeys, useDeliveries } from './queries';

/** What the status badge says on hover: when it was delivered, or when it is tried next. */
function statusDetail(delivery: AlertDelivery, zone: string): string | undefined {
  if (delivery.status === 'delivered' && delivery.delivered_at) return `Delivered ${formatDateTime(delivery.delivered_at, zone)}`;
  if (delivery.status === 'pending' && delivery.next_attempt_at)
    return `Next attempt ${formatDateTime(delivery.next_attempt_at, zone)}`;
  return undefined;
}

type Feedback = { tone: 'info' | 'error'; text: string };

/**
 * A rule's deliveries, newest first, with their attempts' outcome and a way to send one again. A
 * digest's delivery carries no events (`event_ids` is empty) but the summary of its period.
 */
export function DeliveriesSection({ ruleId, schedule }: { ruleId: number; schedule?: AlertSchedule | null }) {
  const { zone } = useTimeZone();
  const queryClient = useQueryClient();
  const deliveries = useDeliveries(ruleId);
  const headingId = useId();
  const [feedback, setFeedback] = useState<Feedback | null>(null);
  const redelivery = useMutation({
    mutationFn: (delivery: AlertDelivery) => api.redeliverAlert(delivery.id),
    onMutate: () => setFeedback(null),
    onSuccess: async (_, delivery) => {
      setFeedback({ tone: 'info', text: `Delivery ${delivery.message_id} is being sent again, with the same webhook-id.` });
      await queryClient.invalidateQueries({ queryKey: alertKeys.all });
    },
    onError: (error, delivery) =>
      setFeedback({
        tone: 'error',
        text:
          error instanceof ApiError && error.status === 409
            ? `Delivery ${delivery.message_id} is being sent right now: ${error.userMessage}`
            : `Delivery ${delivery.message_id} could not be sent again: ${errorMessage(error)}`,
      }),
  });

  const items = deliveries.data?.pages.flatMap((page) => page.items) ?? [];

  let body;
  if (deliveries.isPending) {
    body = <SkeletonList rows={3} label="Loading deliveries" />;
  } else if (deliveries.isError && items.length === 0) {
    body = (
      <ErrorState
        title="The deliveries could not be loaded"
        message={errorMessage(deliveries.error)}
        onRetry={() => deliveries.refetch()}
      />
    );
  } else if (items.length === 0) {
    body = (
      <EmptyState title="No deliveries yet">
        {schedule
          ? `The first summary goes out at the next ${schedule === 'daily' ? '' : 'Monday '}07:00 (tenant time), and shows here.`
          : 'Each event stored from now on that matches the filter is delivered, and shows here.'}
      </EmptyState>
    );
  } else {
    body = (
      <>
        <div className="table-scroll">
          <table className="data-table data-table--admin" data-testid="deliveries-table">
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Status</th>
                <th scope="col">Events</th>
                <th scope="col">Attempts</th>
                <th scope="col">Response</th>
                <th scope="col">Latency</th>
                <th scope="col">Error</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((delivery) => {
                const sending = redelivery.isPending && redelivery.variables?.id === delivery.id;
                return (
                  <tr
                    key={delivery.id}
                    data-delivery-id={delivery.id}
                    data-message-id={delivery.message_id}
                    data-status={delivery.status}
                  >
                    <td className="nowrap">{formatDateTime(delivery.created_at, zone)}</td>
                    <td>
                      <DeliveryStatusBadge status={delivery.status} title={statusDetail(delivery, zone)} />
                    </td>
                    {delivery.event_ids.length === 0 ? (
                      <td className="nowrap" title="A digest: the summary of its period">
                        Summary
                      </td>
                    ) : (
                      <td className="nowrap" title={`Event ids: ${delivery.event_ids.join(', ')}`}>
                        {countOf(delivery.event_ids.length, 'event')}
                      </td>
                    )}
                    <td>{delivery.attempts}</td>
                    <td className="mono">{delivery.response_code ?? '—'}</td>
                    <td className="nowrap">{delivery.latency_ms == null ? '—' : `${delivery.latency_ms} ms`}</td>
                    <td className="cell-description">{delivery.error ?? ''}</td>
                    <td>
                      <Button
                        size="small"
                        aria-label={`Redeliver ${delivery.message_id}`}
                        disabled={sending}
                        onClick={() => redelivery.mutate(delivery)}
                      >
                        {sending ? 'Sending…' : 'Redeliver'}
                      </Button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        {deliveries.isError && <Alert>{errorMessage(deliveries.error)}</Alert>}
        {deliveries.hasNextPage && (
          <div className="deliveries__more">
            <Button disabled={deliveries.isFetchingNextPage} onClick={() => deliveries.fetchNextPage()}>
              {deliveries.isFetchingNextPage ? 'Loading…' : 'Load older'}
            </Button>
          </div>
        )}
      </>
    );
  }

  return (
    <section className="card admin-section stack" aria-labelledby={headingId}>
      <div className="row">
        <h2 id={headingId} style={{ margin: 0 }}>
          Deliveries
        </h2>
        <span className="toolbar__spacer" />
        <Button size="small" onClick={() => void deliveries.refetch()}>
          Refresh
        </Button>
      </div>
      {feedback && <Alert tone={feedback.tone}>{feedback.text}</Alert>}
      {body}
    </section>
  );
}
