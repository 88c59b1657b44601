import { act, render } from '@testing-library/react';
import { createMemoryRouter, RouterProvider, useLocation } from 'react-router';
import { describe, expect, it } from 'vitest';
import { useActivityView } from './useActivityView';

function setup(initialUrl: string) {
  let location!: ReturnType<typeof useLocation>;
  let hook!: ReturnType<typeof useActivityView>;
  function Probe() {
    location = useLocation();
    hook = useActivityView();
    return null;
  }
  const router = createMemoryRouter([{ path: '/', element: <Probe /> }], { initialEntries: [initialUrl] });
  render(<RouterProvider router={router} />);
  return {
    router,
    get location() {
      return location;
    },
    get hook() {
      return hook;
    },
  };
}

describe('useActivityView', () => {
  it('reads the view from the URL', () => {
    const t = setup('/?module=booking&page=2&per_page=10');
    expect(t.hook.view).toMatchObject({ module: 'booking', page: 2, perPage: 10 });
  });

  it('goes back to page 1 when a filter, the sort or the page size changes', () => {
    const t = setup('/?module=booking&page=4');
    act(() => t.hook.update({ verb: 'created' }));
    expect(t.location.search).toBe('?module=booking&verb=created');
    act(() => t.hook.update({ page: 3 }));
    expect(t.location.search).toBe('?module=booking&verb=created&page=3');
    act(() => t.hook.update({ sort: 'ip', order: 'asc' }));
    expect(t.hook.view.page).toBe(1);
    act(() => t.hook.update({ page: 2 }));
    act(() => t.hook.update({ perPage: 50 }));
    expect(t.hook.view).toMatchObject({ page: 1, perPage: 50 });
  });

  it('keeps parameters it does not own, such as the open event', () => {
    const t = setup('/?event=17&q=old');
    act(() => t.hook.update({ q: 'new' }));
    expect(new URLSearchParams(t.location.search).get('event')).toBe('17');
    expect(t.hook.view.q).toBe('new');
  });

  it('resets filters, sort and page but keeps the page size and scope', () => {
    const t = setup('/?range=today&module=auth&sort=ip&order=asc&page=2&per_page=100&scope=mine');
    act(() => t.hook.reset());
    expect(t.location.search).toBe('?scope=mine&per_page=100');
  });

  it('follows the browser history: back restores the previous view', async () => {
    const t = setup('/');
    act(() => t.hook.update({ module: 'invoice' }));
    act(() => t.hook.update({ page: 2 }));
    expect(t.hook.view).toMatchObject({ module: 'invoice', page: 2 });
    await act(() => t.router.navigate(-1));
    expect(t.hook.view).toMatchObject({ module: 'invoice', page: 1 });
    await act(() => t.router.navigate(-1));
    expect(t.hook.view.module).toBeNull();
  });

  it('can replace the history entry for as-you-type updates', async () => {
    const t = setup('/');
    act(() => t.hook.update({ q: 'a' }));
    act(() => t.hook.update({ q: 'ab' }, { replace: true }));
    await act(() => t.router.navigate(-1));
    expect(t.hook.view.q).toBe('');
  });
});
