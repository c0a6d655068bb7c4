import type { ReactNode } from "react";
import { newsBlocks, type Inline } from "./markup";
import "./news.css";

function renderInline(parts: readonly Inline[]): ReactNode[] {
  return parts.map((part, i) => {
    switch (part.kind) {
      case "bold":
        return <strong key={i}>{part.text}</strong>;
      case "link":
        return (
          <a key={i} href={part.href} target="_blank" rel="noopener noreferrer">
            {part.text}
          </a>
        );
      case "break":
        return <br key={i} />;
      default:
        return part.text;
    }
  });
}

/**
 * A post's body as plain text with a little markup: blank lines make paragraphs, lines starting
 * with "- " make a list, `**bold**`, and http(s) addresses become links. Built as React
 * elements, never as HTML, so nothing a post says can run in the page.
 */
export function NewsBody({ body }: { body: string }) {
  return (
    <div className="news-body" data-testid="news-body">
      {newsBlocks(body).map((block, i) =>
        block.kind === "list" ? (
          <ul key={i}>
            {block.items.map((item, j) => (
              <li key={j}>{renderInline(item)}</li>
            ))}
          </ul>
        ) : (
          <p key={i}>{renderInline(block.inline)}</p>
        ),
      )}
    </div>
  );
}
