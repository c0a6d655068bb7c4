//! RADIUS in the tests: a real FreeRADIUS 3 started from `deploy/freeradius/` on loopback ports,
//! the app's internal listener and CoA worker, a small RADIUS client that can choose its source
//! address (a NAS is known by it; `radclient` cannot bind one), and a test NAS that answers
//! CoA/Disconnect-Request (RFC 5176).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kabinet_network::local_freeradius::{LocalFreeRadius, LocalFreeRadiusConfig};
use kabinet_network::radius::{self, Attr, Packet};
use poem::listener::TcpAcceptor;
use tokio::net::UdpSocket;

use crate::{TestApp, repo_root};

pub use kabinet_network::radius as codec;

/// The bearer token the tests' FreeRADIUS sends.
pub const RADIUS_TOKEN: &str = "test-radius-token-0123456789";

/// FreeRADIUS ports for the tests: 18120–18199 (this checkout's range), two per server.
fn next_ports() -> (u16, u16) {
    static NEXT: AtomicU16 = AtomicU16::new(18120);
    let auth = NEXT.fetch_add(2, Ordering::SeqCst);
    let auth = 18120 + (auth - 18120) % 80;
    (auth, auth + 1)
}

impl TestApp {
    /// Starts the internal listener (what FreeRADIUS calls) on a random loopback port.
    pub fn spawn_internal(&self) -> anyhow::Result<SocketAddr> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let acceptor = TcpAcceptor::from_std(listener)?;
        let app = kabinet_gateway::build_internal_app(self.state.clone(), RADIUS_TOKEN.into());
        tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        Ok(addr)
    }

    /// Starts the CoA/Disconnect worker as `kabinet serve` does, with test-sized timings.
    pub fn spawn_coa_worker(&self, timeout: Duration, retry_base: Duration) {
        kabinet_network::coa::spawn_worker(
            self.db.db.clone(),
            self.state.config.secret_key.clone(),
            kabinet_network::coa::CoaSettings {
                timeout,
                max_attempts: 5,
                retry_base,
                sweep_every: Duration::from_millis(200),
            },
        );
    }
}

/// A FreeRADIUS process with Kabinet's configuration, on this checkout's ports and on IPv4 and
/// IPv6 loopback; stopped when dropped.
pub struct FreeRadius(LocalFreeRadius);

impl FreeRadius {
    pub async fn start(internal: SocketAddr) -> anyhow::Result<Self> {
        let (auth_port, acct_port) = next_ports();
        Ok(Self(
            LocalFreeRadius::start(&LocalFreeRadiusConfig {
                deploy_dir: &repo_root().join("deploy/freeradius"),
                kabinet: internal,
                token: RADIUS_TOKEN,
                auth_port,
                acct_port,
                ipv6: true,
                // Short: the tests change NAS secrets and expect FreeRADIUS to ask again.
                client_lifetime_secs: 2,
            })
            .await?,
        ))
    }

    /// The authentication port on `::1`.
    pub fn auth6(&self) -> SocketAddr {
        self.0.auth6.expect("started with IPv6")
    }
}

impl std::ops::Deref for FreeRadius {
    type Target = LocalFreeRadius;

    fn deref(&self) -> &LocalFreeRadius {
        &self.0
    }
}

/// A NAS as FreeRADIUS sees it: RADIUS requests from a chosen source address.
pub struct RadiusClient {
    socket: UdpSocket,
    secret: Vec<u8>,
    next_id: Mutex<u8>,
}

impl RadiusClient {
    pub async fn bind(source: IpAddr, secret: &str) -> anyhow::Result<Self> {
        Ok(Self {
            socket: UdpSocket::bind(SocketAddr::new(source, 0)).await?,
            secret: secret.as_bytes().to_vec(),
            next_id: Mutex::new(0),
        })
    }

    fn id(&self) -> u8 {
        let mut id = self.next_id.lock().expect("lock");
        *id = id.wrapping_add(1);
        *id
    }

    /// Sends bytes and waits up to `wait` for one datagram back.
    pub async fn exchange(&self, to: SocketAddr, bytes: &[u8], wait: Duration) -> Option<Vec<u8>> {
        self.socket.send_to(bytes, to).await.ok()?;
        let mut buf = vec![0u8; 4096];
        match tokio::time::timeout(wait, self.socket.recv_from(&mut buf)).await {
            Ok(Ok((n, _))) => Some(buf[..n].to_vec()),
            _ => None,
        }
    }

    fn access_request(&self, user: &str, extra: Vec<Attr>) -> Packet {
        let mut p = Packet::new(radius::ACCESS_REQUEST, self.id());
        p.authenticator = rand_bytes();
        p.attrs
            .push(Attr::new(radius::USER_NAME, user.as_bytes().to_vec()));
        p.attrs.extend(extra);
        p.attrs
            .push(Attr::new(radius::NAS_IP_ADDRESS, vec![127, 0, 0, 1]));
        p.attrs
            .push(Attr::new(radius::MESSAGE_AUTHENTICATOR, vec![0; 16]));
        p
    }

    async fn ask(&self, to: SocketAddr, p: &Packet, bytes: Vec<u8>) -> Option<Packet> {
        // Resend like a NAS would, in case the first answer is slow.
        for _ in 0..3 {
            if let Some(reply) = self.exchange(to, &bytes, Duration::from_secs(3)).await {
                if radius::verify_response(&reply, &p.authenticator, &self.secret).is_err() {
                    return None;
                }
                return Packet::decode(&reply).ok();
            }
        }
        None
    }

    /// PAP: `None` when FreeRADIUS does not answer (e.g. an unknown NAS).
    pub async fn pap(&self, to: SocketAddr, user: &str, password: &str) -> Option<Packet> {
        let mut p = self.access_request(user, vec![]);
        let hidden = radius::hide_password(password.as_bytes(), &self.secret, &p.authenticator);
        p.attrs.insert(1, Attr::new(radius::USER_PASSWORD, hidden));
        let bytes = p.encode_access_request(&self.secret).ok()?;
        self.ask(to, &p, bytes).await
    }

    /// CHAP, with the request authenticator as the challenge (no CHAP-Challenge attribute),
    /// as many NAS send it.
    pub async fn chap(&self, to: SocketAddr, user: &str, password: &str) -> Option<Packet> {
        let mut p = self.access_request(user, vec![]);
        let ident = 42u8;
        let mut chap = vec![ident];
        chap.extend_from_slice(&radius::chap_response(
            ident,
            password.as_bytes(),
            &p.authenticator,
        ));
        p.attrs.insert(1, Attr::new(radius::CHAP_PASSWORD, chap));
        let bytes = p.encode_access_request(&self.secret).ok()?;
        self.ask(to, &p, bytes).await
    }

    /// An Accounting-Request: `Some` once FreeRADIUS answered (Kabinet recorded it).
    pub async fn accounting(&self, to: SocketAddr, attrs: Vec<Attr>) -> Option<Packet> {
        let mut p = Packet::new(radius::ACCOUNTING_REQUEST, self.id());
        p.attrs = attrs;
        let bytes = p.encode_signed_request(&self.secret).ok()?;
        self.ask(to, &p, bytes).await
    }
}

/// Accounting attributes for a session of `user`.
pub fn acct(
    status: u32,
    user: &str,
    session: &str,
    input: u64,
    output: u64,
    time: u32,
) -> Vec<Attr> {
    vec![
        Attr::int(radius::ACCT_STATUS_TYPE, status),
        Attr::new(radius::USER_NAME, user.as_bytes().to_vec()),
        Attr::new(radius::ACCT_SESSION_ID, session.as_bytes().to_vec()),
        Attr::int(radius::ACCT_INPUT_OCTETS, (input & 0xffff_ffff) as u32),
        Attr::int(radius::ACCT_INPUT_GIGAWORDS, (input >> 32) as u32),
        Attr::int(radius::ACCT_OUTPUT_OCTETS, (output & 0xffff_ffff) as u32),
        Attr::int(radius::ACCT_OUTPUT_GIGAWORDS, (output >> 32) as u32),
        Attr::int(radius::ACCT_SESSION_TIME, time),
        Attr::new(radius::FRAMED_IP_ADDRESS, vec![10, 0, 0, 7]),
        Attr::new(radius::NAS_IP_ADDRESS, vec![127, 0, 0, 1]),
    ]
}

fn rand_bytes() -> [u8; 16] {
    *uuid::Uuid::new_v4().as_bytes()
}

/// A NAS's CoA port: answers CoA/Disconnect-Request with an ACK, after dropping the first
/// `drop_first` requests (a lost answer, as on a real network); records what it received.
pub struct TestNas {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Packet>>>,
}

impl TestNas {
    pub async fn start(
        address: IpAddr,
        port: u16,
        secret: &str,
        drop_first: usize,
    ) -> anyhow::Result<Self> {
        let socket = UdpSocket::bind(SocketAddr::new(address, port)).await?;
        let addr = socket.local_addr()?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let seen = received.clone();
        let secret = secret.as_bytes().to_vec();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let mut count = 0usize;
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                let bytes = &buf[..n];
                // A request not signed with our secret is ignored, as RFC 5176 §3.5 asks.
                if radius::verify_signed_request(bytes, &secret).is_err() {
                    continue;
                }
                let Ok(p) = Packet::decode(bytes) else {
                    continue;
                };
                seen.lock().expect("lock").push(p.clone());
                count += 1;
                if count <= drop_first {
                    continue;
                }
                let code = if p.code == radius::COA_REQUEST {
                    radius::COA_ACK
                } else {
                    radius::DISCONNECT_ACK
                };
                if let Ok(answer) =
                    Packet::new(code, p.id).encode_response(&p.authenticator, &secret)
                {
                    let _ = socket.send_to(&answer, from).await;
                }
            }
        });
        Ok(Self { addr, received })
    }

    pub fn received(&self) -> Vec<Packet> {
        self.received.lock().expect("lock").clone()
    }
}
