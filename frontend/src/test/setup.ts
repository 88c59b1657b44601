import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

// Numbers and dates follow the browser's language; the tests read British English.
Object.defineProperty(window.navigator, 'languages', { value: ['en-GB'], configurable: true });
Object.defineProperty(window.navigator, 'language', { value: 'en-GB', configurable: true });

afterEach(() => {
  cleanup();
  localStorage.clear();
});
