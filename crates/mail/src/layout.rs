//! The one look every letter shares: a white card on a grey page, a greeting, paragraphs, an
//! optional quote, one button, small print. Every piece of text is HTML-escaped here, so a
//! caller never builds markup from an ISP's or a subscriber's words.

/// `&`, `<`, `>` and `"` as entities: safe in element content and in double-quoted attributes.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An HTML letter, built top to bottom.
#[derive(Clone, Debug)]
pub struct HtmlLetter {
    body: String,
}

impl HtmlLetter {
    /// Starts with the greeting, in bold.
    pub fn new(greeting: &str) -> Self {
        Self {
            body: format!(
                "<p style=\"font-size:18px;font-weight:600;margin:0 0 16px\">{}</p>",
                escape_html(greeting)
            ),
        }
    }

    pub fn paragraph(mut self, text: &str) -> Self {
        self.body.push_str(&format!(
            "<p style=\"margin:0 0 12px;line-height:1.5\">{}</p>",
            escape_html(text)
        ));
        self
    }

    /// Someone's words, quoted as written (line breaks kept).
    pub fn quote(mut self, text: &str) -> Self {
        self.body.push_str(&format!(
            "<blockquote style=\"margin:0 0 12px;padding:8px 12px;border-left:3px solid #cbd2d9;\
             color:#3e4c59;white-space:pre-wrap\">{}</blockquote>",
            escape_html(text)
        ));
        self
    }

    /// The letter's one action.
    pub fn button(mut self, href: &str, label: &str) -> Self {
        self.body.push_str(&format!(
            "<p style=\"margin:20px 0\"><a href=\"{}\" style=\"background:#1f6feb;color:#fff;\
             text-decoration:none;padding:12px 20px;border-radius:6px;display:inline-block;\
             font-weight:600\">{}</a></p>",
            escape_html(href),
            escape_html(label)
        ));
        self
    }

    /// A link written out, for mail clients that hide buttons.
    pub fn link_text(mut self, href: &str) -> Self {
        self.body.push_str(&format!(
            "<p style=\"margin:0 0 12px;line-height:1.5;font-size:13px;color:#52606d;\
             word-break:break-all\">{}</p>",
            escape_html(href)
        ));
        self
    }

    /// Small print: what the link does, what to do if it wasn't you.
    pub fn note(mut self, text: &str) -> Self {
        self.body.push_str(&format!(
            "<p style=\"margin:0 0 8px;line-height:1.5;font-size:14px\">{}</p>",
            escape_html(text)
        ));
        self
    }

    /// The signature: who the letter is from, and how to reach them (empty lines left out).
    pub fn signature(mut self, lines: &[&str]) -> Self {
        let lines: Vec<String> = lines
            .iter()
            .filter(|l| !l.is_empty())
            .map(|l| escape_html(l))
            .collect();
        self.body.push_str(&format!(
            "<p style=\"margin:16px 0 0;font-size:14px;color:#52606d\">{}</p>",
            lines.join("<br>")
        ));
        self
    }

    pub fn finish(self) -> String {
        format!(
            "<!doctype html><html><body style=\"margin:0;padding:24px;background:#f4f6f8;\
             font-family:-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1f2933\">\
             <div style=\"max-width:520px;margin:0 auto;background:#fff;border-radius:8px;\
             padding:28px\">{}</div></body></html>",
            self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_piece_of_text_is_escaped() {
        let html = HtmlLetter::new("Hi <b>")
            .paragraph("a & b")
            .quote("<script>")
            .button("https://x.example/?a=1&b=\"2\"", "Go >")
            .link_text("https://x.example/<")
            .note("\"n\"")
            .signature(&["ISP <1>", "", "+7"])
            .finish();
        for raw in ["<b>", "<script>", "\"2\"", "Go >", "/<", "<1>"] {
            assert!(!html.contains(raw), "{raw} left unescaped in {html}");
        }
        assert!(html.contains("ISP &lt;1&gt;<br>+7"));
        assert!(html.starts_with("<!doctype html>") && html.ends_with("</html>"));
    }
}
