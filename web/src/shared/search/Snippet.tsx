/** A search snippet: pieces of plain text, the matched ones in <mark>. Built as React
 * elements from the API's pieces, never as HTML, so nothing a ticket says can run in the page. */
export function Snippet({ parts }: { parts: readonly { text: string; highlighted: boolean }[] }) {
  return (
    <p className="search-snippet" data-testid="search-snippet">
      {parts.map((part, i) =>
        part.highlighted ? (
          <mark key={i} data-testid="search-mark">
            {part.text}
          </mark>
        ) : (
          <span key={i}>{part.text}</span>
        ),
      )}
    </p>
  );
}
