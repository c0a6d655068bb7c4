//! A project-local PostgreSQL cluster, started on demand when no `DATABASE_URL` is given.
//!
//! It uses the server binaries of the machine (`initdb`/`pg_ctl` on PATH or under
//! `/usr/lib/postgresql/<version>/bin`), keeps its data in a git-ignored folder, listens on
//! loopback TCP only, and trusts local connections. PostgreSQL refuses to run as root, so as root
//! the server runs as the `postgres` system user (or `nobody`) and the folder is handed to it.

use std::fs::{self, File};
use std::os::unix::fs::chown;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::DbError;

#[derive(Clone, Debug)]
pub struct EmbeddedCluster {
    data_dir: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    run_as: Option<(u32, u32)>,
    /// Whether this process started the server (and so should stop it).
    started_here: bool,
}

/// Tuning for a cluster: the dev server keeps durability; the test cluster trades it for speed.
#[derive(Clone, Copy, Debug)]
pub enum Durability {
    Durable,
    Disposable,
}

fn err(msg: impl Into<String>) -> DbError {
    DbError::Embedded(msg.into())
}

impl EmbeddedCluster {
    /// Starts (initialising if needed) the cluster in `data_dir` on `port`, or attaches to it
    /// when it is already running. Serialised by a lock file so concurrent callers (parallel
    /// test processes) cannot both run `initdb`.
    pub fn start(data_dir: &Path, port: u16, durability: Durability) -> Result<Self, DbError> {
        let bin_dir = find_server_binaries()?;
        fs::create_dir_all(data_dir.parent().unwrap_or(Path::new(".")))
            .map_err(|e| err(format!("creating {}: {e}", data_dir.display())))?;
        let data_dir = absolute(data_dir)?;
        let lock_path = data_dir.with_extension("lock");
        let lock = File::create(&lock_path)
            .map_err(|e| err(format!("creating {}: {e}", lock_path.display())))?;
        lock.lock()
            .map_err(|e| err(format!("locking {}: {e}", lock_path.display())))?;

        let run_as = server_user()?;
        let data_dir = reachable_data_dir(data_dir, run_as)?;
        let mut cluster = Self {
            data_dir,
            bin_dir,
            port,
            run_as,
            started_here: false,
        };
        if !cluster.data_dir.join("PG_VERSION").exists() {
            cluster.init(durability)?;
        }
        if !cluster.is_running() {
            // The port is given on every start, so the caller's choice wins over the one
            // written at initdb time.
            let port_option = format!("-p {port}");
            cluster.pg_ctl(&["start", "-w", "-t", "60", "-o", &port_option, "-l"], true)?;
            cluster.started_here = true;
        }
        // Attached to a server someone else started: it listens where it listens.
        if let Some(actual) = cluster.running_port() {
            cluster.port = actual;
        }
        drop(lock);
        Ok(cluster)
    }

    /// The cluster in `data_dir`, without starting it (to stop one left running).
    pub fn existing(data_dir: &Path, port: u16) -> Result<Self, DbError> {
        let run_as = server_user()?;
        Ok(Self {
            data_dir: reachable_data_dir(absolute(data_dir)?, run_as)?,
            bin_dir: find_server_binaries()?,
            port,
            run_as,
            started_here: false,
        })
    }

    /// A superuser URL for administration (roles, databases, migrations).
    pub fn admin_url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// Stops the server cleanly (`pg_ctl stop -m fast`): open transactions roll back.
    pub fn stop(&self) -> Result<(), DbError> {
        if self.is_running() {
            self.pg_ctl(&["stop", "-w", "-m", "fast"], false)?;
        }
        Ok(())
    }

    /// The port of the running server, from `postmaster.pid` (its fourth line).
    fn running_port(&self) -> Option<u16> {
        fs::read_to_string(self.data_dir.join("postmaster.pid"))
            .ok()?
            .lines()
            .nth(3)?
            .trim()
            .parse()
            .ok()
    }

    fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .args(["status", "-D"])
            .arg(&self.data_dir)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    fn init(&self, durability: Durability) -> Result<(), DbError> {
        fs::create_dir_all(&self.data_dir)
            .map_err(|e| err(format!("creating {}: {e}", self.data_dir.display())))?;
        if let Some((uid, gid)) = self.run_as {
            chown(&self.data_dir, Some(uid), Some(gid))
                .map_err(|e| err(format!("chown {}: {e}", self.data_dir.display())))?;
        }
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(&self.data_dir)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ])
            .output()
            .map_err(|e| err(format!("running initdb: {e}")))?;
        check("initdb", &out)?;

        let mut conf = format!(
            "\n# Kabinet's project-local cluster\nport = {}\nlisten_addresses = '127.0.0.1'\n\
             unix_socket_directories = ''\nmax_connections = 300\nshared_buffers = 128MB\n",
            self.port
        );
        if let Durability::Disposable = durability {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let conf_path = self.data_dir.join("postgresql.conf");
        let mut existing = fs::read_to_string(&conf_path)
            .map_err(|e| err(format!("reading {}: {e}", conf_path.display())))?;
        existing.push_str(&conf);
        fs::write(&conf_path, existing)
            .map_err(|e| err(format!("writing {}: {e}", conf_path.display())))?;
        if let Some((uid, gid)) = self.run_as {
            chown(&conf_path, Some(uid), Some(gid))
                .map_err(|e| err(format!("chown {}: {e}", conf_path.display())))?;
        }
        Ok(())
    }

    fn pg_ctl(&self, args: &[&str], with_log: bool) -> Result<(), DbError> {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("-D").arg(&self.data_dir);
        for arg in args {
            cmd.arg(arg);
        }
        if with_log {
            cmd.arg(self.data_dir.join("server.log"));
        }
        let out = cmd
            .output()
            .map_err(|e| err(format!("running pg_ctl: {e}")))?;
        check("pg_ctl", &out)
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        // The server must not inherit our terminal's Ctrl-C: we stop it ourselves, cleanly.
        cmd.process_group(0);
        cmd
    }
}

fn check(what: &str, out: &Output) -> Result<(), DbError> {
    if out.status.success() {
        Ok(())
    } else {
        Err(err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

fn absolute(path: &Path) -> Result<PathBuf, DbError> {
    std::path::absolute(path).map_err(|e| err(format!("resolving {}: {e}", path.display())))
}

/// `initdb` and `pg_ctl`: from PATH, else the newest `/usr/lib/postgresql/<v>/bin`.
pub fn find_server_binaries() -> Result<PathBuf, DbError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(versions) = fs::read_dir("/usr/lib/postgresql") {
        let mut dirs: Vec<(u32, PathBuf)> = versions
            .filter_map(Result::ok)
            .filter_map(|e| {
                let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                Some((v, e.path().join("bin")))
            })
            .collect();
        dirs.sort_by_key(|d| std::cmp::Reverse(d.0));
        candidates.extend(dirs.into_iter().map(|(_, p)| p));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .ok_or_else(|| {
            err("no PostgreSQL server binaries (initdb, pg_ctl) found on PATH or under \
                 /usr/lib/postgresql/*/bin; install Debian's `postgresql` package or set DATABASE_URL")
        })
}

/// The (uid, gid) the server runs as when we are root, read from /etc/passwd.
fn server_user() -> Result<Option<(u32, u32)>, DbError> {
    if current_euid() != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    for wanted in ["postgres", "nobody"] {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() > 3
                && fields[0] == wanted
                && let (Ok(uid), Ok(gid)) = (fields[2].parse(), fields[3].parse())
            {
                return Ok(Some((uid, gid)));
            }
        }
    }
    Err(err(
        "running as root and no `postgres` or `nobody` user to run the server as",
    ))
}

/// `data_dir`, or a stand-in under the temp dir when the server user (as root: `postgres`)
/// could not reach it (a checkout under a private home directory).
fn reachable_data_dir(data_dir: PathBuf, run_as: Option<(u32, u32)>) -> Result<PathBuf, DbError> {
    match run_as {
        Some((uid, gid)) if !traversable_by(&data_dir, uid, gid) => {
            let fallback = fallback_dir(&data_dir);
            tracing::warn!(
                wanted = %data_dir.display(),
                using = %fallback.display(),
                "the PostgreSQL server user cannot reach the project folder; using a folder it can"
            );
            fs::create_dir_all(fallback.parent().unwrap_or(Path::new("/tmp")))
                .map_err(|e| err(format!("creating {}: {e}", fallback.display())))?;
            Ok(fallback)
        }
        _ => Ok(data_dir),
    }
}

/// Whether every ancestor of `path` lets (uid, gid) pass through.
fn traversable_by(path: &Path, uid: u32, gid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    path.ancestors().skip(1).all(|dir| match fs::metadata(dir) {
        Ok(m) => {
            let mode = m.mode();
            if m.uid() == uid {
                mode & 0o100 != 0
            } else if m.gid() == gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            }
        }
        Err(_) => true,
    })
}

/// A per-project folder under the system temp dir, stable for the same project path.
fn fallback_dir(wanted: &Path) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    wanted.hash(&mut hasher);
    std::env::temp_dir()
        .join(format!("kabinet-pg-{:016x}", hasher.finish()))
        .join("data")
}

fn current_euid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // /proc/self is owned by the effective uid of the process.
    fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0)
}
