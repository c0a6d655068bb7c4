//! A real SMTP server for the tests, in-process: `mailin`'s SMTP state machine (the engine of
//! mailin-embedded) over loopback sockets, one thread per connection. It keeps every message it
//! accepts, and refuses recipients at `bounce.invalid` with a permanent 550, as a real server
//! refuses an unknown mailbox.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin::{Action, Handler, Response, SessionBuilder};

/// A message as it arrived over SMTP.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    /// The raw RFC 5322 message.
    pub data: Vec<u8>,
}

impl ReceivedMail {
    fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("an RFC 5322 message")
    }

    /// The decoded `Subject:`.
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    /// The display name and address of `From:`.
    pub fn from(&self) -> (Option<String>, String) {
        let message = self.parsed();
        let from = message.from().and_then(|a| a.first()).expect("From:");
        (
            from.name().map(str::to_owned),
            from.address().unwrap_or_default().to_owned(),
        )
    }

    /// The address of `Reply-To:`, if any.
    pub fn reply_to(&self) -> Option<String> {
        let message = self.parsed();
        message
            .reply_to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(str::to_owned)
    }

    /// The decoded plain-text body.
    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    }

    /// The decoded HTML body, if there is one.
    pub fn html(&self) -> Option<String> {
        self.parsed().body_html(0).map(|t| t.into_owned())
    }
}

#[derive(Clone)]
struct Collector {
    inbox: Arc<Mutex<Vec<ReceivedMail>>>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Collector {
    fn rcpt(&mut self, to: &str) -> Response {
        if to.ends_with("@bounce.invalid") {
            mailin::response::NO_MAILBOX
        } else {
            mailin::response::OK
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_owned();
        self.to = to.to_vec();
        self.data.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mail = ReceivedMail {
            envelope_from: std::mem::take(&mut self.from),
            envelope_to: std::mem::take(&mut self.to),
            data: std::mem::take(&mut self.data),
        };
        self.inbox.lock().expect("inbox").push(mail);
        mailin::response::OK
    }
}

/// The test SMTP server: `smtp_url()` is what the app's `KABINET_SMTP_URL` would be.
pub struct MailCatcher {
    pub addr: SocketAddr,
    inbox: Arc<Mutex<Vec<ReceivedMail>>>,
}

fn serve_connection(stream: TcpStream, collector: Collector) -> std::io::Result<()> {
    let peer = stream
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut session = SessionBuilder::new("kabinet-tests").build(peer, collector);
    session.greeting().write_to(&mut writer)?;
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let response = session.process(&line);
        match response.action {
            Action::Reply => {
                response.write_to(&mut writer)?;
                writer.flush()?;
            }
            Action::Close => {
                response.write_to(&mut writer)?;
                writer.flush()?;
                return Ok(());
            }
            Action::UpgradeTls => return Ok(()), // not offered
            Action::NoReply => {}
        }
    }
}

impl MailCatcher {
    pub fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let collector = Collector {
            inbox: Arc::clone(&inbox),
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let collector = collector.clone();
                std::thread::spawn(move || {
                    let _ = serve_connection(stream, collector);
                });
            }
        });
        Ok(Self { addr, inbox })
    }

    pub fn smtp_url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Everything received so far.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.inbox.lock().expect("inbox").clone()
    }

    /// Messages received for `to`.
    pub fn messages_to(&self, to: &str) -> Vec<ReceivedMail> {
        self.messages()
            .into_iter()
            .filter(|m| m.envelope_to.iter().any(|t| t.eq_ignore_ascii_case(to)))
            .collect()
    }

    /// Waits (up to 20 s) until `count` messages have arrived for `to`; returns them all.
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = self.messages_to(to);
            if found.len() >= count {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "{count} message(s) for {to} expected; got {}",
                found.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
