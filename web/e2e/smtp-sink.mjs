// A real SMTP server for the browser tests: accepts every message the app sends (plain SMTP,
// as `KABINET_SMTP_URL=smtp://127.0.0.1:<port>`) and serves what arrived as JSON over HTTP, so
// a spec can follow a link from a letter as a person would.
//
//   node e2e/smtp-sink.mjs <smtp port> <http port>
//   GET http://127.0.0.1:<http port>/messages?to=<address>  → [{ to, from, data }] (oldest first)
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";

const [smtpPort, httpPort] = process.argv.slice(2).map(Number);
if (!smtpPort || !httpPort) {
  console.error("usage: node e2e/smtp-sink.mjs <smtp port> <http port>");
  process.exit(2);
}
const messages = [];

createServer((socket) => {
  socket.setEncoding("utf8");
  let buffer = "";
  let envelope = { from: "", to: [] };
  let inData = false;
  let data = "";
  const reply = (line) => socket.write(`${line}\r\n`);
  reply("220 kabinet-e2e ESMTP sink");
  socket.on("data", (chunk) => {
    buffer += chunk;
    for (;;) {
      if (inData) {
        const end = buffer.indexOf("\r\n.\r\n");
        if (end === -1) return;
        data += buffer.slice(0, end);
        buffer = buffer.slice(end + 5);
        // Undo dot-stuffing (RFC 5321 §4.5.2).
        messages.push({ ...envelope, data: data.replace(/\r\n\.\./g, "\r\n.") });
        inData = false;
        data = "";
        envelope = { from: "", to: [] };
        reply("250 queued");
        continue;
      }
      const newline = buffer.indexOf("\r\n");
      if (newline === -1) return;
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 2);
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === "EHLO") {
        reply("250-kabinet-e2e");
        reply("250-8BITMIME");
        reply("250 SMTPUTF8");
      } else if (verb === "HELO") reply("250 kabinet-e2e");
      else if (verb === "MAIL") {
        envelope.from = /<([^>]*)>/.exec(line)?.[1] ?? "";
        reply("250 ok");
      } else if (verb === "RCPT") {
        envelope.to.push((/<([^>]*)>/.exec(line)?.[1] ?? "").toLowerCase());
        reply("250 ok");
      } else if (verb === "DATA") {
        inData = true;
        reply("354 end with <CRLF>.<CRLF>");
      } else if (verb === "RSET") {
        envelope = { from: "", to: [] };
        reply("250 ok");
      } else if (verb === "QUIT") {
        reply("221 bye");
        socket.end();
      } else reply("250 ok");
    }
  });
  socket.on("error", () => {});
}).listen(smtpPort, "127.0.0.1");

createHttpServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://sink");
  const to = url.searchParams.get("to")?.toLowerCase();
  const found = to ? messages.filter((m) => m.to.includes(to)) : messages;
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(found));
}).listen(httpPort, "127.0.0.1");

console.log(`smtp sink: SMTP 127.0.0.1:${smtpPort}, messages at http://127.0.0.1:${httpPort}/messages`);
