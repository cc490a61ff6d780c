//! A MariaDB server of the test's own, on a spare port with its own data
//! directory, that the test may stop and start: the shared one on 3306 is
//! never touched.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::free_port;
use crate::pki::{CertFiles, TestPki};

pub struct MariaDbServer {
    dir: PathBuf,
    pub port: u16,
    child: Option<Child>,
    /// Set for a TLS-only server.
    tls: Option<CertFiles>,
}

impl MariaDbServer {
    /// Initialises a data directory and starts the server (root, no password).
    pub async fn start() -> MariaDbServer {
        MariaDbServer::start_with(None).await
    }

    /// A server that accepts TLS connections only
    /// (`require_secure_transport`), presenting `pki`'s server certificate.
    pub async fn start_tls(pki: &TestPki) -> MariaDbServer {
        MariaDbServer::start_with(Some(pki.files.clone())).await
    }

    async fn start_with(tls: Option<CertFiles>) -> MariaDbServer {
        let dir =
            std::env::temp_dir().join(format!("et-mariadb-{}", crate::helpers::unique_name()));
        std::fs::create_dir_all(&dir).unwrap();
        let installed = Command::new("mariadb-install-db")
            .args([
                "--no-defaults",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])
            .arg(format!("--datadir={}", dir.join("data").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("mariadb-install-db runs (package mariadb-server)");
        assert!(installed.success(), "mariadb-install-db failed");
        let mut server = MariaDbServer {
            dir,
            port: free_port(),
            child: None,
            tls,
        };
        server.resume().await;
        server
    }

    /// The URL for the app: with `require_ssl=true` on a TLS-only server
    /// (so the certificate is verified, against the roots the app trusts).
    pub fn url(&self, database: &str) -> String {
        let tls = if self.tls.is_some() {
            "?require_ssl=true"
        } else {
            ""
        };
        format!("mysql://root@127.0.0.1:{}/{database}{tls}", self.port)
    }

    /// A root connection (over TLS, trusting the test CA, when TLS-only).
    pub async fn connect(&self, database: &str) -> mysql_async::Result<mysql_async::Conn> {
        let opts = mysql_async::Opts::from_url(&self.url(database)).unwrap();
        let mut opts = mysql_async::OptsBuilder::from_opts(opts);
        if let Some(tls) = &self.tls {
            let trust =
                mysql_async::SslOpts::default().with_root_certs(vec![tls.ca.clone().into()]);
            opts = opts.ssl_opts(trust);
        }
        mysql_async::Conn::new(opts).await
    }

    /// Starts the server on its data directory and waits until it answers.
    pub async fn resume(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut command = Command::new("/usr/sbin/mariadbd");
        command
            .args([
                "--no-defaults",
                "--user=root",
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
            ])
            .arg(format!("--port={}", self.port))
            .arg(format!("--datadir={}", self.dir.join("data").display()))
            .arg(format!(
                "--socket={}",
                self.dir.join("mysqld.sock").display()
            ))
            .arg(format!(
                "--pid-file={}",
                self.dir.join("mysqld.pid").display()
            ))
            .arg(format!(
                "--log-error={}",
                self.dir.join("error.log").display()
            ));
        if let Some(tls) = &self.tls {
            command
                .arg(format!("--ssl-ca={}", tls.ca.display()))
                .arg(format!("--ssl-cert={}", tls.cert.display()))
                .arg(format!("--ssl-key={}", tls.key.display()))
                .arg("--require-secure-transport=ON");
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mariadbd starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(conn) = self.connect("mysql").await {
                let _ = conn.disconnect().await;
                return;
            }
            assert!(
                Instant::now() < deadline,
                "mariadbd on port {} did not answer within 30 s",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the server cleanly (SIGTERM) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for MariaDbServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
