//! A FreeRADIUS 3 process on loopback, configured from `deploy/freeradius/` (rendered by its
//! `render.sh`) in front of a Kabinet internal listener: what the integration tests and
//! `kabinet bench radius --through-freeradius` run. Production runs FreeRADIUS as a service from
//! the same files (README, "FreeRADIUS"); nothing on a serving path starts this.

use std::net::{Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How to start it.
#[derive(Clone, Debug)]
pub struct LocalFreeRadiusConfig<'a> {
    /// `deploy/freeradius` of the checkout.
    pub deploy_dir: &'a Path,
    /// Kabinet's internal listener.
    pub kabinet: SocketAddr,
    /// The bearer token the listener expects.
    pub token: &'a str,
    pub auth_port: u16,
    pub acct_port: u16,
    /// Also listen on `::1` (same ports).
    pub ipv6: bool,
    /// How long FreeRADIUS keeps a dynamic client before asking Kabinet again.
    pub client_lifetime_secs: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum LocalFreeRadiusError {
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("deploy/freeradius/render.sh failed")]
    Render,
    #[error("freeradius did not start:\n{0}")]
    Start(String),
}

/// A running FreeRADIUS; killed (and its directory removed) when dropped.
pub struct LocalFreeRadius {
    child: Child,
    dir: PathBuf,
    pub auth: SocketAddr,
    pub acct: SocketAddr,
    /// The authentication port on `::1`, when asked for.
    pub auth6: Option<SocketAddr>,
}

impl LocalFreeRadius {
    /// Renders the configuration into a fresh temporary directory, starts `freeradius -f` on it
    /// and waits (up to 10 s) until it is ready to process requests.
    pub async fn start(config: &LocalFreeRadiusConfig<'_>) -> Result<Self, LocalFreeRadiusError> {
        let io = |what| move |source| LocalFreeRadiusError::Io { what, source };
        let dir = std::env::temp_dir().join(format!(
            "kabinet-freeradius-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let status = Command::new(config.deploy_dir.join("render.sh"))
            .arg(&dir)
            .arg(format!("http://{}", config.kabinet))
            .arg(config.token)
            .arg("127.0.0.1")
            .arg(config.auth_port.to_string())
            .arg(config.acct_port.to_string())
            .arg(if config.ipv6 { "::1" } else { "none" })
            .env(
                "KABINET_RADIUS_CLIENT_LIFETIME",
                config.client_lifetime_secs.to_string(),
            )
            .stdout(Stdio::null())
            .status()
            .map_err(io("running deploy/freeradius/render.sh"))?;
        if !status.success() {
            return Err(LocalFreeRadiusError::Render);
        }
        let log = std::fs::File::create(dir.join("stdout.log")).map_err(io("creating its log"))?;
        let child = Command::new("freeradius")
            .args(["-f", "-d"])
            .arg(&dir)
            .args(["-l", "stdout"])
            .stdout(log.try_clone().map_err(io("creating its log"))?)
            .stderr(log)
            .spawn()
            .map_err(io(
                "starting freeradius (install it: deploy/debian/install-deps.sh --test)",
            ))?;
        let server = Self {
            child,
            auth: SocketAddr::from(([127, 0, 0, 1], config.auth_port)),
            acct: SocketAddr::from(([127, 0, 0, 1], config.acct_port)),
            auth6: config
                .ipv6
                .then(|| SocketAddr::from((Ipv6Addr::LOCALHOST, config.auth_port))),
            dir,
        };
        for _ in 0..100 {
            let out = server.log();
            if out.contains("Ready to process requests") {
                return Ok(server);
            }
            if out.contains("Error") || out.contains("Failed") {
                return Err(LocalFreeRadiusError::Start(out));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(LocalFreeRadiusError::Start(server.log_tail()))
    }

    /// What it printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("stdout.log")).unwrap_or_default()
    }

    /// The last 40 lines of its output and of its own log file, for failure reports.
    pub fn log_tail(&self) -> String {
        let mut out = String::new();
        for file in ["stdout.log", "log/radius.log"] {
            let text = std::fs::read_to_string(self.dir.join(file)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(40);
            out.push_str(&format!("--- {file}\n{}\n", lines[from..].join("\n")));
        }
        out
    }

    /// The installed FreeRADIUS version ("3.2.7"), or "?".
    pub fn version() -> String {
        Command::new("freeradius")
            .arg("-v")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.lines().next().map(str::to_owned))
            .and_then(|l| {
                l.split("Version ")
                    .nth(1)
                    .map(|v| v.split(',').next().unwrap_or(v).to_owned())
            })
            .unwrap_or_else(|| "?".into())
    }
}

impl Drop for LocalFreeRadius {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
