import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Pagination } from './Pagination';

describe('Pagination', () => {
  it('counts one activity as one, and thousands with the reader’s grouping', () => {
    const props = {
      page: 1,
      perPage: 25,
      onPageChange: () => {},
      onPerPageChange: () => {},
      noun: 'activities',
      one: 'activity',
    };
    const { rerender } = render(<Pagination {...props} total={1} />);
    expect(screen.getByText('Showing 1–1 of 1 activity')).toBeInTheDocument();
    rerender(<Pagination {...props} total={5003} />);
    expect(screen.getByText('Showing 1–25 of 5,003 activities')).toBeInTheDocument();
    rerender(<Pagination {...props} total={0} />);
    expect(screen.getByText('No activities')).toBeInTheDocument();
  });
});
