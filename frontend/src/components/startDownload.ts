/**
 * Hands a URL on this server to the browser's download manager: a link with `download`, clicked.
 * The file streams to disk; the page never holds it. A failed answer shows as a failed download
 * in the browser, and the page stays where it is.
 */
export function startDownload(url: string) {
  const link = document.createElement('a');
  link.href = url;
  link.download = '';
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}
