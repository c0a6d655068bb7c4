// The markup a news post may use, parsed into plain data (rendered by NewsBody).

export type Inline =
  | { kind: "text"; text: string }
  | { kind: "bold"; text: string }
  | { kind: "link"; text: string; href: string }
  | { kind: "break" };

export type Block = { kind: "paragraph"; inline: Inline[] } | { kind: "list"; items: Inline[][] };

// `**bold**` on one line, or an http(s) address that does not end in punctuation.
const INLINE = /(\*\*[^*\n]+\*\*|https?:\/\/[^\s<>]*[^\s<>.,;:!?"'»)\]])/g;
const BULLET = /^\s*[-•]\s+/;

function inlineOf(line: string): Inline[] {
  const out: Inline[] = [];
  line.split(INLINE).forEach((part, i) => {
    if (part === "") return;
    if (i % 2 === 0) out.push({ kind: "text", text: part });
    else if (part.startsWith("**")) out.push({ kind: "bold", text: part.slice(2, -2) });
    else out.push({ kind: "link", text: part, href: part });
  });
  return out;
}

/** Paragraphs (blank-line separated, single line breaks kept) and "- " lists. */
export function newsBlocks(body: string): Block[] {
  return body
    .replace(/\r\n?/g, "\n")
    .split(/\n\s*\n/)
    .map((chunk) => chunk.trim())
    .filter((chunk) => chunk !== "")
    .map((chunk): Block => {
      const lines = chunk.split("\n");
      if (lines.every((line) => BULLET.test(line))) {
        return { kind: "list", items: lines.map((line) => inlineOf(line.replace(BULLET, ""))) };
      }
      const inline: Inline[] = [];
      lines.forEach((line, i) => {
        if (i > 0) inline.push({ kind: "break" });
        inline.push(...inlineOf(line));
      });
      return { kind: "paragraph", inline };
    });
}

/** The first paragraph as plain text, cut at `max` characters: a teaser for lists. */
export function newsExcerpt(body: string, max = 180): string {
  const first = newsBlocks(body)[0];
  if (!first) return "";
  const parts = first.kind === "list" ? first.items.flat() : first.inline;
  const text = parts
    .map((p) => (p.kind === "break" ? " " : p.text))
    .join("")
    .replace(/\s+/g, " ")
    .trim();
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}
