//! Checking a [`Mail`] before it is queued, and turning a queued one into an RFC 5322 message.

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::{Mail, MailError};

/// The languages messages are written in (an ISP's default language picks one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Ru,
    En,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> MailError {
    MailError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// One line of header text: control characters (a CR/LF could start a new header) become spaces.
fn one_line(raw: &str) -> String {
    raw.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

fn address(field: &'static str, raw: &str) -> Result<String, MailError> {
    let raw = raw.trim();
    if raw.len() > 254 {
        return Err(invalid(field, "longer than 254 characters"));
    }
    raw.parse::<lettre::Address>()
        .map(|a| a.to_string())
        .map_err(|e| invalid(field, e.to_string()))
}

pub(crate) fn validated(mail: Mail) -> Result<Mail, MailError> {
    let subject = one_line(&mail.subject);
    if subject.is_empty() || subject.chars().count() > 500 {
        return Err(invalid("subject", "must be 1 to 500 characters"));
    }
    if mail.text.trim().is_empty() {
        return Err(invalid("text", "must not be empty"));
    }
    let from_name = mail
        .from_name
        .as_deref()
        .map(one_line)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(200).collect());
    Ok(Mail {
        to: address("to", &mail.to)?,
        from_name,
        reply_to: mail
            .reply_to
            .as_deref()
            .map(|r| address("reply_to", r))
            .transpose()?,
        subject,
        text: mail.text,
        html: mail.html.filter(|h| !h.trim().is_empty()),
    })
}

/// The message as it goes over SMTP: `From: "<from_name>" <platform address>`, plain text, and
/// the HTML alternative when there is one. `Message-ID` is derived from the outbox row, so a
/// message sent again after a crash (delivery is at-least-once) carries the same id and the
/// receiving side can drop the duplicate.
pub(crate) fn build(
    mail: &Mail,
    from: &lettre::Address,
    id: uuid::Uuid,
) -> Result<Message, MailError> {
    let to: lettre::Address = mail
        .to
        .parse()
        .map_err(|e: lettre::address::AddressError| invalid("to", e.to_string()))?;
    let mut builder = Message::builder()
        .from(Mailbox::new(mail.from_name.clone(), from.clone()))
        .to(Mailbox::new(None, to))
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{id}@{}>", from.domain())));
    if let Some(reply_to) = &mail.reply_to {
        let reply_to: lettre::Address = reply_to
            .parse()
            .map_err(|e: lettre::address::AddressError| invalid("reply_to", e.to_string()))?;
        builder = builder.reply_to(Mailbox::new(None, reply_to));
    }
    let built = match &mail.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            html.clone(),
        )),
        None => builder.singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(mail.text.clone()),
        ),
    };
    built.map_err(|e| invalid("message", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> Mail {
        Mail {
            to: "ivan@example.com".into(),
            from_name: Some("Демо Телеком".into()),
            reply_to: Some("support@demo.example".into()),
            subject: "Сброс пароля".into(),
            text: "Здравствуйте".into(),
            html: None,
        }
    }

    #[test]
    fn header_fields_cannot_smuggle_lines() {
        let checked = validated(Mail {
            subject: "Hi\r\nBcc: victim@example.com".into(),
            from_name: Some("ISP\nX-Evil: 1".into()),
            ..mail()
        })
        .expect("valid");
        assert_eq!(checked.subject, "Hi  Bcc: victim@example.com");
        assert_eq!(checked.from_name.as_deref(), Some("ISP X-Evil: 1"));
    }

    #[test]
    fn bad_addresses_and_empty_parts_are_refused() {
        for bad in [
            Mail {
                to: "not an address".into(),
                ..mail()
            },
            Mail {
                reply_to: Some("@".into()),
                ..mail()
            },
            Mail {
                subject: " \r\n".into(),
                ..mail()
            },
            Mail {
                text: "  ".into(),
                ..mail()
            },
        ] {
            assert!(matches!(validated(bad), Err(MailError::Invalid { .. })));
        }
    }

    #[test]
    fn builds_a_message_with_the_display_name_and_reply_to() {
        let from: lettre::Address = "noreply@kabinet.example".parse().expect("address");
        let id = uuid::Uuid::now_v7();
        let message = build(&validated(mail()).expect("valid"), &from, id).expect("builds");
        let raw = String::from_utf8(message.formatted()).expect("utf-8");
        assert!(
            raw.contains(&format!("Message-ID: <{id}@kabinet.example>")),
            "{raw}"
        );
        assert!(raw.contains("<noreply@kabinet.example>"), "{raw}");
        assert!(raw.contains("Reply-To: support@demo.example"), "{raw}");
        assert!(raw.contains("To: ivan@example.com"), "{raw}");
    }
}
