//! Throwaway PostgreSQL clusters for Tessera's tests and benchmarks.
//!
//! [`Postgres::start`] runs `initdb` in a temporary folder and starts the
//! server on a free loopback port with trust authentication for the user
//! `tessera`; the cluster stops at once (and its folder goes) when the
//! value is dropped, or, with [`Postgres::stop_when_process_ends`], when
//! the process that started it ends however it ends. PostgreSQL refuses to
//! run as root, so as root it runs as the `postgres` user. Needs Debian's
//! `postgresql` package (`cargo xtask setup` installs it).
//!
//! What it is not: a database client. Databases are made with `createdb`;
//! connecting is the caller's business.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running throwaway cluster.
#[derive(Debug)]
pub struct Postgres {
    dir: PathBuf,
    port: u16,
    owner: Option<String>,
    /// `postgres://tessera@127.0.0.1:<port>/postgres`.
    pub url: String,
}

/// The path of PostgreSQL's `name` tool: Debian keeps them off the `PATH`,
/// in `/usr/lib/postgresql/<version>/bin`.
fn tool(name: &str) -> PathBuf {
    std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|version| version.path().join("bin").join(name))
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

fn fresh_dir() -> Result<PathBuf, String> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tessera-postgres-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    Ok(dir)
}

/// Single-quoted for `sh`.
fn quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

impl Postgres {
    /// The command running `tool` as the cluster's owner.
    fn command(&self, name: &str) -> Command {
        match &self.owner {
            Some(owner) => {
                let mut command = Command::new("runuser");
                command.args(["-u", owner, "--"]).arg(tool(name));
                command
            }
            None => Command::new(tool(name)),
        }
    }

    fn run(&self, name: &str, args: &[&str]) -> Result<Output, String> {
        self.command(name).args(args).output().map_err(|error| {
            format!("cannot run {name} (cargo xtask setup installs PostgreSQL): {error}")
        })
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Initializes and starts a cluster.
    pub fn start() -> Result<Postgres, String> {
        Self::start_with(None)
    }

    /// Like [`Postgres::start`], with TLS on: the server presents the
    /// certificate `certificate_pem` (its key `key_pem`), and clients may
    /// connect with TLS or without.
    pub fn start_with_tls(certificate_pem: &str, key_pem: &str) -> Result<Postgres, String> {
        Self::start_with(Some((certificate_pem, key_pem)))
    }

    fn start_with(tls: Option<(&str, &str)>) -> Result<Postgres, String> {
        let dir = fresh_dir()?;
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|output| output.stdout.starts_with(b"0\n"));
        let owner = root.then(|| "postgres".to_owned());
        if let Some(owner) = &owner {
            let chowned = Command::new("chown")
                .arg(format!("{owner}:"))
                .arg(&dir)
                .status()
                .is_ok_and(|status| status.success());
            if !chowned {
                return Err(format!("cannot give {} to {owner}", dir.display()));
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| format!("no free loopback port: {error}"))?
            .port();
        let cluster = Postgres {
            url: format!("postgres://tessera@127.0.0.1:{port}/postgres"),
            dir,
            port,
            owner,
        };
        let data = cluster.data().display().to_string();
        let init = cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "tessera",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
        )?;
        if !init.status.success() {
            return Err(format!("initdb: {}", String::from_utf8_lossy(&init.stderr)));
        }
        let mut options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c max_connections=300",
            cluster.dir.display()
        );
        if let Some((certificate, key)) = tls {
            let (certificate_file, key_file) = (
                cluster.data().join("server.crt"),
                cluster.data().join("server.key"),
            );
            for (file, text) in [(&certificate_file, certificate), (&key_file, key)] {
                std::fs::write(file, text)
                    .map_err(|error| format!("cannot write {}: {error}", file.display()))?;
            }
            // PostgreSQL reads a key only its owner can read.
            let mut restrict = Command::new("chmod");
            restrict.arg("600").arg(&key_file);
            let mut give = Command::new("chown");
            give.arg(format!("{}:", cluster.owner.as_deref().unwrap_or("")))
                .args([&certificate_file, &key_file]);
            let commands = if cluster.owner.is_some() {
                vec![restrict, give]
            } else {
                vec![restrict]
            };
            for mut command in commands {
                if !command.status().is_ok_and(|status| status.success()) {
                    return Err(format!("cannot prepare {}", key_file.display()));
                }
            }
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                certificate_file.display(),
                key_file.display()
            ));
        }
        let log = cluster.dir.join("log");
        let started = cluster.run(
            "pg_ctl",
            &[
                "-D",
                &data,
                "-o",
                &options,
                "-l",
                &log.display().to_string(),
                "-w",
                "start",
            ],
        )?;
        if !started.status.success() {
            return Err(format!(
                "pg_ctl start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ));
        }
        Ok(cluster)
    }

    /// The URL of the database `name` in this cluster.
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://tessera@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates the empty database `name` and answers its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        let port = self.port.to_string();
        let created = self.run(
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", "tessera", name],
        )?;
        if !created.status.success() {
            return Err(format!(
                "createdb: {}",
                String::from_utf8_lossy(&created.stderr)
            ));
        }
        Ok(self.database_url(name))
    }

    /// Stops the cluster once the process `pid` has ended (a small shell
    /// watches it), for a cluster that lives in a static and is never
    /// dropped.
    pub fn stop_when_process_ends(&self, pid: u32) -> Result<(), String> {
        let mut stop: Vec<String> = [
            tool("pg_ctl").display().to_string(),
            "-D".into(),
            self.data().display().to_string(),
            "-m".into(),
            "immediate".into(),
            "-w".into(),
            "stop".into(),
        ]
        .into();
        if let Some(owner) = &self.owner {
            stop.splice(
                0..0,
                ["runuser".into(), "-u".into(), owner.clone(), "--".into()],
            );
        }
        let stop = stop
            .iter()
            .map(|word| quoted(word))
            .collect::<Vec<_>>()
            .join(" ");
        // In the background of a shell that exits at once: the watchdog is
        // nobody's child, so nothing waits on it.
        let watchdog = format!(
            "(while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop}; rm -rf {dir}) \
             </dev/null >/dev/null 2>&1 &",
            dir = quoted(&self.dir.display().to_string()),
        );
        let started = Command::new("sh")
            .args(["-c", &watchdog])
            .status()
            .map_err(|error| format!("cannot start the cluster's watchdog: {error}"))?;
        started
            .success()
            .then_some(())
            .ok_or_else(|| "the cluster's watchdog did not start".to_owned())
    }

    fn stop(&self) {
        let data = self.data().display().to_string();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
